"""Plivo's side of the wire, for tests: signed Plivo webhooks and Plivo XML read back.

:class:`PlivoHarness` signs requests exactly as Plivo does (``X-Plivo-Signature-V3`` with a
nonce) and reads the documents :class:`~calltrack.providers.plivo.PlivoProvider` renders.
Applications use it to drive their webhook endpoints in their own tests::

    harness = PlivoHarness(PlivoProvider(["token"], base_url="https://calls.example.com"))
    event, request = harness.inbound("5ab1c0de-0000-4000-8000-000000000001",
                                     "+79031234567", "+74951234567")
    response = client.post("/plivo/voice", data=request.body, headers=dict(request.headers))

It needs no Plivo SDK and no pytest.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

import attrs

from calltrack.domain.model import DialStatus
from calltrack.ports import Document, WebhookRequest
from calltrack.providers.plivo import (
    A_LEG_PARAM,
    KEY_PARAM,
    MAIN_ACCOUNT_SIGNATURE_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    PlivoProvider,
    signature_base,
    signature_v3,
)

__all__ = ["PlivoHarness"]

Signed = tuple[str, WebhookRequest]
"""A webhook name (the path's second segment) and a request signed for it."""

_FORM = "application/x-www-form-urlencoded"
_WRONG_TOKEN = "a-token-nobody-configured"  # noqa: S105 - signs the refused variants
_SIGNATURE_HEADERS = frozenset(
    h.lower() for h in (SIGNATURE_HEADER, MAIN_ACCOUNT_SIGNATURE_HEADER, NONCE_HEADER)
)

# What Plivo's Dial action reports for each ending (DialStatus, DialHangupCause).
_DIAL_ENDINGS: Mapping[DialStatus, tuple[str, str]] = {
    DialStatus.ANSWERED: ("completed", "NORMAL_CLEARING"),
    DialStatus.NO_ANSWER: ("no-answer", "NO_ANSWER"),
    DialStatus.BUSY: ("busy", "USER_BUSY"),
    DialStatus.FAILED: ("failed", "UNALLOCATED_NUMBER"),
    DialStatus.CANCELED: ("completed", "ORIGINATOR_CANCEL"),
    DialStatus.NOT_ACCEPTED: ("completed", "NORMAL_CLEARING"),
    DialStatus.UNKNOWN: ("mystery", "NORMAL_CLEARING"),
}


def _plivo_number(e164: str) -> str:
    return e164.removeprefix("+")


def _b_leg(call_id: str) -> str:
    return f"b-{call_id}"


class PlivoHarness:
    """Signs Plivo webhooks and reads Plivo XML; satisfies ``ProviderHarness``.

    Args:
        provider: The adapter to sign for; by default one with two tokens (so rotation is
            exercised) and a main-account token, under ``https://calls.example.com``.
        accept_key: The key the harness's dial results assume the recruiter was asked for
            (only the ``NOT_ACCEPTED`` ending uses it).
    """

    sdk_modules: Sequence[str] = ("plivo", "lxml")
    missed_statuses: Sequence[DialStatus] = (
        DialStatus.NO_ANSWER,
        DialStatus.BUSY,
        DialStatus.FAILED,
        DialStatus.CANCELED,
        DialStatus.NOT_ACCEPTED,
    )

    def __init__(self, provider: PlivoProvider | None = None, *, accept_key: str = "1") -> None:
        """Sign for ``provider``."""
        self.provider = provider or PlivoProvider(
            ("plivo-token-new", "plivo-token-old"),
            base_url="https://calls.example.com",
            main_account_secrets=("plivo-main-token",),
        )
        self.accept_key = accept_key
        self._nonces = itertools.count(10**19)

    # --- signing -----------------------------------------------------------------------
    def nonce(self) -> str:
        """A fresh 20-digit nonce, as Plivo sends."""
        return str(next(self._nonces))

    def sign(
        self,
        request: WebhookRequest,
        *,
        token: str | None = None,
        nonce: str | None = None,
        header: str = SIGNATURE_HEADER,
    ) -> WebhookRequest:
        """Return ``request`` with Plivo's signature headers, made with ``token``.

        Args:
            request: The request to sign (its URL, method and form body are signed).
            token: The auth token; the provider's first one by default.
            nonce: The nonce; a fresh one by default.
            header: :data:`SIGNATURE_HEADER`, or :data:`MAIN_ACCOUNT_SIGNATURE_HEADER`.
        """
        method = request.method.upper()
        params = request.form_items() if method == "POST" else []
        used = nonce if nonce is not None else self.nonce()
        secret = token if token is not None else self.provider.secrets[0]
        signature = signature_v3(secret, signature_base(method, request.url, params), used)
        headers = {k: v for k, v in request.headers.items() if k not in _SIGNATURE_HEADERS}
        headers[header.lower()] = signature
        headers[NONCE_HEADER.lower()] = used
        return attrs.evolve(request, headers=headers)

    def request(
        self,
        event: str,
        params: Mapping[str, str],
        *,
        query: Mapping[str, str | None] | None = None,
        method: str = "POST",
        token: str | None = None,
    ) -> WebhookRequest:
        """Build the signed request Plivo sends to webhook ``event``.

        Args:
            event: The webhook name (``"voice"``).
            params: Plivo's parameters: the form body of a ``POST``, the query of a ``GET``.
            query: calltrack's own query parameters on the callback URL (``aleg``, ``key``).
            method: ``"POST"`` (Plivo's default) or ``"GET"``.
            token: The auth token to sign with; the provider's first one by default.
        """
        url = self.provider.url(event, **dict(query or {}))
        if method.upper() == "GET":
            joiner = "&" if "?" in url else "?"
            url = url + joiner + urlencode(list(params.items())) if params else url
            unsigned = WebhookRequest("GET", url, {}, b"")
        else:
            body = urlencode(list(params.items())).encode()
            unsigned = WebhookRequest("POST", url, {"Content-Type": _FORM}, body)
        return self.sign(unsigned, token=token)

    # --- the contract's webhooks ----------------------------------------------------------
    def inbound(self, call_id: str, caller: str | None, virtual: str) -> Signed:
        """A signed ``voice`` webhook (``answer_url``); a withheld caller sends an empty From."""
        params = {
            "CallUUID": call_id,
            "From": _plivo_number(caller) if caller else "",
            "To": _plivo_number(virtual),
            "CallStatus": "ringing",
            "Direction": "inbound",
            "Event": "StartApp",
            "ALegUUID": call_id,
            "ALegRequestUUID": f"r-{call_id}",
            "CallerName": "",
            "BillRate": "0.0085",
        }
        return "voice", self.request("voice", params)

    def dial_result(self, call_id: str, status: DialStatus, talk_seconds: int) -> Signed:
        """A signed ``dial`` webhook (the ``<Dial action>``) that ends the way ``status`` says.

        Plivo's Dial action carries no talk time, so ``talk_seconds`` is not sent.
        ``NOT_ACCEPTED`` is a dial that asked for :attr:`accept_key` and ended without a
        bridged leg.
        """
        del talk_seconds
        word, cause = _DIAL_ENDINGS[status]
        answered = status is DialStatus.ANSWERED
        params = {
            "CallUUID": call_id,
            "DialRingStatus": "false" if status is DialStatus.FAILED else "true",
            "DialHangupCause": cause,
            "DialStatus": word,
            "DialALegUUID": call_id,
            "DialBLegUUID": _b_leg(call_id) if answered else "",
        }
        key = self.accept_key if status is DialStatus.NOT_ACCEPTED else None
        return "dial", self.request("dial", params, query={KEY_PARAM: key})

    def recording(self, call_id: str, recording_id: str, url: str, duration: int) -> Signed:
        """A signed ``recording`` webhook (the ``<Record callbackUrl>``)."""
        params = {
            "RecordUrl": url,
            "RecordingID": recording_id,
            "RecordingDuration": str(duration),
            "RecordingDurationMs": str(duration * 1000),
            "RecordingStartMs": "1767225600000",
            "RecordingEndMs": str(1767225600000 + duration * 1000),
        }
        return "recording", self.request("recording", params, query={A_LEG_PARAM: call_id})

    def whisper(self, call_id: str) -> Signed:
        """The signed ``confirmSound`` fetch for the recruiter's leg of ``call_id``."""
        params = {
            "CallUUID": _b_leg(call_id),
            "CallStatus": "in-progress",
            "Direction": "outbound",
            "ALegUUID": call_id,
        }
        return "whisper", self.request("whisper", params, query={A_LEG_PARAM: call_id})

    def accept(self, call_id: str, digits: str) -> Signed:
        """The signed ``DialAnswer`` event of a dial that asked for the key ``digits``.

        Plivo collects the accept key itself (``confirmKey``) and bridges the legs only
        once it is pressed; the ``callbackUrl``'s ``DialAnswer`` event is the sign of it.
        """
        params = {
            "Event": "DialAnswer",
            "DialAction": "answer",
            "DialBLegStatus": "answer",
            "DialALegUUID": call_id,
            "DialBLegUUID": _b_leg(call_id),
            "DialBLegFrom": "79031234567",
            "DialBLegTo": "79161234567",
            "DialBLegPosition": "1",
            "CallUUID": call_id,
        }
        return "accept", self.request("accept", params, query={KEY_PARAM: digits})

    # --- refusals ----------------------------------------------------------------------
    def tampered(self, request: WebhookRequest) -> Mapping[str, WebhookRequest]:
        """Variants that must fail verification, by what was changed."""
        joiner = "&" if "?" in request.url else "?"
        items = request.form_items()
        changed = [(k, v + "0") if i == 0 else (k, v) for i, (k, v) in enumerate(items)]
        headers = dict(request.headers)
        nonce = headers[NONCE_HEADER.lower()]
        return {
            "url": attrs.evolve(request, url=f"{request.url}{joiner}tampered=1"),
            "path": attrs.evolve(request, url=request.url.replace("/plivo/", "/plivo/x", 1)),
            "param": attrs.evolve(request, body=urlencode(changed).encode()),
            "body": attrs.evolve(request, body=request.body + b"&Extra=1"),
            "signature": attrs.evolve(
                request, headers={**headers, SIGNATURE_HEADER.lower(): "A" * 43 + "="}
            ),
            "secret": self.sign(request, token=_WRONG_TOKEN, nonce=nonce),
            "nonce": attrs.evolve(request, headers={**headers, NONCE_HEADER.lower(): nonce + "1"}),
            "main-account": self.sign(
                request, token=_WRONG_TOKEN, header=MAIN_ACCOUNT_SIGNATURE_HEADER
            ),
        }

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        """The request without Plivo's signature headers."""
        headers = {k: v for k, v in request.headers.items() if k not in _SIGNATURE_HEADERS}
        return attrs.evolve(request, headers=headers)

    def malformed(self) -> Sequence[tuple[Signed, str]]:
        """Signed requests that each lack one required field, with the field's name."""
        return [
            (("voice", self.request("voice", {"CallUUID": "c-1", "From": "7903"})), "To"),
            (("voice", self.request("voice", {"From": "7903", "To": "7495"})), "CallUUID"),
            (("dial", self.request("dial", {"DialALegUUID": "c-1"})), "DialStatus"),
            (("dial", self.request("dial", {"DialStatus": "busy"})), "DialALegUUID"),
            (
                (
                    "recording",
                    self.request(
                        "recording", {"RecordUrl": "https://x/r.mp3"}, query={A_LEG_PARAM: "c-1"}
                    ),
                ),
                "RecordingID",
            ),
            (
                ("recording", self.request("recording", {"RecordingID": "r", "CallUUID": "c"})),
                "RecordUrl",
            ),
            (("whisper", self.request("whisper", {"CallStatus": "in-progress"})), A_LEG_PARAM),
            (("accept", self.request("accept", {"DialALegUUID": "c-1"})), KEY_PARAM),
            (("hangup", self.request("hangup", {"CallStatus": "completed"})), "CallUUID"),
        ]

    # --- reading documents -------------------------------------------------------------
    @staticmethod
    def root(document: Document) -> ET.Element:
        """The document's ``<Response>`` element."""
        # calltrack renders these documents itself; they are not untrusted input.
        root = ET.fromstring(document.body)  # noqa: S314
        if root.tag != "Response":
            raise ValueError(f"not a Plivo XML document: <{root.tag}>")
        return root

    def spoken(self, document: Document) -> list[str]:
        """The texts the document speaks, in order, unescaped."""
        return [speak.text or "" for speak in self.root(document).iter("Speak")]

    def dialled(self, document: Document) -> str | None:
        """The number the document dials, in E.164, or ``None``."""
        number = self.root(document).find("Dial/Number")
        if number is None or not number.text:
            return None
        return "+" + number.text.strip().removeprefix("+")

    def rejects(self, document: Document) -> bool:
        """Whether the document ends the call without dialling anyone."""
        root = self.root(document)
        return root.find("Dial") is None and root.find("Hangup") is not None

    def hot_path_script(self) -> str:
        """Code that verifies, parses and renders one inbound call with the adapter alone."""
        return """
            from calltrack.domain.decisions import Forward, Prompt
            from calltrack.testing.plivo import PlivoHarness
            h = PlivoHarness()
            name, r = h.inbound("c-1", "+79031234567", "+74951234567")
            h.provider.verify(r)
            event = h.provider.parse(name, r)
            prompt = Prompt("hello", "en-US")
            h.provider.render(
                Forward(event.call_id, prompt, "+79161234567", "+79031234567", 20, True, prompt)
            )
        """
