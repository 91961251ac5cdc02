"""Driving a running calltrack app over HTTP, signed as each provider signs.

The provider harnesses (:class:`~calltrack.testing.fake.FakeHarness` and one per provider
adapter) make requests signed exactly as the provider makes them. This module sends them to
a live server (:class:`HttpSender`) or straight into an app (:class:`WsgiSender`), and plays
whole calls with them (:func:`play_call`), whatever the provider. ``calltrack simulate``, the
HTTP tests and the load test are built on it; so can an application's own tests be.
"""

from __future__ import annotations

import http.client
import importlib
import io
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from calltrack.domain.model import DialStatus
from calltrack.errors import ConfigurationError
from calltrack.ports import Document, WebhookRequest

if TYPE_CHECKING:
    from calltrack.testing.provider_contract import ProviderHarness
    from calltrack.webhooks import WsgiApp

__all__ = [
    "HARNESSES",
    "HttpSender",
    "PlayedCall",
    "Signed",
    "WsgiSender",
    "available_harnesses",
    "harness_base_url",
    "load_harness",
    "play_call",
]

Signed = tuple[str, WebhookRequest]
"""A webhook name (the path's second segment) and a request signed for it."""

HARNESSES: Mapping[str, str] = {
    "fake": "calltrack.testing.fake:FakeHarness",
    "twilio": "calltrack.testing.twilio:TwilioHarness",
    "plivo": "calltrack.testing.plivo:PlivoHarness",
    "vonage": "calltrack.testing.vonage:VonageHarness",
}
"""Where each provider's harness lives, by provider name."""

_HOP_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding"})


def load_harness(name: str) -> ProviderHarness:
    """Make the harness of provider ``name``.

    Raises:
        ConfigurationError: If no harness of that name exists or it cannot be imported.
    """
    try:
        target = HARNESSES[name]
    except KeyError:
        known = ", ".join(sorted(HARNESSES))
        raise ConfigurationError(f"no harness for provider {name!r}; known: {known}") from None
    module, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"the {name} harness is not available: {exc}") from None
    harness: ProviderHarness = cls()
    return harness


def available_harnesses() -> dict[str, Callable[[], ProviderHarness]]:
    """The providers whose harness can be imported here, each with a way to make one."""
    found: dict[str, Callable[[], ProviderHarness]] = {}
    for name in HARNESSES:
        try:
            load_harness(name)
        except ConfigurationError:
            continue
        found[name] = lambda name=name: load_harness(name)  # type: ignore[misc]
    return found


def harness_base_url(harness: ProviderHarness) -> str:
    """The public URL of the app's root that the harness signs its requests for."""
    name, request = harness.whisper("CA-base")
    return split_signed_url(request.url, harness.provider.name, name)[0]


def split_signed_url(url: str, provider: str, event: str) -> tuple[str, str]:
    """Split a signed URL into the app's public root and the path (with query) below it.

    Raises:
        ValueError: If the URL's path does not contain ``/{provider}/{event}``.
    """
    parts = urlsplit(url)
    marker = f"/{provider}/{event}"
    at = parts.path.rfind(marker)
    if at < 0 or parts.path[at + len(marker) :] not in ("", "/"):
        raise ValueError(f"{url!r} is not a {provider}/{event} webhook URL")
    root = f"{parts.scheme}://{parts.netloc}{parts.path[:at]}"
    below = parts.path[at:] + (f"?{parts.query}" if parts.query else "")
    return root, below


@attrs.define
class HttpSender:
    """Sends signed requests to a live server, as the provider would.

    Args:
        root: Where the app's root is reachable from here (``"http://127.0.0.1:8080"``).
        provider: The provider's name, to find the webhook path in signed URLs.
        timeout: Seconds to wait for an answer.
    """

    root: str
    provider: str
    timeout: float = 10.0

    def __call__(self, signed: Signed) -> Document:
        """Send one request and return the answer as a document (any status)."""
        event, request = signed
        _, below = split_signed_url(request.url, self.provider, event)
        target = urlsplit(self.root)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80)
        conn.timeout = self.timeout
        try:
            headers = {k: v for k, v in request.headers.items() if k not in _HOP_HEADERS}
            conn.request(request.method, target.path.rstrip("/") + below, request.body, headers)
            answer = conn.getresponse()
            body = answer.read().decode("utf-8", errors="replace")
            media = answer.getheader("Content-Type", "")
            return Document(body, media, answer.status)
        finally:
            conn.close()


