"""Vonage's side of the wire, for tests: see :class:`VonageHarness`.

The harness signs requests as Vonage's signed webhooks do (an HS256 JWT in
``Authorization: Bearer``, with ``payload_hash`` = SHA-256 of the body) and reads NCCO
documents back. It needs no Vonage SDK::

    harness = VonageHarness()
    name, request = harness.inbound("aaaa-1111", "+79031234567", "+74951234567")
    harness.provider.verify(request)
    event = harness.provider.parse(name, request)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import attrs

from calltrack.domain.model import DialStatus
from calltrack.ports import Document, WebhookRequest
from calltrack.providers.vonage import VonageProvider, query_payload

__all__ = ["VonageHarness"]

Signed = tuple[str, WebhookRequest]

_DIAL_WORDS: Mapping[DialStatus, str] = {
    DialStatus.ANSWERED: "answered",
    DialStatus.NO_ANSWER: "timeout",
    DialStatus.BUSY: "busy",
    DialStatus.FAILED: "failed",
    DialStatus.CANCELED: "cancelled",
    DialStatus.UNKNOWN: "mystery",
}
_PICKED_UP_SECONDS = 6
"""How long a recruiter's leg that was picked up but not accepted lasts, in the harness."""
_EPOCH = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _digits(number: str | None) -> str | None:
    return number.removeprefix("+") if number else None


