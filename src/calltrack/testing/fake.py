"""The provider's side of the fake provider's wire, for tests: see :class:`FakeHarness`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from calltrack.domain.model import DialStatus
from calltrack.ports import Document, WebhookRequest
from calltrack.testing._provider import DIAL_STATUS_WORDS, SIGNATURE_HEADER, FakeProvider

__all__ = ["FakeHarness"]

Signed = tuple[str, WebhookRequest]


class FakeHarness:
    """Signs fake webhooks and reads fake documents; satisfies ``ProviderHarness``."""

    sdk_modules: Sequence[str] = ("twilio", "plivo", "vonage", "vonage_voice")
    missed_statuses: Sequence[DialStatus] = (
        DialStatus.NO_ANSWER,
        DialStatus.BUSY,
        DialStatus.FAILED,
        DialStatus.CANCELED,
        DialStatus.NOT_ACCEPTED,
    )

    def __init__(self) -> None:
        """Sign with a fresh FakeProvider that knows two secrets."""
        self.provider = FakeProvider(("secret-new", "secret-old"))

    def _signed(self, event: str, payload: Mapping[str, Any]) -> Signed:
        return event, self.provider.request(event, payload)

    def inbound(self, call_id: str, caller: str | None, virtual: str) -> Signed:
        """A signed ``voice`` webhook."""
        return self._signed(
            "voice", {"call_id": call_id, "from": caller or "anonymous", "to": virtual}
        )

    def dial_result(self, call_id: str, status: DialStatus, talk_seconds: int) -> Signed:
        """A signed ``dial`` webhook."""
        payload = {
            "call_id": call_id,
            "status": DIAL_STATUS_WORDS[status],
            "duration": talk_seconds,
        }
        return self._signed("dial", payload)

    def recording(self, call_id: str, recording_id: str, url: str, duration: int) -> Signed:
        """A signed ``recording`` webhook."""
        payload = {
            "call_id": call_id,
            "recording_id": recording_id,
            "url": url,
            "duration": duration,
        }
        return self._signed("recording", payload)

    def whisper(self, call_id: str) -> Signed:
        """A signed ``whisper`` request."""
        return self._signed("whisper", {"call_id": call_id})

    def accept(self, call_id: str, digits: str) -> Signed:
        """A signed ``accept`` webhook."""
        return self._signed("accept", {"call_id": call_id, "digits": digits})

    def tampered(self, request: WebhookRequest) -> Mapping[str, WebhookRequest]:
        """Variants that must fail verification."""
        headers = dict(request.headers)
        other = dict(headers)
        other[SIGNATURE_HEADER.lower()] = self.provider.sign(request.url, request.body, "wrong")
        broken = dict(headers)
        broken[SIGNATURE_HEADER.lower()] = "0" * 64
        return {
            "url": attrs.evolve(request, url=request.url + "?x=1"),
            "param": attrs.evolve(request, body=request.body.replace(b"CA", b"CB")),
            "signature": attrs.evolve(request, headers=broken),
            "secret": attrs.evolve(request, headers=other),
        }

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        """The request without its signature."""
        headers = {k: v for k, v in request.headers.items() if k != SIGNATURE_HEADER.lower()}
        return attrs.evolve(request, headers=headers)

    def malformed(self) -> Sequence[tuple[Signed, str]]:
        """Signed requests missing a required field."""
        return [
            (self._signed("voice", {"call_id": "CA-1", "from": "+79031234567"}), "to"),
            (self._signed("dial", {"call_id": "CA-1"}), "status"),
            (self._signed("recording", {"call_id": "CA-1", "url": "https://x"}), "recording_id"),
            (self._signed("whisper", {}), "call_id"),
        ]

    def _actions(self, document: Document) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = json.loads(document.body)["actions"]
        return actions

    def spoken(self, document: Document) -> list[str]:
        """The texts a document says."""
        return [a["say"] for a in self._actions(document) if "say" in a]

    def dialled(self, document: Document) -> str | None:
        """The number a document dials."""
        return next((a["dial"] for a in self._actions(document) if "dial" in a), None)

    def rejects(self, document: Document) -> bool:
        """Whether a document ends the call without forwarding."""
        return any("reject" in a or "hangup" in a for a in self._actions(document))

    def hot_path_script(self) -> str:
        """Code that verifies, parses and renders with FakeProvider alone."""
        return """
            from calltrack.testing import FakeProvider
            p = FakeProvider()
            r = p.request("voice", {"call_id": "CA1", "from": "+79031234567", "to": "+74951234567"})
            p.verify(r)
            p.parse("voice", r)
            from calltrack.domain.decisions import Announce, Prompt
            p.render(Announce(Prompt("hello", "en-US")))
        """
