"""Twilio's side of the wire, for tests: see :class:`TwilioHarness`.

The harness signs webhooks exactly as Twilio does (form-encoded ``POST`` bodies with an
``X-Twilio-Signature``) and reads TwiML documents back, so that an application's tests can
drive whole calls through its own webhook endpoints without a Twilio account::

    harness = TwilioHarness(auth_tokens=("my-test-token",), base_url="https://calls.example.com")
    event, request = harness.inbound("CA00000000000000000000000000000001", "+79031234567",
                                     "+74951234567")
    response = my_app.post(request.url, data=request.body, headers=dict(request.headers))
    assert harness.dialled(response.body) == "+79161234567"
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlencode

import attrs

from calltrack.domain.model import DialStatus
from calltrack.ports import Document, WebhookRequest
from calltrack.providers.twilio import (
    HMAC_SHA1,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    TwilioProvider,
    compute_signature,
)

__all__ = ["TwilioHarness"]

Signed = tuple[str, WebhookRequest]

ACCOUNT_SID = "AC" + "0" * 32
"""The (fake) account every harness request names."""

_DIAL_WORDS: Mapping[DialStatus, tuple[str, str | None]] = {
    DialStatus.ANSWERED: ("completed", "true"),
    DialStatus.NO_ANSWER: ("no-answer", "false"),
    DialStatus.BUSY: ("busy", "false"),
    DialStatus.FAILED: ("failed", "false"),
    DialStatus.CANCELED: ("canceled", "false"),
    DialStatus.NOT_ACCEPTED: ("completed", "false"),
    DialStatus.UNKNOWN: ("mystery", None),
}
"""What Twilio's ``<Dial action>`` sends for each outcome: ``DialCallStatus``, ``DialBridged``."""


def _child_sid(call_id: str) -> str:
    """A stable child-leg SID for a parent leg (Twilio's are ``CA`` + 32 hex digits)."""
    return "CA" + hashlib.sha256(call_id.encode()).hexdigest()[:32]


def _body(document: Document | str) -> str:
    return document.body if isinstance(document, Document) else document


