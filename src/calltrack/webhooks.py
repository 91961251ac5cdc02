"""Webhooks over HTTP, independent of any web framework.

:class:`WebhookHandler` takes a request for ``/{provider}/{event}``, verifies it with the
provider adapter, parses it into a normalized event, lets the :class:`CallTracker` decide,
and renders the decision as the provider's document. Bad input never becomes a 500 and
never writes anything: a bad signature answers 403, a malformed payload 400, an unknown
path 404, a wrong method 405, a body over the limit 413, a body of another media type 415,
a storage outage 503 (so that the provider tries its fallback URL).

On top of it sit two servers' interfaces with no web-framework dependency:
:class:`WsgiApp` (gunicorn, waitress, ``calltrack serve``) and :class:`AsgiApp` (uvicorn,
hypercorn). :func:`create_wsgi_app` and :func:`create_asgi_app` build them from the
environment or a TOML file (see :mod:`calltrack.config`)::

    gunicorn 'calltrack.webhooks:create_wsgi_app()'
    uvicorn --factory calltrack.webhooks:create_asgi_app
"""

from __future__ import annotations

import asyncio
import http
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

import attrs

from calltrack.domain.events import InboundCall
from calltrack.errors import (
    CalltrackError,
    InvalidSignature,
    MalformedWebhook,
    StorageError,
    UnknownCall,
)
from calltrack.ports import Document, Provider, WebhookRequest
from calltrack.tracker import CallTracker

if TYPE_CHECKING:
    from calltrack.config import AppConfig

__all__ = [
    "ACCEPTED_MEDIA_TYPES",
    "DEFAULT_MAX_BODY",
    "HEALTH_PATH",
    "AsgiApp",
    "HttpRequest",
    "HttpResponse",
    "WebhookHandler",
    "WebhookResponse",
    "WsgiApp",
    "create_asgi_app",
    "create_wsgi_app",
    "mask_phone",
    "mask_phones_in",
]

log = logging.getLogger("calltrack.webhooks")

DEFAULT_MAX_BODY = 64 * 1024
"""The largest request body accepted by default, in bytes."""

ACCEPTED_MEDIA_TYPES = frozenset({"application/x-www-form-urlencoded", "application/json"})
"""Media types a webhook body may have; providers send one of these (or no body at all)."""

HEALTH_PATH = "/healthz"
"""Answers ``GET`` with 200 ``ok`` without touching the storage, for load balancers."""

_TEXT = "text/plain; charset=utf-8"
_ALLOWED_METHODS = ("GET", "POST")
_PHONE_RUN = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_MASK_HEAD = 5
_MASK_TAIL = 2


def mask_phone(number: str | None) -> str:
    """Hide the middle digits of a phone number for logs: ``+79031234567`` → ``+7903*****67``.

    Numbers too short to hide anything in are replaced by stars; ``None`` becomes ``-``;
    text without digits (``"anonymous"``) is shown as it is.
    """
    if not number:
        return "-"
    if not any(c.isdigit() for c in number):
        return number
    if len(number) <= _MASK_HEAD + _MASK_TAIL:
        return "*" * len(number)
    hidden = len(number) - _MASK_HEAD - _MASK_TAIL
    return number[:_MASK_HEAD] + "*" * hidden + number[-_MASK_TAIL:]


def mask_phones_in(text: str) -> str:
    """Mask everything in ``text`` that looks like a phone number (seven digits or more)."""

    def hide(match: re.Match[str]) -> str:
        run = match.group(0)
        if sum(c.isdigit() for c in run) < 7:  # noqa: PLR2004 - the shortest phone numbers
            return run
        return mask_phone(run)

    return _PHONE_RUN.sub(hide, text)


@attrs.frozen
class WebhookResponse:
    """What to send back to the provider: status, media type and body."""

    status: int
    content_type: str
    body: str

    @classmethod
    def error(cls, status: int, reason: str) -> WebhookResponse:
        """A short plain-text error; never a stack trace."""
        return cls(status, _TEXT, reason + "\n")

    @classmethod
    def of(cls, document: Document) -> WebhookResponse:
        """The response carrying a provider document."""
        return cls(document.status, document.content_type, document.body)


def _lower_keys(headers: Mapping[str, str]) -> Mapping[str, str]:
    return {k.lower(): v for k, v in headers.items()}


