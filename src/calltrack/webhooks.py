"""Webhooks over HTTP, independent of any web framework.

:class:`WebhookHandler` takes a request for ``/{provider}/{event}``, verifies it with the
provider adapter, parses it into a normalized event, lets the :class:`CallTracker` decide,
and renders the decision as the provider's document. Bad input never becomes a 500 and
never writes anything: a bad signature answers 403, a malformed payload 400, an unknown
path 404, a wrong method 405, a body over the limit 413, a storage outage 503 (so that the
provider tries its fallback URL).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping

import attrs

from calltrack.errors import (
    InvalidSignature,
    MalformedWebhook,
    StorageUnavailable,
    UnknownCall,
)
from calltrack.ports import Document, Provider, WebhookRequest
from calltrack.tracker import CallTracker

__all__ = ["DEFAULT_MAX_BODY", "WebhookHandler", "WebhookResponse"]

log = logging.getLogger("calltrack.webhooks")

DEFAULT_MAX_BODY = 64 * 1024
"""The largest request body accepted by default, in bytes."""

_TEXT = "text/plain; charset=utf-8"


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


class WebhookHandler:
    """Routes provider webhooks to a tracker.

    Args:
        tracker: The tracker that decides.
        providers: The provider adapters, reached at ``/{provider.name}/...``.
        max_body: Bodies larger than this many bytes are refused with 413.
    """

    def __init__(
        self,
        tracker: CallTracker,
        providers: Iterable[Provider],
        *,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        """Index the providers by name."""
        self.tracker = tracker
        self.providers: Mapping[str, Provider] = {p.name: p for p in providers}
        self.max_body = max_body

    def handle(self, path: str, request: WebhookRequest) -> WebhookResponse:
        """Answer one webhook request for ``path`` (``"/twilio/voice"``)."""
        started = time.perf_counter()
        parts = [p for p in path.split("/") if p]
        provider = self.providers.get(parts[0]) if len(parts) == 2 else None  # noqa: PLR2004
        if provider is None or parts[1] not in provider.events:
            return WebhookResponse.error(404, "no such webhook")
        event_name = parts[1]
        if request.method.upper() not in ("POST", "GET"):
            return WebhookResponse.error(405, "method not allowed")
        if len(request.body) > self.max_body:
            return WebhookResponse.error(413, "body too large")
        outcome = "ok"
        try:
            provider.verify(request)
            event = provider.parse(event_name, request)
            decision = self.tracker.handle(event)
            response = WebhookResponse.of(provider.render(decision))
            outcome = type(decision).__name__.lower()
        except InvalidSignature as exc:
            outcome = "bad-signature"
            response = WebhookResponse.error(403, f"invalid signature: {exc}")
        except MalformedWebhook as exc:
            outcome = "malformed"
            response = WebhookResponse.error(400, f"malformed webhook: {exc}")
        except UnknownCall as exc:
            outcome = "unknown-call"
            response = WebhookResponse.error(404, str(exc))
        except StorageUnavailable:
            outcome = "storage-unavailable"
            log.exception("storage unavailable while handling %s", path)
            response = WebhookResponse.error(503, "storage unavailable, try again")
        log.info(
            "webhook %s/%s -> %d %s in %.1f ms",
            parts[0],
            event_name,
            response.status,
            outcome,
            (time.perf_counter() - started) * 1000,
        )
        return response