class TwilioHarness:
    """Signs Twilio webhooks and reads TwiML; satisfies ``ProviderHarness``.

    Args:
        auth_tokens: The adapter's secrets; the first one signs.
        base_url: Where the webhooks live.
        provider: An adapter to use instead of one made from the two above.
    """

    sdk_modules: Sequence[str] = ("twilio",)
    missed_statuses: Sequence[DialStatus] = (
        DialStatus.NO_ANSWER,
        DialStatus.BUSY,
        DialStatus.FAILED,
        DialStatus.CANCELED,
        DialStatus.NOT_ACCEPTED,
    )

    def __init__(
        self,
        auth_tokens: Sequence[str] = ("twilio-test-token-new", "twilio-test-token-old"),
        *,
        base_url: str = "https://calls.example.com/hooks",
        provider: TwilioProvider | None = None,
    ) -> None:
        self.provider = provider or TwilioProvider(auth_tokens, base_url=base_url)
        self.auth_token = self.provider.secrets[0] if self.provider.secrets else auth_tokens[0]

    def __repr__(self) -> str:
        """Name the adapter, never the token."""
        return f"<TwilioHarness {self.provider.base_url}>"

    # --- making requests -----------------------------------------------------------------
    def request(
        self,
        event: str,
        params: Mapping[str, str],
        *,
        query: Mapping[str, str] | None = None,
        secret: str | None = None,
        algorithm: str = HMAC_SHA1,
    ) -> WebhookRequest:
        """A form ``POST`` to ``{base_url}/twilio/{event}``, signed as Twilio signs it.

        Args:
            event: The webhook name.
            params: The form parameters.
            query: Query parameters of the URL (those the documents put in callback URLs).
            secret: Sign with this instead of the first Auth Token.
            algorithm: ``HMAC_SHA1`` (Auth Token) or ``HMAC_SHA256`` (a SharedKey).
        """
        url = self.provider.url(event)
        if query:
            url += "?" + urlencode(query, quote_via=quote)
        items = list(params.items())
        signature = compute_signature(url, items, secret or self.auth_token, algorithm)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            SIGNATURE_HEADER: signature,
            "I-Twilio-Idempotency-Token": hashlib.sha256(
                url.encode() + signature.encode()
            ).hexdigest()[:32],
        }
        if algorithm != HMAC_SHA1:
            headers[SIGNATURE_SETTINGS_HEADER] = (
                f"key=webhooks_sharedkey_test,algorithm={algorithm}"
            )
        return WebhookRequest("POST", url, headers, urlencode(items).encode())

    def _common(self, call_sid: str, caller: str | None, called: str) -> dict[str, str]:
        return {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "CallSid": call_sid,
            "From": caller if caller is not None else "anonymous",
            "To": called,
            "Caller": caller if caller is not None else "anonymous",
            "Called": called,
        }

    def inbound(self, call_id: str, caller: str | None, virtual: str) -> Signed:
        """A signed ``voice`` webhook: a call to ``virtual`` (``caller`` ``None`` if withheld)."""
        params = self._common(call_id, caller, virtual)
        params.update({"CallStatus": "ringing", "Direction": "inbound"})
        return "voice", self.request("voice", params)

    def dial_result(self, call_id: str, status: DialStatus, talk_seconds: int) -> Signed:
        """A signed ``dial`` webhook: the ``<Dial action>`` of ``call_id``'s forwarded leg."""
        word, bridged = _DIAL_WORDS[status]
        params = self._common(call_id, "+79031234567", "+74951234567")
        params.update(
            {
                "CallStatus": "in-progress",
                "Direction": "inbound",
                "DialCallSid": _child_sid(call_id),
                "DialCallStatus": word,
                "DialCallDuration": str(talk_seconds),
            }
        )
        if bridged is not None:
            params["DialBridged"] = bridged
        return "dial", self.request("dial", params)

    def recording(self, call_id: str, recording_id: str, url: str, duration: int) -> Signed:
        """A signed ``recording`` webhook for the dual-channel recording of ``call_id``."""
        params = {
            "AccountSid": ACCOUNT_SID,
            "CallSid": call_id,
            "RecordingSid": recording_id,
            "RecordingUrl": url,
            "RecordingStatus": "completed",
            "RecordingDuration": str(duration),
            "RecordingChannels": "2",
            "RecordingSource": "DialVerb",
            "RecordingStartTime": "Fri, 04 Dec 2026 12:00:00 +0000",
            "RecordingTrack": "both",
            "ErrorCode": "0",
        }
        return "recording", self.request("recording", params, query={"call": call_id})

    def _child(self, call_id: str) -> dict[str, str]:
        params = self._common(_child_sid(call_id), "+79031234567", "+79161234567")
        params.update(
            {"ParentCallSid": call_id, "CallStatus": "in-progress", "Direction": "outbound-dial"}
        )
        return params

    def whisper(self, call_id: str) -> Signed:
        """The signed ``<Number url>`` fetch made on the recruiter's (child) leg."""
        return "whisper", self.request("whisper", self._child(call_id))

    def accept(self, call_id: str, digits: str) -> Signed:
        """The signed ``<Gather action>`` with the keys the recruiter pressed."""
        params = self._child(call_id)
        params.update({"Digits": digits, "FinishedOnKey": ""})
        return "accept", self.request("accept", params)

    def status(self, call_id: str, status: str) -> Signed:
        """A signed ``status`` callback of the recruiter's leg of ``call_id``."""
        params = self._child(call_id)
        params.update({"CallStatus": status, "CallbackSource": "call-progress-events"})
        return "status", self.request("status", params)

    # --- requests that must fail -----------------------------------------------------------
    def tampered(self, request: WebhookRequest) -> Mapping[str, WebhookRequest]:
        """Variants of a signed request that verification must refuse."""
        params = request.form_items()
        changed = [(k, v + "0") if k == "From" else (k, v) for k, v in params]
        if changed == params:
            changed = [*params, ("Injected", "1")]
        headers = dict(request.headers)
        key = SIGNATURE_HEADER.lower()
        signature = headers[key]
        other = {**headers, key: compute_signature(request.url, params, "some-other-token")}
        broken = {**headers, key: signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")}
        separator = "&" if "?" in request.url else "?"
        return {
            "url": attrs.evolve(request, url=request.url + separator + "x=1"),
            "param": attrs.evolve(request, body=urlencode(changed).encode()),
            "signature": attrs.evolve(request, headers=broken),
            "secret": attrs.evolve(request, headers=other),
        }

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        """The request without ``X-Twilio-Signature``."""
        key = SIGNATURE_HEADER.lower()
        return attrs.evolve(request, headers={k: v for k, v in request.headers.items() if k != key})

    def malformed(self) -> Sequence[tuple[Signed, str]]:
        """Signed requests that each lack one required field."""
        call = "CA" + "1" * 32

        def without(signed: Signed, field: str) -> tuple[Signed, str]:
            name, request = signed
            params = {k: v for k, v in request.form_items() if k != field}
            query = dict(request.query_items())
            return (name, self.request(name, params, query=query or None)), field

        rec = self.recording(call, "RE" + "1" * 32, "https://api.example.com/RE1", 3)
        return [
            without(self.inbound(call, "+79031234567", "+74951234567"), "CallSid"),
            without(self.inbound(call, "+79031234567", "+74951234567"), "To"),
            without(self.dial_result(call, DialStatus.ANSWERED, 3), "DialCallStatus"),
            without(self.dial_result(call, DialStatus.ANSWERED, 3), "CallSid"),
            without(rec, "RecordingSid"),
            without(rec, "RecordingUrl"),
            without(rec, "RecordingStatus"),
            without(self.whisper(call), "ParentCallSid"),
            without(self.accept(call, "1"), "ParentCallSid"),
            without(self.status(call, "ringing"), "CallStatus"),
        ]

    # --- reading documents ---------------------------------------------------------------
    def _root(self, document: Document | str) -> ET.Element:
        root = ET.fromstring(_body(document))  # noqa: S314 - our own documents, in tests
        assert root.tag == "Response", root.tag
        return root

    def spoken(self, document: Document | str) -> list[str]:
        """The texts a document says, in order, unescaped."""
        return [say.text or "" for say in self._root(document).iter("Say")]

    def dialled(self, document: Document | str) -> str | None:
        """The number a document dials, or ``None``."""
        for dial in self._root(document).iter("Dial"):
            number = dial.find("Number")
            text = number.text if number is not None else dial.text
            return (text or "").strip() or None
        return None

    def rejects(self, document: Document | str) -> bool:
        """Whether a document refuses or ends the call without forwarding it."""
        root = self._root(document)
        ends = root.find("Reject") is not None or root.find("Hangup") is not None
        return ends and root.find("Dial") is None

    def hot_path_script(self) -> str:
        """Code that verifies, parses and renders one inbound call with the adapter alone."""
        return """
            from calltrack.testing.twilio import TwilioHarness
            from calltrack.domain.decisions import Forward, Prompt
            h = TwilioHarness()
            name, request = h.inbound("CA1", "+79031234567", "+74951234567")
            h.provider.verify(request)
            h.provider.parse(name, request)
            p = Prompt("hello", "en-US")
            h.provider.render(Forward("CA1", p, "+79161234567", "+79031234567", 20, True, p))
        """
