r"""FakeProvider: a provider adapter with a small webhook format of its own, for tests.

It goes through the same path as the real adapters (verify, parse, render), so a test suite
can drive whole calls without any telephony account.

Webhook format: a ``POST`` with a JSON object body to ``{base_url}/fake/{event}``, signed in
the header ``X-Fake-Signature`` as ``hex(HMAC-SHA256(secret, url + "\\n" + body))``.

========== =========================================================================
event      body fields
========== =========================================================================
voice      ``call_id``, ``from`` (may be empty or ``"anonymous"``), ``to``
dial       ``call_id``, ``status`` (``answered``, ``no-answer``, ``busy``, ``failed``,
           ``canceled``, ``not-accepted``), optional ``duration``, ``dial_call_id``
recording  ``call_id``, ``recording_id``, ``url``, optional ``duration``
whisper    ``call_id``
accept     ``call_id``, ``digits``
status     ``call_id``, ``status``
========== =========================================================================

Documents are JSON: ``{"actions": [...]}`` with actions ``{"say": text, "language": tag}``,
``{"record": true}``, ``{"dial": number, "caller_id", "timeout", "whisper_url",
"action_url", "accept_key"}``, ``{"gather": key, "timeout", "action_url"}``,
``{"reject": "busy"|"rejected"}`` and ``{"hangup": true}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from calltrack.domain.decisions import (
    Acknowledge,
    Announce,
    Bridge,
    Decision,
    Forward,
    Hangup,
    Prompt,
    Reject,
    Whisper,
)
from calltrack.domain.events import (
    AcceptKey,
    CallProgress,
    DialResult,
    InboundCall,
    ProviderEvent,
    RecordingReady,
    WhisperRequest,
)
from calltrack.domain.model import DialStatus
from calltrack.errors import ConfigurationError, InvalidSignature, MalformedWebhook
from calltrack.ports import Document, WebhookRequest

__all__ = ["FakeProvider"]

SIGNATURE_HEADER = "X-Fake-Signature"
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

_STATUSES: Mapping[str, DialStatus] = {
    "answered": DialStatus.ANSWERED,
    "completed": DialStatus.ANSWERED,
    "no-answer": DialStatus.NO_ANSWER,
    "busy": DialStatus.BUSY,
    "failed": DialStatus.FAILED,
    "canceled": DialStatus.CANCELED,
    "not-accepted": DialStatus.NOT_ACCEPTED,
}
DIAL_STATUS_WORDS: Mapping[DialStatus, str] = {
    DialStatus.ANSWERED: "answered",
    DialStatus.NO_ANSWER: "no-answer",
    DialStatus.BUSY: "busy",
    DialStatus.FAILED: "failed",
    DialStatus.CANCELED: "canceled",
    DialStatus.NOT_ACCEPTED: "not-accepted",
    DialStatus.UNKNOWN: "mystery",
}


class FakeProvider:
    """A provider adapter for tests and demos; see the module docstring for its format.

    Args:
        secrets: Signing secrets; the first signs, any verifies (so they can be rotated).
        base_url: The public URL its webhooks live under.
        verify_signatures: Switching this off needs saying so, and warns.
    """

    name = "fake"
    events = frozenset({"voice", "dial", "recording", "whisper", "accept", "status"})

    def __init__(
        self,
        secrets: Sequence[str] = ("fake-secret",),
        *,
        base_url: str = "https://calls.example.com",
        verify_signatures: bool = True,
    ) -> None:
        """Configure the fake provider."""
        if isinstance(secrets, str):
            secrets = (secrets,)
        if not secrets:
            raise ConfigurationError("FakeProvider needs at least one secret")
        self.secrets = tuple(secrets)
        self.base_url = base_url.rstrip("/")
        self.verify_signatures = verify_signatures
        if not verify_signatures:
            warnings.warn(
                "FakeProvider signature verification is off", RuntimeWarning, stacklevel=2
            )

    def __repr__(self) -> str:
        """Name the base URL, never the secrets."""
        return f"<FakeProvider {self.base_url}>"

    # --- signing (the provider's side) -----------------------------------------------
    def url(self, event: str) -> str:
        """The public URL of webhook ``event``."""
        return f"{self.base_url}/{self.name}/{event}"

    def sign(self, url: str, body: bytes, secret: str | None = None) -> str:
        """Return the signature the fake provider sends for ``url`` and ``body``."""
        key = (secret or self.secrets[0]).encode()
        return hmac.new(key, url.encode() + b"\n" + body, hashlib.sha256).hexdigest()

    def request(self, event: str, payload: Mapping[str, Any]) -> WebhookRequest:
        """Build the signed request the fake provider would send for ``event``."""
        url = self.url(event)
        body = _JSON.encode(payload).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: self.sign(url, body)}
        return WebhookRequest("POST", url, headers, body)

    # --- the adapter -----------------------------------------------------------------
    def verify(self, request: WebhookRequest) -> None:
        """Check ``X-Fake-Signature`` against every secret, in constant time."""
        if not self.verify_signatures:
            return
        given = request.header(SIGNATURE_HEADER)
        if not given:
            raise InvalidSignature(f"the {SIGNATURE_HEADER} header is missing")
        for secret in self.secrets:
            if hmac.compare_digest(given, self.sign(request.url, request.body, secret)):
                return
        raise InvalidSignature(f"{SIGNATURE_HEADER} matches no configured secret")

    def parse(self, event: str, request: WebhookRequest) -> ProviderEvent:
        """Parse a verified request into a normalized event."""
        try:
            data = request.json()
        except ValueError:
            raise MalformedWebhook("the body is not JSON") from None
        if not isinstance(data, dict):
            raise MalformedWebhook("the body is not a JSON object")
        call_id = _text(data, "call_id")
        if event == "voice":
            return InboundCall(
                self.name, call_id, _text(data, "from", required=False), _text(data, "to"), data
            )
        if event == "dial":
            word = _text(data, "status")
            return DialResult(
                self.name,
                call_id,
                _STATUSES.get(word, DialStatus.UNKNOWN),
                talk_seconds=_seconds(data, "duration"),
                dial_call_id=_text(data, "dial_call_id", required=False),
                raw=data,
            )
        if event == "recording":
            return RecordingReady(
                self.name,
                call_id,
                _text(data, "recording_id"),
                _text(data, "url"),
                _seconds(data, "duration"),
                data,
            )
        if event == "whisper":
            return WhisperRequest(self.name, call_id, data)
        if event == "accept":
            return AcceptKey(self.name, call_id, _text(data, "digits", required=False) or "", data)
        if event == "status":
            return CallProgress(self.name, call_id, _text(data, "status"), data)
        raise MalformedWebhook(f"no such fake webhook: {event!r}")

    def render(self, decision: Decision) -> Document:  # noqa: C901 - one branch per decision
        """Render a decision as the fake provider's JSON document."""
        actions: list[dict[str, Any]] = []
        if isinstance(decision, Forward):
            actions.append(_say(decision.greeting))
            if decision.record:
                actions.append({"record": True})
            actions.append(
                {
                    "dial": decision.real_number,
                    "caller_id": decision.caller_id,
                    "timeout": decision.ring_timeout,
                    "whisper_url": self.url("whisper"),
                    "action_url": self.url("dial"),
                    "accept_key": decision.accept_key,
                }
            )
        elif isinstance(decision, Whisper):
            actions.append(_say(decision.prompt))
            if decision.accept_key is not None:
                if decision.accept_prompt is not None:
                    actions.append(_say(decision.accept_prompt))
                actions.append(
                    {
                        "gather": decision.accept_key,
                        "timeout": decision.accept_timeout,
                        "action_url": self.url("accept"),
                    }
                )
        elif isinstance(decision, Reject):
            actions.append({"reject": "busy" if decision.busy else "rejected"})
        elif isinstance(decision, Announce):
            actions += [_say(decision.prompt), {"hangup": True}]
        elif isinstance(decision, Hangup):
            if decision.prompt is not None:
                actions.append(_say(decision.prompt))
            actions.append({"hangup": True})
        elif isinstance(decision, (Bridge, Acknowledge)):
            pass
        else:  # pragma: no cover - Decision is closed
            msg = f"not a decision: {decision!r}"  # type: ignore[unreachable]
            raise TypeError(msg)
        body = _JSON.encode({"actions": actions})
        return Document(body, "application/json")


def _say(prompt: Prompt) -> dict[str, Any]:
    return {"say": prompt.text, "language": prompt.language}


def _text(data: Mapping[str, Any], field: str, *, required: bool = True) -> str:
    value = data.get(field)
    if value is None or value == "":
        if required:
            raise MalformedWebhook(f"the field {field!r} is missing", field=field)
        return ""
    if not isinstance(value, str):
        raise MalformedWebhook(f"the field {field!r} must be a string", field=field)
    return value


def _seconds(data: Mapping[str, Any], field: str) -> int | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedWebhook(f"the field {field!r} must be whole seconds", field=field)
    return value