class VonageHarness:
    """Signs fake Vonage webhooks and reads NCCOs; satisfies ``ProviderHarness``.

    Args:
        secrets: Signature secrets; the first signs, all verify.
        base_url: The public URL the adapter's webhooks live under.
        answer_method: ``"POST"`` (JSON body, as :class:`VonageInventory` configures) or
            ``"GET"`` (query string, Vonage's default) for the answer webhook.
        check_query_hash: Passed to the adapter: check GET requests' ``payload_hash``.
        api_key: The ``api_key`` claim.
        application_id: The ``application_id`` claim.
    """

    sdk_modules: Sequence[str] = (
        "vonage",
        "vonage_voice",
        "vonage_jwt",
        "vonage_numbers",
        "vonage_http_client",
        "vonage_application",
        "vonage_utils",
        "jwt",
        "pydantic",
        "requests",
    )
    missed_statuses: Sequence[DialStatus] = (
        DialStatus.NO_ANSWER,
        DialStatus.BUSY,
        DialStatus.FAILED,
        DialStatus.CANCELED,
        DialStatus.NOT_ACCEPTED,
    )

    def __init__(
        self,
        secrets: Sequence[str] = (
            "calltrack-vonage-signature-secret-1",
            "calltrack-vonage-signature-secret-0",
        ),
        *,
        base_url: str = "https://calls.example.com",
        answer_method: str = "POST",
        check_query_hash: bool = False,
        api_key: str = "a1b2c3d4",
        application_id: str = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    ) -> None:
        """Make a VonageProvider that knows ``secrets``."""
        if answer_method not in ("GET", "POST"):
            msg = f"answer_method must be GET or POST, not {answer_method!r}"
            raise ValueError(msg)
        self.provider = VonageProvider(
            tuple(secrets), base_url=base_url, check_query_hash=check_query_hash
        )
        self.answer_method = answer_method
        self.api_key = api_key
        self.application_id = application_id
        self.conversation_uuid = "CON-" + str(uuid.uuid4())

    # --- signing ---------------------------------------------------------------------
    def token(
        self,
        payload: bytes,
        *,
        secret: str | None = None,
        issued_at: float | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed-webhook JWT for ``payload`` (the body, or the query as JSON for GET).

        Args:
            payload: What ``payload_hash`` is the SHA-256 of.
            secret: Sign with this secret rather than the first configured one.
            issued_at: The ``iat`` claim; now by default.
            claims: Claims to add or replace.
        """
        body = {
            "iat": int(time.time() if issued_at is None else issued_at),
            "jti": str(uuid.uuid4()),
            "iss": "Vonage",
            "payload_hash": hashlib.sha256(payload).hexdigest(),
            "api_key": self.api_key,
            "application_id": self.application_id,
            **(claims or {}),
        }
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        middle = _b64(json.dumps(body, separators=(",", ":")).encode())
        key = (secret if secret is not None else self.provider.secrets[0]).encode()
        signature = hmac.digest(key, f"{head}.{middle}".encode(), "sha256")
        return f"{head}.{middle}.{_b64(signature)}"

    def post(self, url: str, payload: Mapping[str, Any], **token: Any) -> WebhookRequest:  # noqa: ANN401
        """A signed ``POST`` of ``payload`` as JSON to ``url``."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": "Bearer " + self.token(body, **token),
        }
        return WebhookRequest("POST", url, headers, body)

    def get(self, url: str, params: Mapping[str, str], **token: Any) -> WebhookRequest:  # noqa: ANN401
        """A signed ``GET`` of ``url`` with ``params`` added to its query string.

        ``payload_hash`` is the SHA-256 of the parameters as compact JSON, as Vonage's
        support pages describe it for GET webhooks (checked with ``check_query_hash``).
        """
        parts = urlsplit(url)
        extra = urlencode(params)
        query = f"{parts.query}&{extra}" if parts.query and extra else parts.query or extra
        full = urlunsplit(parts._replace(query=query))
        headers = {"Authorization": "Bearer " + self.token(query_payload(full), **token)}
        return WebhookRequest("GET", full, headers)

    def _leg(self, call_id: str) -> dict[str, str]:
        return {
            "uuid": f"{call_id}-b",
            "conversation_uuid": self.conversation_uuid,
            "timestamp": _EPOCH.isoformat().replace("+00:00", ".000Z"),
        }

    # --- the webhooks ----------------------------------------------------------------
    def inbound(self, call_id: str, caller: str | None, virtual: str) -> Signed:
        """A signed ``answer`` webhook (``from`` is ``"Unknown"`` when withheld)."""
        payload = {
            "from": _digits(caller) or "Unknown",
            "to": _digits(virtual) or "",
            "uuid": call_id,
            "conversation_uuid": self.conversation_uuid,
        }
        url = self.provider.url("answer")
        if self.answer_method == "GET":
            return "answer", self.get(url, payload)
        return "answer", self.post(url, payload)

    def progress(self, call_id: str, status: str) -> Signed:
        """A signed application-level ``event`` webhook about the caller's leg."""
        payload = {
            "from": "79031234567",
            "to": "74951234567",
            "uuid": call_id,
            "conversation_uuid": self.conversation_uuid,
            "status": status,
            "direction": "inbound",
            "timestamp": _EPOCH.isoformat().replace("+00:00", ".000Z"),
        }
        return "event", self.post(self.provider.url("event"), payload)

    def leg_event(
        self, call_id: str, status: str, *, duration: int | None = None, accept: bool = False
    ) -> Signed:
        """A signed event of the recruiter's leg to the ``connect`` action's ``eventUrl``.

        Args:
            call_id: The caller's leg, as the rendered ``eventUrl`` names it.
            status: Vonage's call state (``"answered"``, ``"completed"``, ``"busy"``...).
            duration: The ``duration`` of a ``completed`` event, in seconds.
            accept: Whether the Forward asked for an accept key.
        """
        payload: dict[str, Any] = {
            "from": "74951234567",
            "to": "79161234567",
            **self._leg(call_id),
            "status": status,
            "direction": "outbound",
        }
        if duration is not None:
            payload |= {
                "duration": str(duration),
                "start_time": _EPOCH.isoformat().replace("+00:00", ".000Z"),
                "end_time": (_EPOCH + timedelta(seconds=duration))
                .isoformat()
                .replace("+00:00", ".000Z"),
                "rate": "0.01000000",
                "price": "0.00100000",
                "network": "25001",
            }
        if accept:
            url = self.provider.url("dial", call_id=call_id, accept="1")
        else:
            url = self.provider.url("dial", call_id=call_id)
        return "dial", self.post(url, payload)

    def accepted(self, call_id: str) -> Signed:
        """The signed ``notify`` that the rendered Bridge sends when the recruiter accepts."""
        url = self.provider.url("dial", call_id=call_id, outcome="accepted")
        return "dial", self.post(url, {"status": "accepted", **self._leg(call_id)})

    def dial_result(self, call_id: str, status: DialStatus, talk_seconds: int) -> Signed:
        """A signed event of the recruiter's leg that reports ``status``.

        ``ANSWERED`` is the ``answered`` event; ``NOT_ACCEPTED`` is the ``completed`` event
        of a leg that was picked up where an accept key was asked for and never came.
        """
        if status is DialStatus.NOT_ACCEPTED:
            seconds = max(talk_seconds, _PICKED_UP_SECONDS)
            return self.leg_event(call_id, "completed", duration=seconds, accept=True)
        return self.leg_event(call_id, _DIAL_WORDS[status])

    def recording(self, call_id: str, recording_id: str, url: str, duration: int) -> Signed:
        """A signed ``record`` event."""
        payload = {
            "start_time": _EPOCH.isoformat().replace("+00:00", "Z"),
            "recording_url": url,
            "size": 16000 * duration,
            "recording_uuid": recording_id,
            "end_time": (_EPOCH + timedelta(seconds=duration)).isoformat().replace("+00:00", "Z"),
            "conversation_uuid": self.conversation_uuid,
            "timestamp": _EPOCH.isoformat().replace("+00:00", "Z"),
        }
        return "recording", self.post(self.provider.url("recording", call_id=call_id), payload)

    def whisper(self, call_id: str) -> Signed:
        """The signed fetch of the recruiter's NCCO from ``onAnswer.url`` (a GET)."""
        params = {
            "from": "74951234567",
            "to": "79161234567",
            "uuid": f"{call_id}-b",
            "conversation_uuid": self.conversation_uuid,
        }
        return "whisper", self.get(self.provider.url("whisper", call_id=call_id), params)

    def accept(self, call_id: str, digits: str) -> Signed:
        """The signed ``input`` event with the keys the recruiter pressed."""
        payload = {
            "speech": {"results": []},
            "dtmf": {"digits": digits or None, "timed_out": not digits},
            "from": "74951234567",
            "to": "79161234567",
            **self._leg(call_id),
        }
        return "accept", self.post(self.provider.url("accept", call_id=call_id), payload)

    # --- what must be refused --------------------------------------------------------
    def _with_token(self, request: WebhookRequest, token: str) -> WebhookRequest:
        headers = dict(request.headers)
        headers["authorization"] = "Bearer " + token
        return attrs.evolve(request, headers=headers)

    def _payload_of(self, request: WebhookRequest) -> bytes:
        return request.body or query_payload(request.url)

    def tampered(self, request: WebhookRequest) -> Mapping[str, WebhookRequest]:
        """Variants that must fail verification, by what was changed."""
        token = (request.header("authorization") or "").removeprefix("Bearer ")
        head, middle, signature = token.split(".")
        flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
        claims = json.loads(base64.urlsafe_b64decode(middle + "=" * (-len(middle) % 4)))
        claims["payload_hash"] = hashlib.sha256(b"something else").hexdigest()
        forged = _b64(json.dumps(claims, separators=(",", ":")).encode())
        payload = self._payload_of(request)
        parts = urlsplit(request.url)
        own = "call_id=forged&ct_sig=" + "0" * 64
        query = f"{parts.query}&{own}" if parts.query else own
        variants = {
            "url": attrs.evolve(
                request, url=urlunsplit(parts._replace(netloc="evil." + parts.netloc))
            ),
            "url-params": attrs.evolve(request, url=urlunsplit(parts._replace(query=query))),
            "signature": self._with_token(request, f"{head}.{middle}.{flipped}"),
            "claims": self._with_token(request, f"{head}.{forged}.{signature}"),
            "secret": self._with_token(request, self.token(payload, secret="not-the-secret")),  # noqa: S106 - wrong on purpose
            "stale": self._with_token(
                request, self.token(payload, issued_at=time.time() - 2 * self.provider.max_age)
            ),
            "future": self._with_token(request, self.token(payload, issued_at=time.time() + 600)),
            "alg-none": self._with_token(
                request,
                _b64(b'{"alg":"none","typ":"JWT"}') + f".{middle}.",
            ),
        }
        if request.body:
            variants["param"] = attrs.evolve(request, body=request.body.replace(b'"', b'"x', 1))
        else:
            variants["param"] = attrs.evolve(request, url=request.url + "&uuid=forged")
        return variants

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        """The request without its ``Authorization`` header."""
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        return attrs.evolve(request, headers=headers)

    def malformed(self) -> Sequence[tuple[Signed, str]]:
        """Signed requests that lack a required field, with the field's name."""
        p = self.provider
        leg = self._leg("CA-1")
        return [
            (("answer", self.post(p.url("answer"), {"from": "79031234567", "uuid": "u"})), "to"),
            (("answer", self.post(p.url("answer"), {"from": "7903", "to": "7495"})), "uuid"),
            (("dial", self.post(p.url("dial"), {"status": "busy", **leg})), "call_id"),
            (("dial", self.post(p.url("dial", call_id="CA-1"), leg)), "status"),
            (("whisper", self.get(p.url("whisper"), {"uuid": "u"})), "call_id"),
            (
                (
                    "recording",
                    self.post(
                        p.url("recording", call_id="CA-1"),
                        {"recording_url": "https://files.example.com/r.mp3"},
                    ),
                ),
                "recording_uuid",
            ),
            (
                (
                    "recording",
                    self.post(
                        p.url("recording", call_id="CA-1"),
                        {
                            "recording_url": "https://files.example.com/r.mp3",
                            "recording_uuid": "r",
                            "start_time": "yesterday",
                        },
                    ),
                ),
                "start_time",
            ),
            (("accept", self.post(p.url("accept", call_id="CA-1"), {"dtmf": "1"})), "dtmf"),
        ]

    # --- reading documents -----------------------------------------------------------
    def actions(self, document: Document) -> list[dict[str, Any]]:
        """The NCCO's actions (none for an empty body)."""
        if not document.body:
            return []
        ncco = json.loads(document.body)
        assert isinstance(ncco, list), ncco
        return ncco

    def spoken(self, document: Document) -> list[str]:
        """The texts the NCCO's ``talk`` actions say, in order."""
        return [a["text"] for a in self.actions(document) if a.get("action") == "talk"]

    def dialled(self, document: Document) -> str | None:
        """The number the NCCO's ``connect`` dials, E.164."""
        for action in self.actions(document):
            if action.get("action") == "connect":
                return "+" + str(action["endpoint"][0]["number"])
        return None

    def rejects(self, document: Document) -> bool:
        """Whether the NCCO ends the call without forwarding it."""
        return bool(document.body) and all(
            a.get("action") == "talk" for a in self.actions(document)
        )

    def hot_path_script(self) -> str:
        """Code that signs, verifies, parses and renders one inbound call."""
        return """
            from calltrack.testing.vonage import VonageHarness
            from calltrack.domain.decisions import Forward, Prompt, Reject
            h = VonageHarness()
            name, request = h.inbound("aaaa-1111", "+79031234567", "+74951234567")
            h.provider.verify(request)
            h.provider.parse(name, request)
            p = Prompt("hello", "en-US")
            h.provider.render(Forward("aaaa-1111", p, "+79161234567", "+79031234567", 20, True, p))
            h.provider.render(Reject("spam"))
        """