@attrs.frozen
class HttpRequest:
    """An HTTP request as any server hands it over, before calltrack reads it.

    Attributes:
        method: The HTTP method, as sent.
        path: The path below the app's root (WSGI ``PATH_INFO``), percent-decoded.
        query: The raw query string, without ``?``.
        headers: The headers; names are kept lower-case.
        body: The raw body (servers stop reading past the limit, see :class:`WsgiApp`).
        scheme: ``"http"`` or ``"https"``, as the server saw the connection.
        server: The host and port the server listens on (not the ``Host`` header).
    """

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_lower_keys)
    body: bytes = b""
    scheme: str = "http"
    server: tuple[str, int] = ("localhost", 80)

    def header(self, name: str) -> str | None:
        """Return a header's value, or ``None``; the name is case-insensitive."""
        return self.headers.get(name.lower())


@attrs.frozen
class HttpResponse:
    """An HTTP response for any server to send.

    Attributes:
        status: The status code.
        headers: Header pairs, ``Content-Type`` and ``Content-Length`` included.
        body: The encoded body.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def of(cls, response: WebhookResponse, *extra: tuple[str, str]) -> HttpResponse:
        """Encode a webhook response."""
        body = response.body.encode("utf-8")
        headers = (
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *extra,
        )
        return cls(response.status, headers, body)

    @property
    def status_line(self) -> str:
        """``"200 OK"``, as WSGI wants it."""
        try:
            phrase = http.HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        return f"{self.status} {phrase}"

    @property
    def text(self) -> str:
        """The body, decoded."""
        return self.body.decode("utf-8", errors="replace")


@attrs.frozen
class _Outcome:
    response: WebhookResponse
    outcome: str
    call_id: str | None = None
    caller: str | None = None


class WebhookHandler:
    """Routes provider webhooks to a tracker.

    Args:
        tracker: The tracker that decides.
        providers: The provider adapters, reached at ``/{provider.name}/{event}``.
        max_body: Bodies larger than this many bytes are refused with 413.
        public_url: The URL the providers call the app's root at, such as
            ``"https://hooks.example.com/calltrack"``. Signatures are computed on the URL the
            provider called, so behind a proxy the handler rebuilds it from this. Without it,
            the server's own address is used (never the ``Host`` header, unless
            ``trust_forwarded``).
        public_urls: Per-provider overrides of ``public_url``, by provider name.
        trust_forwarded: Rebuild the URL from ``X-Forwarded-Proto`` and ``X-Forwarded-Host``
            (or ``Host``) when no public URL is set; only behind a proxy that sets them.
        mask_phones: Hide the middle digits of phone numbers in the logs.
    """

    def __init__(
        self,
        tracker: CallTracker,
        providers: Iterable[Provider],
        *,
        max_body: int = DEFAULT_MAX_BODY,
        public_url: str | None = None,
        public_urls: Mapping[str, str] | None = None,
        trust_forwarded: bool = False,
        mask_phones: bool = True,
    ) -> None:
        """Index the providers by name."""
        self.tracker = tracker
        self.providers: Mapping[str, Provider] = {p.name: p for p in providers}
        self.max_body = max_body
        self.public_url = public_url.rstrip("/") if public_url else None
        self.public_urls = {k: v.rstrip("/") for k, v in (public_urls or {}).items()}
        self.trust_forwarded = trust_forwarded
        self.mask_phones = mask_phones

    def __repr__(self) -> str:
        """Name the providers and the public URL."""
        names = ",".join(sorted(self.providers))
        return f"<WebhookHandler providers={names} public_url={self.public_url!r}>"

    def webhook_urls(self) -> dict[str, list[str]]:
        """The URL of every webhook of every provider, to configure at the providers."""
        urls: dict[str, list[str]] = {}
        for name, provider in sorted(self.providers.items()):
            base = self.public_urls.get(name) or self.public_url or ""
            urls[name] = [f"{base}/{name}/{event}" for event in sorted(provider.events)]
        return urls

    # --- the framework-agnostic entry point ------------------------------------------
    def respond(self, request: HttpRequest) -> HttpResponse:
        """Answer one HTTP request: route, check, verify, parse, decide, render, log."""
        started = time.perf_counter()
        method = request.method.upper()
        if request.path == HEALTH_PATH and method in _ALLOWED_METHODS:
            return HttpResponse.of(WebhookResponse(200, _TEXT, "ok\n"))
        routed = self._route(request.path)
        if routed is None:
            return self._finish(None, "-", _Outcome(_error(404, "no such webhook"), "no-route"))
        provider, event = routed
        if method not in _ALLOWED_METHODS:
            outcome = _Outcome(_error(405, "method not allowed"), "bad-method")
            allow = ("Allow", ", ".join(_ALLOWED_METHODS))
            return self._finish(provider.name, event, outcome, allow, started=started)
        if len(request.body) > self.max_body:
            outcome = _Outcome(_error(413, "body too large"), "too-large")
            return self._finish(provider.name, event, outcome, started=started)
        media = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
        if request.body and media not in ACCEPTED_MEDIA_TYPES:
            outcome = _Outcome(_error(415, "unsupported media type"), "bad-media-type")
            return self._finish(provider.name, event, outcome, started=started)
        url = self.public_request_url(provider.name, request)
        webhook = WebhookRequest(method, url, request.headers, request.body)
        return self._finish(
            provider.name, event, self._dispatch(provider, event, webhook), started=started
        )

    def public_request_url(self, provider: str, request: HttpRequest) -> str:
        """The URL the provider called, which its signature covers."""
        base = self.public_urls.get(provider) or self.public_url
        if base is None:
            if self.trust_forwarded:
                scheme = _first(request.header("x-forwarded-proto")) or request.scheme
                host = _first(request.header("x-forwarded-host")) or request.header("host")
            else:
                scheme, host = request.scheme, None
            if not host:
                name, port = request.server
                default = 443 if scheme == "https" else 80
                host = name if port == default else f"{name}:{port}"
            base = f"{scheme}://{host}"
        query = f"?{request.query}" if request.query else ""
        return f"{base}{request.path}{query}"

    # --- the core, kept for callers that already hold a WebhookRequest ----------------
    def handle(self, path: str, request: WebhookRequest) -> WebhookResponse:
        """Answer one webhook request for ``path`` (``"/twilio/voice"``).

        ``request.url`` must already be the public URL the provider signed.
        """
        started = time.perf_counter()
        routed = self._route(path)
        if routed is None:
            return self._log(None, "-", _Outcome(_error(404, "no such webhook"), "no-route"))
        provider, event = routed
        if request.method.upper() not in _ALLOWED_METHODS:
            outcome = _Outcome(_error(405, "method not allowed"), "bad-method")
        elif len(request.body) > self.max_body:
            outcome = _Outcome(_error(413, "body too large"), "too-large")
        else:
            outcome = self._dispatch(provider, event, request)
        return self._log(provider.name, event, outcome, started)

    def _route(self, path: str) -> tuple[Provider, str] | None:
        parts = path.split("/")
        if len(parts) != 3 or parts[0]:  # noqa: PLR2004 - "", provider, event
            return None
        provider = self.providers.get(parts[1])
        if provider is None or parts[2] not in provider.events:
            return None
        return provider, parts[2]

    def _dispatch(  # noqa: PLR0911 - one answer per kind of failure
        self, provider: Provider, event_name: str, request: WebhookRequest
    ) -> _Outcome:
        try:
            provider.verify(request)
        except InvalidSignature as exc:
            return _Outcome(_error(403, f"invalid signature: {exc}"), "bad-signature")
        except MalformedWebhook as exc:
            return _Outcome(_error(400, f"malformed webhook: {exc}"), "malformed")
        except (ValueError, LookupError, TypeError) as exc:
            log.warning("unreadable request to %s/%s: %r", provider.name, event_name, exc)
            return _Outcome(_error(403, "invalid signature: unreadable"), "bad-signature")
        try:
            event = provider.parse(event_name, request)
        except MalformedWebhook as exc:
            return _Outcome(_error(400, f"malformed webhook: {exc}"), "malformed")
        except (ValueError, LookupError, TypeError) as exc:
            reason = mask_phones_in(repr(exc)) if self.mask_phones else repr(exc)
            log.warning("unreadable payload to %s/%s: %s", provider.name, event_name, reason)
            return _Outcome(_error(400, "malformed webhook: unreadable payload"), "malformed")
        caller = event.caller if isinstance(event, InboundCall) else None
        try:
            decision = self.tracker.handle(event)
            document = provider.render(decision)
        except UnknownCall as exc:
            return _Outcome(_error(404, str(exc)), "unknown-call", event.call_id, caller)
        except StorageError as exc:
            log.warning("storage unavailable (%s): answering 503", type(exc).__name__)
            response = _error(503, "storage unavailable, try again")
            return _Outcome(response, "storage-unavailable", event.call_id, caller)
        except CalltrackError as exc:
            if not isinstance(exc, ValueError):
                raise
            return _Outcome(_error(400, f"malformed webhook: {exc}"), "malformed", event.call_id)
        outcome = type(decision).__name__.lower()
        return _Outcome(WebhookResponse.of(document), outcome, event.call_id, caller)

    def _log(
        self, provider: str | None, event: str, outcome: _Outcome, started: float | None = None
    ) -> WebhookResponse:
        elapsed = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        level = logging.INFO if outcome.response.status < 500 else logging.WARNING  # noqa: PLR2004
        if log.isEnabledFor(level):
            caller = outcome.caller
            shown = mask_phone(caller) if self.mask_phones else (caller or "-")
            log.log(
                level,
                "webhook %s/%s call=%s from=%s -> %d %s in %.1f ms",
                provider or "-",
                event,
                outcome.call_id or "-",
                shown,
                outcome.response.status,
                outcome.outcome,
                elapsed,
            )
        return outcome.response

    def _finish(
        self,
        provider: str | None,
        event: str,
        outcome: _Outcome,
        *extra: tuple[str, str],
        started: float | None = None,
    ) -> HttpResponse:
        return HttpResponse.of(self._log(provider, event, outcome, started), *extra)


def _error(status: int, reason: str) -> WebhookResponse:
    return WebhookResponse.error(status, reason)


def _first(value: str | None) -> str | None:
    """The first of a comma-separated header's values (the client side of a proxy chain)."""
    if not value:
        return None
    return value.split(",", 1)[0].strip() or None


