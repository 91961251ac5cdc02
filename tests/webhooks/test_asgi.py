"""The ASGI app: the same answers as the WSGI one, a streamed body limit, the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from calltrack.testing.http import load_harness
from calltrack.webhooks import AsgiApp

VIRTUAL = "+74951234567"


def drive(  # noqa: PLR0917 - a request spelled out
    app: AsgiApp,
    method: str,
    path: str,
    headers: dict[str, str],
    chunks: list[bytes],
    root_path: str = "",
) -> tuple[int, dict[str, str], bytes]:
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks or [b""])
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        if messages:
            return messages.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": root_path + path,
        "root_path": root_path,
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    start, body = sent
    return (
        start["status"],
        {k.decode(): v.decode() for k, v in start["headers"]},
        body["body"],
    )


def signed(event: str, payload: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    request = load_harness("fake").provider.request(event, payload)  # type: ignore[attr-defined]
    return dict(request.headers), request.body


class TestAsgi:
    """The ASGI app answers like the WSGI app."""

    def test_signed_call_and_errors(self, fake_world: Any) -> None:
        """200 with the document; 403, 404, 405, 415 as for WSGI."""
        tracker, storage, wsgi = fake_world
        app = AsgiApp(wsgi.handler)
        headers, body = signed("voice", {"call_id": "CA1", "from": "+79031234567", "to": VIRTUAL})
        status, sent_headers, answer = drive(app, "POST", "/fake/voice", headers, [body])
        assert status == 200
        assert sent_headers["content-type"] == "application/json"
        assert b"dial" in answer
        assert tracker.call("fake", "CA1").vacancy_id == "vac-1"
        storage.writes.clear()
        bad = {**headers, "x-fake-signature": "0" * 64}
        assert drive(app, "POST", "/fake/voice", bad, [body])[0] == 403
        assert drive(app, "POST", "/nope/voice", headers, [body])[0] == 404
        assert drive(app, "PUT", "/fake/voice", headers, [body])[0] == 405
        xml = {**headers, "content-type": "text/xml"}
        assert drive(app, "POST", "/fake/voice", xml, [body])[0] == 415
        assert storage.writes == []

    def test_streamed_body_over_the_limit_is_413(self, fake_world: Any) -> None:
        """A body sent in chunks with no Content-Length is cut off at the limit."""
        _, storage, wsgi = fake_world
        app = AsgiApp(wsgi.handler)
        headers = {"content-type": "application/json"}
        chunks = [b"x" * 16 * 1024] * 5
        assert drive(app, "POST", "/fake/voice", headers, chunks)[0] == 413
        declared = {**headers, "content-length": str(10**9)}
        assert drive(app, "POST", "/fake/voice", declared, [b"{}"])[0] == 413
        assert storage.writes == []

    def test_root_path_is_stripped(self, fake_world: Any) -> None:
        """Mounted under a prefix, the path below the prefix is routed."""
        _, _, wsgi = fake_world
        app = AsgiApp(wsgi.handler)
        headers, body = signed("voice", {"call_id": "CA2", "from": "+79031234567", "to": VIRTUAL})
        assert drive(app, "POST", "/fake/voice", headers, [body], root_path="/hooks")[0] == 200

    def test_lifespan_closes_on_shutdown(self, fake_world: Any) -> None:
        """Lifespan startup completes; shutdown calls on_close and completes."""
        _, _, wsgi = fake_world
        closed: list[bool] = []
        app = AsgiApp(wsgi.handler, on_close=lambda: closed.append(True))
        inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
        sent: list[str] = []

        async def receive() -> MutableMapping[str, Any]:
            return inbox.pop(0)

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message["type"])

        asyncio.run(app({"type": "lifespan"}, receive, send))
        assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
        assert closed == [True]
