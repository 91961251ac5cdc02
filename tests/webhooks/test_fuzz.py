"""Random requests at the WSGI app: never a 500, and nothing written unless answered 200."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calltrack.testing import FakeProvider
from calltrack.webhooks import WsgiApp

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SEGMENTS = st.sampled_from(
    ["fake", "voice", "dial", "recording", "whisper", "accept", "status", "twilio", "", "..", "%00"]
)
PATHS = st.one_of(
    st.lists(SEGMENTS, max_size=4).map(lambda parts: "/" + "/".join(parts)),
    st.text(max_size=40),
)
HEADER_NAMES = st.sampled_from(
    ["Content-Type", "X-Fake-Signature", "Host", "X-Forwarded-Proto", "X-Forwarded-Host", "A"]
)
HEADER_VALUES = st.one_of(
    st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/xml", ""]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=80),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "call_id": st.one_of(st.text(max_size=12), st.integers(), st.none()),
        "from": st.one_of(st.sampled_from(["+79031234567", "anonymous", ""]), st.text()),
        "to": st.one_of(st.sampled_from(["+74951234567", "+74950000000"]), st.text()),
        "status": st.one_of(st.sampled_from(["answered", "busy", "no-answer"]), st.text()),
        "duration": st.one_of(st.integers(), st.text(max_size=4), st.booleans()),
        "recording_id": st.text(max_size=8),
        "url": st.text(max_size=20),
        "digits": st.one_of(st.text(max_size=3), st.integers()),
    },
)


def run(app: WsgiApp, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
    }
    for key, value in headers.items():
        if key == "Content-Type":
            environ["CONTENT_TYPE"] = value
        else:
            environ["HTTP_" + key.upper().replace("-", "_")] = value
    seen: list[str] = []
    b"".join(app(environ, lambda status, _headers: seen.append(status)))
    return int(seen[0].split()[0])


class TestFuzz:
    """No input makes the app answer 500, and refused input writes nothing."""

    @SETTINGS
    @given(
        method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "BREW", ""]),
        path=PATHS,
        headers=st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=5),
        body=st.one_of(st.binary(max_size=300), JSON.map(lambda v: json.dumps(v).encode())),
    )
    def test_random_requests(
        self, fake_world: Any, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> None:
        """Anything at all: a 4xx, and no write."""
        _, storage, app = fake_world
        storage.writes.clear()
        status = run(app, method, path, headers, body)
        assert status != 500
        assert status in (400, 403, 404, 405, 413, 415)
        assert storage.writes == []

    @SETTINGS
    @given(
        event=st.sampled_from(["voice", "dial", "recording", "whisper", "accept", "status"]),
        payload=st.one_of(FIELDS, JSON),
    )
    def test_signed_garbage(self, fake_world: Any, event: str, payload: Any) -> None:
        """Correctly signed but arbitrary payloads: 200, 400 or 404, and writes only on 200."""
        tracker, storage, app = fake_world
        provider = FakeProvider(("secret-new",))
        request = provider.request(event, payload)
        storage.writes.clear()
        status = run(app, "POST", f"/fake/{event}", dict(request.headers), request.body)
        assert status in (200, 400, 404)
        if status != 200:
            assert storage.writes == []
        del tracker