# --- WSGI -----------------------------------------------------------------------------
WsgiStartResponse = Callable[[str, list[tuple[str, str]]], Any]


class WsgiApp:
    """A WSGI application (PEP 3333) serving a :class:`WebhookHandler`.

    The body is read only up to the handler's limit: a ``Content-Length`` over it is
    answered 413 without reading.

    Args:
        handler: The webhook handler.
        on_close: Called by :meth:`close` (to close the storage).
    """

    def __init__(
        self, handler: WebhookHandler, *, on_close: Callable[[], None] | None = None
    ) -> None:
        """Wrap a handler."""
        self.handler = handler
        self._on_close = on_close

    def __repr__(self) -> str:
        """Name the handler."""
        return f"<WsgiApp {self.handler!r}>"

    def __call__(
        self, environ: Mapping[str, Any], start_response: WsgiStartResponse
    ) -> list[bytes]:
        """Serve one request."""
        try:
            response = self._respond(environ)
        except Exception:
            log.exception("internal error")
            response = HttpResponse.of(_error(500, "internal error"))
        start_response(response.status_line, list(response.headers))
        return [response.body]

    def _respond(self, environ: Mapping[str, Any]) -> HttpResponse:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = _wsgi_text(environ.get("PATH_INFO", ""))
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        limit = self.handler.max_body
        declared = str(environ.get("CONTENT_LENGTH") or "").strip()
        stream = environ.get("wsgi.input")
        body = b""
        if declared:
            if not declared.isdigit():
                return HttpResponse.of(_error(400, "bad Content-Length"))
            size = int(declared)
            if size > limit:
                body = b"\0" * (limit + 1)  # stands for "too large"; nothing is read
            elif size and stream is not None:
                body = stream.read(size)
        elif stream is not None and environ.get("wsgi.input_terminated"):
            body = stream.read(limit + 1)
        request = HttpRequest(
            method=method,
            path=path,
            query=str(environ.get("QUERY_STRING", "")),
            headers=headers,
            body=body,
            scheme=str(environ.get("wsgi.url_scheme", "http")),
            server=(str(environ.get("SERVER_NAME", "localhost")), _port(environ)),
        )
        return self.handler.respond(request)

    def close(self) -> None:
        """Release what the app holds (the storage)."""
        if self._on_close is not None:
            self._on_close()