@attrs.define
class WsgiSender:
    """Sends signed requests straight into a WSGI app, without a socket.

    Args:
        app: The app.
        provider: The provider's name, to find the webhook path in signed URLs.
    """

    app: WsgiApp
    provider: str

    def __call__(self, signed: Signed) -> Document:
        """Call the app with one request and return the answer as a document."""
        event, request = signed
        _, below = split_signed_url(request.url, self.provider, event)
        path, _, query = below.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(request.body)),
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(request.body),
            "wsgi.errors": sys.stderr,
        }
        for key, value in request.headers.items():
            if key == "content-type":
                environ["CONTENT_TYPE"] = value
            elif key not in _HOP_HEADERS:
                environ["HTTP_" + key.upper().replace("-", "_")] = value
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            started.extend((status, headers))

        body = b"".join(self.app(environ, start_response)).decode("utf-8")
        status, headers = started
        media = next((v for k, v in headers if k.lower() == "content-type"), "")
        return Document(body, media, int(status.split()[0]))


@attrs.define
class PlayedCall:
    """What happened on one call played over HTTP.

    Attributes:
        provider: The provider spoken as.
        call_id: The provider's id of the caller's leg.
        statuses: The HTTP status of every webhook, in order.
        caller_heard: What the documents said to the caller, in order.
        recruiter_heard: What the whisper said to the recruiter.
        dialled: The real phone the call was forwarded to, if any.
        rejected: The first document refused or ended the call without forwarding it.
    """

    provider: str
    call_id: str
    statuses: list[int] = attrs.field(factory=list)
    caller_heard: list[str] = attrs.field(factory=list)
    recruiter_heard: list[str] = attrs.field(factory=list)
    dialled: str | None = None
    rejected: bool = False

    @property
    def ok(self) -> bool:
        """Every webhook was answered 200."""
        return all(status == 200 for status in self.statuses)


def play_call(
    send: Callable[[Signed], Document],
    harness: ProviderHarness,
    call_id: str,
    caller: str | None,
    virtual: str,
    *,
    outcome: DialStatus = DialStatus.ANSWERED,
    talk_seconds: int = 60,
    recording: bool = True,
) -> PlayedCall:
    """Play one whole call: inbound, whisper, the forwarded leg's end, the recording.

    Args:
        send: Delivers one signed request (:class:`HttpSender`, :class:`WsgiSender`).
        harness: Signs as the provider and reads its documents.
        call_id: The provider's id of the caller's leg.
        caller: The caller's number (``None`` when withheld).
        virtual: The virtual number dialled.
        outcome: How the forwarded leg ends.
        talk_seconds: How long they talk, if answered.
        recording: Report a recording after an answered call.
    """
    played = PlayedCall(harness.provider.name, call_id)

    def step(signed: Signed) -> Document | None:
        document = send(signed)
        played.statuses.append(document.status)
        return document if document.status == 200 else None

    first = step(harness.inbound(call_id, caller, virtual))
    if first is None:
        return played
    played.caller_heard += harness.spoken(first)
    played.dialled = harness.dialled(first)
    if played.dialled is None:
        played.rejected = harness.rejects(first)
        return played
    answered = outcome is DialStatus.ANSWERED
    if answered:
        whisper = step(harness.whisper(call_id))
        if whisper is not None:
            played.recruiter_heard += harness.spoken(whisper)
    ended = step(harness.dial_result(call_id, outcome, talk_seconds if answered else 0))
    if ended is not None and ended.body:
        played.caller_heard += harness.spoken(ended)
    if answered and recording:
        url = f"https://recordings.example.com/{call_id}.mp3"
        step(harness.recording(call_id, f"RE{call_id}", url, talk_seconds))
    return played
