"""Every status the HTTP edge answers, and that only a 200 ever writes anything."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest

from calltrack import CallTracker
from calltrack.domain.model import CallRoute
from calltrack.testing import FakeProvider
from calltrack.testing.http import WsgiSender, harness_base_url, load_harness
from calltrack.webhooks import WsgiApp

VIRTUAL = "+74951234567"
CALLER = "+79031234567"

World = tuple[CallTracker, Any, WsgiApp]


def environ(  # noqa: PLR0917 - a request spelled out
    method: str = "POST",
    path: str = "/fake/voice",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    query: str = "",
    length: str | None = None,
) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)) if length is None else length,
    }
    for key, value in (headers or {}).items():
        if key.lower() == "content-type":
            env["CONTENT_TYPE"] = value
        else:
            env["HTTP_" + key.upper().replace("-", "_")] = value
    return env


def call(app: WsgiApp, env: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    seen: list[Any] = []
    body = b"".join(app(env, lambda status, headers: seen.extend((status, headers))))
    return int(seen[0].split()[0]), dict(seen[1]), body.decode()


def signed_environ(event: str, payload: dict[str, Any]) -> dict[str, Any]:
    request = load_harness("fake").provider.request(event, payload)  # type: ignore[attr-defined]
    return environ(
        request.method, f"/fake/{event}", request.body, dict(request.headers), length=None
    )


def inbound(call_id: str = "CA1", caller: str = CALLER) -> dict[str, Any]:
    return signed_environ("voice", {"call_id": call_id, "from": caller, "to": VIRTUAL})


class TestStatuses:
    """Each failure has its own status, a short reason, and writes nothing."""

    def test_signed_webhook_answers_the_document(self, fake_world: World) -> None:
        """A signed inbound call answers 200 with the provider's document and logs the call."""
        tracker, storage, app = fake_world
        status, headers, body = call(app, inbound())
        assert status == 200
        assert headers["Content-Type"] == "application/json"
        assert headers["Content-Length"] == str(len(body.encode()))
        assert json.loads(body)["actions"][0]["say"].startswith("You are calling")
        assert tracker.call("fake", "CA1").route is CallRoute.FORWARDED
        assert "add_call" in storage.writes

    def test_bad_signature_is_403(self, fake_world: World) -> None:
        """A wrong or missing signature answers 403."""
        _, storage, app = fake_world
        env = inbound()
        env["HTTP_X_FAKE_SIGNATURE"] = "0" * 64
        assert call(app, env)[0] == 403
        del env["HTTP_X_FAKE_SIGNATURE"]
        env["wsgi.input"] = io.BytesIO(b"{}")
        env["CONTENT_LENGTH"] = "2"
        status, _, body = call(app, env)
        assert status == 403
        assert "signature" in body
        assert storage.writes == []

    def test_signature_of_another_url_is_403(self, fake_world: World) -> None:
        """The URL is rebuilt from the public URL: a request signed for another host fails."""
        tracker, storage, _ = fake_world
        assert call(_app_with_public(tracker, "https://other.example.com"), inbound())[0] == 403
        assert storage.writes == []
        assert call(_app_with_public(tracker, "https://calls.example.com"), inbound())[0] == 200

    def test_malformed_is_400_with_a_short_reason(self, fake_world: World) -> None:
        """A signed payload without a required field answers 400 naming it, no traceback."""
        _, storage, app = fake_world
        status, headers, body = call(app, signed_environ("voice", {"call_id": "CA1"}))
        assert status == 400
        assert headers["Content-Type"].startswith("text/plain")
        assert "'to'" in body
        assert "Traceback" not in body
        assert len(body) < 200
        status, _, _ = call(app, signed_environ("dial", {"call_id": "CA1", "duration": -3}))
        assert status == 400
        assert storage.writes == []

    def test_unknown_paths_and_providers_are_404(self, fake_world: World) -> None:
        """Unknown providers, events, and paths of another shape answer 404."""
        _, storage, app = fake_world
        for path in ("/", "/fake", "/twilio-x/voice", "/fake/nope", "/fake/voice/x", "//voice"):
            assert call(app, environ(path=path))[0] == 404, path
        assert storage.writes == []

    def test_event_for_an_unknown_call_is_404(self, fake_world: World) -> None:
        """A dial result for a call never seen answers 404 and writes nothing."""
        _, storage, app = fake_world
        env = signed_environ("dial", {"call_id": "CA-never", "status": "answered"})
        assert call(app, env)[0] == 404
        assert storage.writes == []

    def test_wrong_method_is_405(self, fake_world: World) -> None:
        """Only GET and POST are served; 405 says which are allowed."""
        _, storage, app = fake_world
        for method in ("PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
            status, headers, _ = call(app, environ(method=method))
            assert status == 405
            assert headers["Allow"] == "GET, POST"
        assert storage.writes == []

    def test_body_over_the_limit_is_413_without_reading_it(self, fake_world: World) -> None:
        """A Content-Length over the limit answers 413 before the body is read."""
        _, storage, app = fake_world
        env = environ(body=b"x" * 10, length=str(64 * 1024 + 1))
        env["CONTENT_TYPE"] = "application/json"
        assert call(app, env)[0] == 413
        assert env["wsgi.input"].tell() == 0
        big = inbound()
        body = b'{"call_id": "CA1", "pad": "' + b"x" * (64 * 1024) + b'"}'
        big.update(CONTENT_LENGTH=str(len(body)), **{"wsgi.input": io.BytesIO(body)})
        assert call(app, big)[0] == 413
        assert storage.writes == []

    def test_limit_is_a_setting(self, fake_world: World) -> None:
        """max_body sets the limit: a signed webhook over a small limit is refused."""
        tracker, storage, app = fake_world
        app.handler.max_body = 16
        assert call(app, inbound())[0] == 413
        assert storage.writes == []
        del tracker

    def test_wrong_content_type_is_415(self, fake_world: World) -> None:
        """A body that is neither form-encoded nor JSON answers 415."""
        _, storage, app = fake_world
        for media in ("text/xml", "multipart/form-data; boundary=x", ""):
            env = inbound()
            env["CONTENT_TYPE"] = media
            assert call(app, env)[0] == 415, media
        assert storage.writes == []

    def test_bad_content_length_is_400(self, fake_world: World) -> None:
        """A Content-Length that is not a number answers 400."""
        _, _, app = fake_world
        assert call(app, environ(length="ten"))[0] == 400

    def test_storage_outage_is_503(self, fake_world: World) -> None:
        """The database down answers 503, so the provider tries its fallback URL."""
        tracker, storage, app = fake_world
        storage.down = True
        status, _, body = call(app, inbound())
        assert status == 503
        assert "storage" in body
        storage.down = False
        assert call(app, inbound())[0] == 200
        assert tracker.call("fake", "CA1").route is CallRoute.FORWARDED

    def test_outage_mid_transaction_leaves_nothing_half_written(self, fake_world: World) -> None:
        """A failure after the first write of a unit of work rolls all of it back."""
        tracker, storage, app = fake_world
        assert call(app, inbound())[0] == 200
        storage.fail_on_write = "update_call"
        storage.writes.clear()
        answered = signed_environ("dial", {"call_id": "CA1", "status": "answered", "duration": 9})
        assert call(app, answered)[0] == 503
        assert storage.writes[:3] == ["claim_event", "add_response", "add_notification"]
        assert tracker.notifications() == []
        assert tracker.responses(vacancy_id="vac-1") == []
        assert tracker.call("fake", "CA1").mark is None
        storage.fail_on_write = None
        again = signed_environ("dial", {"call_id": "CA1", "status": "answered", "duration": 9})
        assert call(app, again)[0] == 200
        assert len(tracker.responses(vacancy_id="vac-1")) == 1

    def test_health(self, fake_world: World) -> None:
        """GET /healthz answers 200 ok without touching the storage."""
        _, storage, app = fake_world
        storage.down = True
        status, _, body = call(app, environ("GET", "/healthz"))
        assert (status, body) == (200, "ok\n")

    def test_unexpected_error_is_500_without_details(self, fake_world: World) -> None:
        """A bug (not bad input) answers a bare 500, never a traceback."""
        tracker, _, app = fake_world

        def broken(event: object) -> object:
            raise RuntimeError("secret detail")

        tracker.handle = broken  # type: ignore[method-assign, assignment]
        status, _, body = call(app, inbound())
        assert status == 500
        assert "secret" not in body


def _app_with_public(tracker: CallTracker, public: str) -> WsgiApp:
    from calltrack.webhooks import WebhookHandler  # noqa: PLC0415

    return WsgiApp(WebhookHandler(tracker, [FakeProvider(("secret-new",))], public_url=public))


class TestPublicUrl:
    """The signed URL is rebuilt from configuration, not from what the client claims."""

    def test_host_header_is_not_trusted_by_default(self, tracker_factory: Any) -> None:
        """Without a public URL, a Host header naming the signed host does not help."""
        from calltrack.webhooks import WebhookHandler  # noqa: PLC0415

        provider = FakeProvider(("s",), base_url="https://calls.example.com")
        app = WsgiApp(WebhookHandler(tracker_factory(), [provider]))
        request = provider.request("voice", {"call_id": "C", "from": CALLER, "to": VIRTUAL})
        env = environ(body=request.body, headers=dict(request.headers))
        env["HTTP_HOST"] = "calls.example.com"
        env["HTTP_X_FORWARDED_PROTO"] = "https"
        assert call(app, env)[0] == 403

    def test_forwarded_headers_when_trusted(self, tracker_factory: Any) -> None:
        """With trust_forwarded, X-Forwarded-Proto and Host rebuild the URL."""
        from calltrack.webhooks import WebhookHandler  # noqa: PLC0415

        provider = FakeProvider(("s",), base_url="https://calls.example.com")
        handler = WebhookHandler(tracker_factory(), [provider], trust_forwarded=True)
        request = provider.request("voice", {"call_id": "C", "from": CALLER, "to": VIRTUAL})
        env = environ(body=request.body, headers=dict(request.headers))
        env["HTTP_HOST"] = "calls.example.com"
        env["HTTP_X_FORWARDED_PROTO"] = "https, http"
        assert call(WsgiApp(handler), env)[0] == 200

    def test_public_url_with_a_prefix(self, tracker_factory: Any) -> None:
        """A public URL with a path prefix is where the provider's signed URL points."""
        from calltrack.webhooks import WebhookHandler  # noqa: PLC0415

        provider = FakeProvider(("s",), base_url="https://hooks.example.com/ct")
        handler = WebhookHandler(
            tracker_factory(), [provider], public_url="https://hooks.example.com/ct/"
        )
        request = provider.request("voice", {"call_id": "C", "from": CALLER, "to": VIRTUAL})
        assert WsgiSender(WsgiApp(handler), "fake")(("voice", request)).status == 200

    def test_harness_base_url(self) -> None:
        """The harness's base URL is the part of its signed URLs above the webhook path."""
        assert harness_base_url(load_harness("fake")) == "https://calls.example.com"

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("", "https://h.example.com/fake/voice"),
            ("a=1&b=2", "https://h.example.com/fake/voice?a=1&b=2"),
        ],
    )
    def test_query_is_kept(self, tracker_factory: Any, query: str, expected: str) -> None:
        """The raw query string is part of the rebuilt URL, byte for byte."""
        from calltrack.webhooks import HttpRequest, WebhookHandler  # noqa: PLC0415

        handler = WebhookHandler(
            tracker_factory(), [FakeProvider()], public_url="https://h.example.com"
        )
        request = HttpRequest("POST", "/fake/voice", query)
        assert handler.public_request_url("fake", request) == expected