def _wsgi_text(value: object) -> str:
    """WSGI hands text as latin-1 "bytes in a str"; read it as the UTF-8 it was."""
    text = str(value)
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def _port(environ: Mapping[str, Any]) -> int:
    try:
        return int(environ.get("SERVER_PORT", 80))
    except (TypeError, ValueError):
        return 80


# --- ASGI -----------------------------------------------------------------------------
AsgiReceive = Callable[[], Awaitable[MutableMapping[str, Any]]]
AsgiSend = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class AsgiApp:
    """An ASGI 3 application serving a :class:`WebhookHandler`.

    The handler talks to the storage synchronously, so each request runs in a worker
    thread and the event loop stays free. The lifespan protocol is supported: shutdown
    calls ``on_close``.

    Args:
        handler: The webhook handler.
        on_close: Called at lifespan shutdown (to close the storage).
    """

    def __init__(
        self, handler: WebhookHandler, *, on_close: Callable[[], None] | None = None
    ) -> None:
        """Wrap a handler."""
        self.handler = handler
        self._on_close = on_close

    def __repr__(self) -> str:
        """Name the handler."""
        return f"<AsgiApp {self.handler!r}>"

    async def __call__(
        self, scope: MutableMapping[str, Any], receive: AsgiReceive, send: AsgiSend
    ) -> None:
        """Serve one connection scope."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            response = await self._respond(scope, receive)
        except Exception:
            log.exception("internal error")
            response = HttpResponse.of(_error(500, "internal error"))
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [(k.lower().encode(), v.encode()) for k, v in response.headers],
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    async def _lifespan(self, receive: AsgiReceive, send: AsgiSend) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _respond(self, scope: MutableMapping[str, Any], receive: AsgiReceive) -> HttpResponse:
        headers: dict[str, str] = {}
        for key, value in scope.get("headers", ()):
            name = key.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[name] = f"{headers[name]}, {text}" if name in headers else text
        limit = self.handler.max_body
        declared = headers.get("content-length", "").strip()
        if declared and not declared.isdigit():
            return HttpResponse.of(_error(400, "bad Content-Length"))
        chunks: list[bytes] = []
        size = 0
        too_large = bool(declared) and int(declared) > limit
        while not too_large:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                too_large = True
                break
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"\0" * (limit + 1) if too_large else b"".join(chunks)
        path = str(scope.get("path", ""))
        root = str(scope.get("root_path", ""))
        if root and path.startswith(root):
            path = path[len(root) :]
        server = scope.get("server") or ("localhost", 80)
        request = HttpRequest(
            method=str(scope.get("method", "GET")),
            path=path,
            query=bytes(scope.get("query_string", b"")).decode("latin-1"),
            headers=headers,
            body=body,
            scheme=str(scope.get("scheme", "http")),
            server=(str(server[0]), int(server[1] or 80)),
        )
        return await asyncio.to_thread(self.handler.respond, request)

    def close(self) -> None:
        """Release what the app holds (the storage)."""
        if self._on_close is not None:
            self._on_close()


# --- factories ------------------------------------------------------------------------
def create_wsgi_app(config: AppConfig | str | None = None) -> WsgiApp:
    """Build the WSGI app from a configuration.

    Args:
        config: An :class:`~calltrack.config.AppConfig`, the path of a TOML file, or
            ``None`` to read ``$CALLTRACK_CONFIG`` (if set) and the environment.

    Raises:
        ConfigurationError: Naming the setting that is missing or wrong.
    """
    from calltrack.config import build_handler, load_config  # noqa: PLC0415 - no import cycle

    handler, close = build_handler(load_config(config))
    return WsgiApp(handler, on_close=close)


def create_asgi_app(config: AppConfig | str | None = None) -> AsgiApp:
    """Build the ASGI app from a configuration; see :func:`create_wsgi_app`.

    Raises:
        ConfigurationError: Naming the setting that is missing or wrong.
    """
    from calltrack.config import build_handler, load_config  # noqa: PLC0415 - no import cycle

    handler, close = build_handler(load_config(config))
    return AsgiApp(handler, on_close=close)
