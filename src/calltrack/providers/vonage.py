"""The Vonage adapter: signed-webhook JWTs, Voice API events, NCCO documents.

Webhooks live at ``{base_url}/vonage/{event}``:

=========== =================================================== ============================
event       what Vonage sends there                             parsed into
=========== =================================================== ============================
answer      the application's ``answer_url`` (GET query or       :class:`InboundCall`
            POST JSON: ``uuid``, ``from``, ``to``)
event       the application's ``event_url``: the caller's leg   :class:`CallProgress`
dial        the ``connect`` action's ``eventUrl``: the           :class:`DialResult` or
            recruiter's leg, plus the acceptance ``notify``       :class:`CallProgress`
whisper     ``onAnswer.url``: the NCCO for the recruiter's leg   :class:`WhisperRequest`
accept      the whisper's ``input`` ``eventUrl`` (``dtmf``)      :class:`AcceptKey`
recording   the ``record`` action's ``eventUrl``                 :class:`RecordingReady`
=========== =================================================== ============================

Vonage's events for the recruiter's leg carry that leg's ``uuid`` only, so the callback
URLs this adapter renders name the caller's leg in the query string (``call_id``). The
signed-webhook JWT does not cover the URL, so those query parameters carry a MAC of their
own (``ct_sig``: BLAKE2s keyed with a digest of the signature secret), and
:meth:`VonageProvider.verify` refuses a callback URL whose parameters were changed.

The hot path (verify, parse, render) uses the standard library only; the Vonage SDK is
imported by :class:`VonageInventory` alone, when it is used.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlsplit

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
from calltrack.errors import (
    ConfigurationError,
    InvalidPhoneNumber,
    InvalidSignature,
    MalformedWebhook,
    ProviderAPIError,
    ProviderNotInstalled,
)
from calltrack.ports import AvailableNumber, Document, WebhookRequest
from calltrack.providers._common import any_matches, warn_unverified

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "DIAL_STATUSES",
    "PROGRESS_STATUSES",
    "URL_SIGNATURE_PARAM",
    "VonageInventory",
    "VonageProvider",
    "query_payload",
]

NAME = "vonage"
URL_SIGNATURE_PARAM = "ct_sig"
"""The query parameter that carries the MAC of the parameters calltrack put in a URL.

The MAC is BLAKE2s (128 bits) in keyed mode, the key a SHA-256 digest of the signature
secret: a keyed hash is a MAC by design, and cheaper than a second HMAC per URL.
"""

DIAL_STATUSES: Mapping[str, DialStatus] = {
    "answered": DialStatus.ANSWERED,
    "busy": DialStatus.BUSY,
    "rejected": DialStatus.BUSY,
    "timeout": DialStatus.NO_ANSWER,
    "unanswered": DialStatus.NO_ANSWER,
    "failed": DialStatus.FAILED,
    "cancelled": DialStatus.CANCELED,
}
"""Vonage call states of the recruiter's leg and the dial status each one means."""

PROGRESS_STATUSES = frozenset(
    {"started", "ringing", "machine", "human", "disconnected", "transfer"}
)
"""Call states of the recruiter's leg that decide nothing."""

_MISSED_FINAL = frozenset(s for s, d in DIAL_STATUSES.items() if d is not DialStatus.ANSWERED)
_JSON = "application/json"
_EMPTY_NCCO = Document("[]", _JSON)
_ACKNOWLEDGE = Document("", "text/plain; charset=utf-8")
_OWN_PARAMS = ("call_id", "accept", "outcome")
_ACCEPTED = "accepted"
_MAX_DTMF_TIMEOUT = 10
_MAX_GOOD_HEADS = 16
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_decode_json = json.JSONDecoder().decode
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]*")


class VonageProvider:
    """Vonage Voice API webhooks: verify, parse, render.

    Args:
        secrets: The account's signature secrets; the first signs callback URLs (and the
            harness's requests), any of them verifies, so a secret can be rotated.
        base_url: The public URL the webhooks live under (``https://calls.example.com``);
            behind a proxy, the URL the provider calls, not the internal one.
        verify_signatures: Switching verification off needs saying so, and warns.
        max_age: How old (seconds) a signed-webhook token may be, from its ``iat``.
        clock_skew: How far (seconds) in the future a token's ``iat`` may lie.
        check_query_hash: Also check ``payload_hash`` of GET requests against their query
            parameters as compact JSON (as Vonage's support pages describe it; not
            confirmed against live traffic, hence off by default: configure the answer
            webhook as POST so that its body is covered).
        clock: Where the current Unix time comes from (for tests).

    Raises:
        ConfigurationError: If no secret is given, a secret is empty, or a setting is out
            of range.
    """

    name = NAME
    events = frozenset({"answer", "event", "dial", "whisper", "accept", "recording"})

    def __init__(
        self,
        secrets: Sequence[str] | str,
        *,
        base_url: str,
        verify_signatures: bool = True,
        max_age: int = 300,
        clock_skew: int = 30,
        check_query_hash: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Configure the adapter."""
        if isinstance(secrets, str):
            secrets = (secrets,)
        if not secrets or not all(isinstance(s, str) and s for s in secrets):
            raise ConfigurationError("VonageProvider needs at least one non-empty secret")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"base_url must be an absolute http(s) URL: {base_url!r}")
        if max_age <= 0 or clock_skew < 0:
            raise ConfigurationError("max_age must be positive and clock_skew not negative")
        self.secrets: tuple[str, ...] = tuple(secrets)
        self._keys = tuple(s.encode() for s in self.secrets)
        self._url_keys = tuple(_url_key(s) for s in self.secrets)
        self._good_heads: set[str] = set()
        self.base_url = base_url.rstrip("/")
        self._prefix = f"{self.base_url}/{NAME}/"
        self._json_prefix = encode_basestring(self._prefix)[:-1]  # open: the path follows
        self.verify_signatures = verify_signatures
        self.max_age = max_age
        self.clock_skew = clock_skew
        self.check_query_hash = check_query_hash
        self._clock = clock
        if not verify_signatures:
            warn_unverified(NAME)

    def __repr__(self) -> str:
        """Name the base URL, never the secrets."""
        return f"<VonageProvider {self.base_url}>"

    # --- URLs ------------------------------------------------------------------------
    def url_mac(self, params: Mapping[str, str], secret: str | None = None) -> str:
        """The MAC calltrack puts beside its own parameters in a callback URL.

        Args:
            params: calltrack's own parameters (``call_id``, ``accept``, ``outcome``).
            secret: Sign with this secret rather than the first configured one.
        """
        key = _url_key(secret) if secret is not None else self._url_keys[0]
        get = params.get
        message = f"{get('call_id', '')}\n{get('accept', '')}\n{get('outcome', '')}"
        return hashlib.blake2s(message.encode(), key=key, digest_size=16).hexdigest()

    def url_query(self, **params: str) -> str:
        """Return calltrack's own query parameters for a callback URL, with their MAC.

        Args:
            **params: ``call_id``, and ``accept`` or ``outcome`` where they apply.

        Raises:
            ValueError: For a parameter that is not calltrack's.
        """
        for name in params:
            if name not in _OWN_PARAMS:
                msg = f"not a calltrack URL parameter: {name!r}"
                raise ValueError(msg)
        query = "&".join(f"{k}={_quote(params[k])}" for k in _OWN_PARAMS if k in params)
        return f"{query}&{URL_SIGNATURE_PARAM}={self.url_mac(params)}"

    def url(self, event: str, **params: str) -> str:
        """The public URL of webhook ``event``, with calltrack's parameters signed.

        Args:
            event: The webhook name.
            **params: calltrack's own query parameters (``call_id``, ``accept``, ``outcome``).

        Raises:
            ValueError: For a parameter that is not calltrack's.
        """
        if not params:
            return self._prefix + event
        return f"{self._prefix}{event}?{self.url_query(**params)}"

    # --- verification ----------------------------------------------------------------
    def verify(self, request: WebhookRequest) -> None:
        """Check the signed-webhook JWT, the body's hash, and calltrack's URL parameters.

        Raises:
            InvalidSignature: If the token is missing, malformed, signed with no configured
                secret, stale or from the future; if the body does not match its
                ``payload_hash``; if the URL is not under ``base_url``; or if calltrack's
                parameters in the URL do not match their MAC.
        """
        if not self.verify_signatures:
            return
        claims = self.verify_token(request.header("authorization"))
        if request.body:
            _check_hash(claims, request.body, "the body")
        elif self.check_query_hash and request.method.upper() == "GET":
            _check_hash(claims, query_payload(request.url), "the query")
        self._verify_url(request.url)

    def verify_token(self, authorization: str | None) -> Mapping[str, Any]:
        """Check an ``Authorization: Bearer`` signed-webhook token and return its claims.

        Raises:
            InvalidSignature: If it is missing, malformed, not HS256, signed with no
                configured secret, stale, or issued in the future.
        """
        if not authorization:
            raise InvalidSignature("the Authorization header is missing")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise InvalidSignature("the Authorization header is not a Bearer token")
        head, _, rest = token.strip().partition(".")
        body, _, signature = rest.partition(".")
        if not head or not body or not signature or "." in signature:
            raise InvalidSignature("the token is not a JWT")
        if head not in self._good_heads:  # the header segment hardly ever changes
            self._check_header(head)
        given = _b64decode(signature, "signature")
        signed = f"{head}.{body}".encode("ascii", "replace")
        for key in self._keys:  # the current secret first: most tokens stop there
            if hmac.compare_digest(given, hmac.digest(key, signed, "sha256")):
                break
        else:
            raise InvalidSignature("the token's signature matches no configured secret")
        claims = _jwt_json(body, "claims")
        self._check_age(claims.get("iat"))
        return claims

    def _check_header(self, head: str) -> None:
        if _jwt_json(head, "header").get("alg") != "HS256":
            raise InvalidSignature("the token is not signed with HS256")
        if len(self._good_heads) < _MAX_GOOD_HEADS:
            self._good_heads.add(head)

    def _check_age(self, issued: object) -> None:
        if isinstance(issued, bool) or not isinstance(issued, (int, float)):
            raise InvalidSignature("the token has no iat")
        now = self._clock()
        if issued < now - self.max_age:
            raise InvalidSignature(f"the token is stale (issued over {self.max_age} s ago)")
        if issued > now + self.clock_skew:
            raise InvalidSignature("the token is issued in the future")

    def _verify_url(self, url: str) -> None:
        if not url.startswith(self._prefix):
            raise InvalidSignature(f"the URL is not under {self._prefix}")
        if "?" not in url:
            return
        params = _query(url)
        given = params.get(URL_SIGNATURE_PARAM)
        own = {k: params[k] for k in _OWN_PARAMS if k in params}
        if given is None and not own:
            return
        if given is None:
            raise InvalidSignature(f"the URL's calltrack parameters lack {URL_SIGNATURE_PARAM}")
        expected = [self.url_mac(own, secret) for secret in self.secrets]
        if not any_matches(given, expected):
            raise InvalidSignature("the URL's calltrack parameters were changed")

    # --- parsing ---------------------------------------------------------------------
    def parse(self, event: str, request: WebhookRequest) -> ProviderEvent:
        """Parse a verified request for webhook ``event`` into a normalized event.

        Raises:
            MalformedWebhook: Naming the field that is missing or unreadable, or saying the
                body is not a JSON object.
        """
        handler = _PARSERS.get(event)
        if handler is None:
            raise MalformedWebhook(f"no such vonage webhook: {event!r}")
        data = _payload(request)
        url_params = _query(request.url)
        return handler(data, url_params)

    # --- rendering -------------------------------------------------------------------
    def render(self, decision: Decision) -> Document:  # noqa: PLR0911 - one per decision
        """Render a decision as an NCCO (``Acknowledge`` as an empty body)."""
        if isinstance(decision, Forward):
            return Document(self._forward(decision), _JSON)
        if isinstance(decision, Whisper):
            return Document(self._whisper(decision), _JSON)
        if isinstance(decision, Announce):
            return Document(f"[{_talk(decision.prompt)}]", _JSON)
        if isinstance(decision, Hangup):
            if decision.prompt is None:
                return _EMPTY_NCCO
            return Document(f"[{_talk(decision.prompt)}]", _JSON)
        if isinstance(decision, Bridge):
            if decision.call_id is None:
                return _EMPTY_NCCO
            url = self.url("dial", call_id=decision.call_id, outcome=_ACCEPTED)
            notify = (
                '{"action":"notify","payload":{"status":"accepted"},'
                f'"eventUrl":[{encode_basestring(url)}]}}'
            )
            return Document(f"[{notify}]", _JSON)
        if isinstance(decision, Reject):
            return _EMPTY_NCCO
        if isinstance(decision, Acknowledge):
            return _ACKNOWLEDGE
        msg = f"not a decision: {decision!r}"  # type: ignore[unreachable]
        raise TypeError(msg)

    def _forward(self, decision: Forward) -> str:
        # The prefix is JSON-escaped once; the query is percent-encoded, so JSON-safe.
        prefix = self._json_prefix
        query = self.url_query(call_id=decision.call_id)
        actions = [_talk(decision.greeting)]
        if decision.record:
            actions.append(
                '{"action":"record","split":"conversation","channels":2,'
                f'"eventUrl":[{prefix}recording?{query}"]}}'
            )
        if decision.accept_key is not None:
            dial_url = f'{prefix}dial?{self.url_query(call_id=decision.call_id, accept="1")}"'
        else:
            dial_url = f'{prefix}dial?{query}"'
        whisper_url = f'{prefix}whisper?{query}"'
        actions.append(
            '{"action":"connect",'
            f'"from":{encode_basestring(_digits(decision.caller_id))},'
            f'"timeout":{int(decision.ring_timeout)},"eventType":"synchronous",'
            f'"eventUrl":[{dial_url}],'
            '"endpoint":[{"type":"phone",'
            f'"number":{encode_basestring(_digits(decision.real_number))},'
            f'"onAnswer":{{"url":{whisper_url}}}}}]}}'
        )
        return "[" + ",".join(actions) + "]"

    def _whisper(self, decision: Whisper) -> str:
        actions = [_talk(decision.prompt)]
        if decision.accept_key is not None:
            if decision.accept_prompt is not None:
                actions.append(_talk(decision.accept_prompt))
            if decision.call_id is not None:
                accept_url = self.url("accept", call_id=decision.call_id)
            else:
                accept_url = self.url("accept")
            timeout = max(1, min(int(decision.accept_timeout), _MAX_DTMF_TIMEOUT))
            actions.append(
                '{"action":"input","type":["dtmf"],'
                f'"dtmf":{{"maxDigits":{len(decision.accept_key)},"timeOut":{timeout}}},'
                f'"eventUrl":[{encode_basestring(accept_url)}]}}'
            )
        return "[" + ",".join(actions) + "]"


def query_payload(url: str) -> bytes:
    """What ``payload_hash`` covers in a GET webhook: its query parameters as compact JSON.

    calltrack's own parameters (covered by their own MAC) are left out.
    """
    items = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    own = {*_OWN_PARAMS, URL_SIGNATURE_PARAM}
    return json.dumps(
        {k: v for k, v in items if k not in own}, separators=(",", ":"), ensure_ascii=False
    ).encode()


def _check_hash(claims: Mapping[str, Any], payload: bytes, what: str) -> None:
    given = claims.get("payload_hash")
    if not isinstance(given, str):
        raise InvalidSignature(f"the token has no payload_hash to check {what} against")
    if not hmac.compare_digest(
        given.lower().encode(), hashlib.sha256(payload).hexdigest().encode()
    ):
        raise InvalidSignature(f"{what} does not match the token's payload_hash")


# --- rendering helpers -------------------------------------------------------------------
def _talk(prompt: Prompt) -> str:
    style = _style(prompt.voice)
    tail = f',"style":{style}' if style is not None else ""
    return (
        f'{{"action":"talk","text":{encode_basestring(prompt.text)},'
        f'"language":{encode_basestring(prompt.language)}{tail}}}'
    )


def _style(voice: str | None) -> int | None:
    """Vonage voices are a language plus a numeric ``style``; other names are not Vonage's."""
    if voice is None:
        return None
    text = voice.strip().lower().removeprefix("style:").strip()
    return int(text) if text.isdecimal() else None


def _quote(value: str) -> str:
    return value if _URL_SAFE.fullmatch(value) else quote(value, safe="")


def _digits(number: str) -> str:
    """Vonage writes numbers as E.164 digits without the plus."""
    return number.strip().removeprefix("+")


# --- parsing helpers ---------------------------------------------------------------------
def _b64decode(part: str, what: str) -> bytes:
    """Decode base64url without padding, as JWTs write it (what ``urlsafe_b64decode`` does)."""
    try:
        data = part.encode("ascii").translate(_URLSAFE_TO_STANDARD)
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    except (binascii.Error, ValueError):  # also UnicodeEncodeError
        raise InvalidSignature(f"the token's {what} is not base64url") from None


def _jwt_json(part: str, what: str) -> Mapping[str, Any]:
    raw = _b64decode(part, what)
    try:
        value = _decode_json(raw.decode())
    except ValueError:  # also UnicodeDecodeError
        raise InvalidSignature(f"the token's {what} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidSignature(f"the token's {what} is not a JSON object")
    return value


def _query(url: str) -> dict[str, str]:
    """The query parameters of a URL; the last of repeats wins."""
    if "?" not in url:
        return {}
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _url_key(secret: str) -> bytes:
    """The key of the callback-URL MAC: BLAKE2s keyed with a digest of the secret."""
    return hashlib.sha256(b"calltrack-vonage-url\n" + secret.encode()).digest()


def _payload(request: WebhookRequest) -> Mapping[str, Any]:
    """The webhook's data: the JSON body if there is one, else the query string."""
    if request.body:
        try:
            data = _decode_json(request.body.decode())
        except ValueError:  # also UnicodeDecodeError
            raise MalformedWebhook("the body is not JSON") from None
        if not isinstance(data, dict):
            raise MalformedWebhook("the body is not a JSON object")
        return data
    params = _query(request.url)
    for own in (*_OWN_PARAMS, URL_SIGNATURE_PARAM):
        params.pop(own, None)
    return params


def _text(data: Mapping[str, Any], field: str) -> str:
    value = data.get(field)
    if value is None or value == "":
        raise MalformedWebhook(f"the field {field!r} is missing", field=field)
    if not isinstance(value, str):
        raise MalformedWebhook(f"the field {field!r} must be a string", field=field)
    return value


def _optional_text(data: Mapping[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedWebhook(f"the field {field!r} must be a string", field=field)
    return value


def _seconds(data: Mapping[str, Any], field: str) -> int | None:
    """Whole seconds, sent as ``"42"`` or ``42``; ``None`` if absent."""
    value = data.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MalformedWebhook(f"the field {field!r} is not a duration", field=field)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise MalformedWebhook(f"the field {field!r} is not a duration", field=field) from None
    if not seconds >= 0 or seconds == float("inf"):
        raise MalformedWebhook(f"the field {field!r} is not a duration", field=field)
    return int(seconds)


def _timestamp(data: Mapping[str, Any], field: str) -> datetime | None:
    text = _optional_text(data, field)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedWebhook(f"the field {field!r} is not a timestamp", field=field) from None


def _caller(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return "+" + text if text.isdigit() else text


def _call_id(url_params: Mapping[str, str]) -> str:
    return _text(url_params, "call_id")


def _parse_answer(data: Mapping[str, Any], _url_params: Mapping[str, str]) -> ProviderEvent:
    return InboundCall(
        NAME,
        _text(data, "uuid"),
        _caller(_optional_text(data, "from")),
        _caller(_text(data, "to")) or "",
        data,
    )


def _parse_event(data: Mapping[str, Any], _url_params: Mapping[str, str]) -> ProviderEvent:
    # The caller's own leg decides nothing; errors and action events carry no status.
    status = _optional_text(data, "status") or _optional_text(data, "type") or "event"
    return CallProgress(NAME, _optional_text(data, "uuid"), status, data)


def _parse_dial(  # noqa: PLR0911 - one return per kind of leg event
    data: Mapping[str, Any], url_params: Mapping[str, str]
) -> ProviderEvent:
    call_id = _call_id(url_params)
    leg = _optional_text(data, "uuid")
    raw = data
    if url_params.get("outcome") == _ACCEPTED:
        return DialResult(
            NAME, call_id, DialStatus.ANSWERED, dial_call_id=leg, final=False, raw=raw
        )
    status = _text(data, "status")
    keyed = url_params.get("accept") == "1"
    if status == "answered":
        if keyed:  # picking up is not accepting: the acceptance reports itself
            return CallProgress(NAME, call_id, status, raw)
        return DialResult(
            NAME, call_id, DialStatus.ANSWERED, dial_call_id=leg, final=False, raw=raw
        )
    if status == "completed":
        talk = _seconds(data, "duration")
        if not talk:
            return CallProgress(NAME, call_id, status, raw)
        reached = DialStatus.NOT_ACCEPTED if keyed else DialStatus.ANSWERED
        return DialResult(
            NAME, call_id, reached, talk_seconds=talk, dial_call_id=leg, final=False, raw=raw
        )
    if status in _MISSED_FINAL:
        return DialResult(NAME, call_id, DIAL_STATUSES[status], dial_call_id=leg, raw=raw)
    if status in PROGRESS_STATUSES:
        return CallProgress(NAME, call_id, status, raw)
    return DialResult(NAME, call_id, DialStatus.UNKNOWN, dial_call_id=leg, final=False, raw=raw)


def _parse_whisper(data: Mapping[str, Any], url_params: Mapping[str, str]) -> ProviderEvent:
    return WhisperRequest(NAME, _call_id(url_params), data)


def _parse_accept(data: Mapping[str, Any], url_params: Mapping[str, str]) -> ProviderEvent:
    call_id = _call_id(url_params)
    dtmf = data.get("dtmf")
    digits: str | None = None
    if isinstance(dtmf, dict):
        digits = _optional_text(dtmf, "digits")
    elif dtmf is not None:
        raise MalformedWebhook("the field 'dtmf' must be an object", field="dtmf")
    return AcceptKey(NAME, call_id, digits or "", data)


def _parse_recording(data: Mapping[str, Any], url_params: Mapping[str, str]) -> ProviderEvent:
    call_id = _call_id(url_params)
    url = _text(data, "recording_url")
    recording_id = _text(data, "recording_uuid")
    started, ended = _timestamp(data, "start_time"), _timestamp(data, "end_time")
    duration = None
    if started is not None and ended is not None:
        try:
            duration = max(0, round((ended - started).total_seconds()))
        except TypeError:  # one naive, one aware
            raise MalformedWebhook(
                "the field 'end_time' is not comparable", field="end_time"
            ) from None
    return RecordingReady(NAME, call_id, recording_id, url, duration, data)


_PARSERS: Mapping[str, Callable[[Mapping[str, Any], Mapping[str, str]], ProviderEvent]] = {
    "answer": _parse_answer,
    "event": _parse_event,
    "dial": _parse_dial,
    "whisper": _parse_whisper,
    "accept": _parse_accept,
    "recording": _parse_recording,
}


# --- number inventory --------------------------------------------------------------------
_KINDS: Mapping[str, str] = {
    "local": "landline",
    "mobile": "mobile-lvn",
    "tollfree": "landline-toll-free",
}
_KIND_OF_TYPE = {v: k for k, v in _KINDS.items()}
ENV_API_KEY = "CALLTRACK_VONAGE_API_KEY"
ENV_API_SECRET = "CALLTRACK_VONAGE_API_SECRET"  # noqa: S105 - a variable's name, not a secret
ENV_APPLICATION_ID = "CALLTRACK_VONAGE_APPLICATION_ID"


class VonageInventory:
    """Searching, buying and releasing Vonage numbers, through the Vonage SDK.

    A bought number is linked to the Voice application whose ``answer_url`` and
    ``event_url`` point at ``{base_url}/vonage/answer`` and ``{base_url}/vonage/event``
    (:meth:`configure_application` sets them).

    Args:
        api_key: The account's API key.
        api_secret: The account's API secret.
        application_id: The Voice application that numbers are linked to.
        base_url: The public URL the webhooks live under.

    Raises:
        ConfigurationError: If a credential is empty.
        ProviderNotInstalled: If the SDK (``calltrack[vonage]``) is not installed.
    """

    provider = NAME

    def __init__(
        self, api_key: str, api_secret: str, application_id: str, *, base_url: str
    ) -> None:
        """Make the SDK's HTTP client; the SDK is imported here, not before."""
        for setting, value in (
            ("api_key", api_key),
            ("api_secret", api_secret),
            ("application_id", application_id),
            ("base_url", base_url),
        ):
            if not value:
                raise ConfigurationError(f"VonageInventory needs {setting}")
        try:
            from vonage_http_client import Auth, HttpClient  # noqa: PLC0415 - lazy SDK
        except ImportError:
            raise ProviderNotInstalled(NAME) from None
        self.application_id = application_id
        self.base_url = base_url.rstrip("/")
        self._http = HttpClient(Auth(api_key=api_key, api_secret=api_secret))

    def __repr__(self) -> str:
        """Name the application, never the credentials."""
        return f"<VonageInventory application={self.application_id}>"

    @classmethod
    def from_env(cls, base_url: str) -> Self:
        """Make an inventory from the ``CALLTRACK_VONAGE_*`` environment variables.

        ``CALLTRACK_VONAGE_API_KEY``, ``CALLTRACK_VONAGE_API_SECRET`` and
        ``CALLTRACK_VONAGE_APPLICATION_ID`` must be set.

        Raises:
            ConfigurationError: Naming the variable that is not set.
        """
        values = []
        for variable in (ENV_API_KEY, ENV_API_SECRET, ENV_APPLICATION_ID):
            value = os.environ.get(variable, "")
            if not value:
                raise ConfigurationError(f"the environment variable {variable} is not set")
            values.append(value)
        return cls(*values, base_url=base_url)

    def _numbers(self) -> Any:  # noqa: ANN401 - the SDK's untyped client
        from vonage_numbers import Numbers  # noqa: PLC0415 - lazy SDK

        return Numbers(self._http)

    def search(
        self, country: str, *, area: str | None = None, kind: str = "local", limit: int = 20
    ) -> list[AvailableNumber]:
        """List voice numbers for sale in ``country`` (and ``area``) of ``kind``.

        Raises:
            ConfigurationError: If ``kind`` or ``limit`` is not one Vonage takes.
            ProviderAPIError: If Vonage refuses.
        """
        if kind not in _KINDS:
            raise ConfigurationError(f"kind must be one of {sorted(_KINDS)}, not {kind!r}")
        if not 1 <= limit <= 100:  # noqa: PLR2004 - Vonage's page size limit
            raise ConfigurationError("limit must be between 1 and 100")
        import phonenumbers  # noqa: PLC0415 - only the inventory needs the country code

        region = country.upper()
        code = phonenumbers.country_code_for_region(region)
        if not code:
            raise ConfigurationError(f"unknown country {country!r}")
        from vonage_numbers import SearchAvailableNumbersFilter  # noqa: PLC0415 - lazy SDK

        pattern = f"{code}{area}" if area else None
        query = SearchAvailableNumbersFilter(
            country=region,
            type=_KINDS[kind],
            features="VOICE",
            pattern=pattern,
            search_pattern=0 if pattern else None,
            size=limit,
        )
        found, _, _ = _call(lambda: self._numbers().search_available_numbers(query))
        return [
            AvailableNumber(
                number="+" + str(item.msisdn),
                provider=NAME,
                country=str(item.country or region),
                area=area,
                kind=_KIND_OF_TYPE.get(str(getattr(item.type, "value", item.type)), kind),
                monthly_cost=str(item.cost) if item.cost is not None else None,
            )
            for item in found[:limit]
        ]

    def buy(self, number: str) -> str:
        """Buy ``number`` and link it to the Voice application; return it in E.164.

        Raises:
            InvalidPhoneNumber: If ``number`` is not a valid number.
            ProviderAPIError: If Vonage refuses.
        """
        e164, region = _e164(number)
        from vonage_numbers import NumberParams, UpdateNumberParams  # noqa: PLC0415 - lazy SDK

        msisdn = e164[1:]
        numbers = self._numbers()
        _call(lambda: numbers.buy_number(NumberParams(country=region, msisdn=msisdn)))
        link = UpdateNumberParams(country=region, msisdn=msisdn, app_id=self.application_id)
        _call(lambda: numbers.update_number(link))
        return e164

    def release(self, number: str) -> None:
        """Cancel the rental of ``number``.

        Raises:
            InvalidPhoneNumber: If ``number`` is not a valid number.
            ProviderAPIError: If Vonage refuses.
        """
        e164, region = _e164(number)
        from vonage_numbers import NumberParams  # noqa: PLC0415 - lazy SDK

        params = NumberParams(country=region, msisdn=e164[1:])
        _call(lambda: self._numbers().cancel_number(params))

    def configure_application(self, name: str = "calltrack") -> None:
        """Point the Voice application's webhooks at ``base_url``, signed, with POST.

        Sets ``answer_url`` to ``{base_url}/vonage/answer`` and ``event_url`` to
        ``{base_url}/vonage/event``, both ``POST`` (so the answer's body is covered by
        the token's ``payload_hash``), and turns signed callbacks on.

        Raises:
            ProviderAPIError: If Vonage refuses.
        """
        from vonage_application import Application, ApplicationConfig  # noqa: PLC0415
        from vonage_application.common import (  # noqa: PLC0415 - lazy SDK
            Capabilities,
            Voice,
            VoiceUrl,
            VoiceWebhooks,
        )

        prefix = f"{self.base_url}/{NAME}"
        config = ApplicationConfig(
            name=name,
            capabilities=Capabilities(
                voice=Voice(
                    webhooks=VoiceWebhooks(
                        answer_url=VoiceUrl(address=f"{prefix}/answer", http_method="POST"),
                        event_url=VoiceUrl(address=f"{prefix}/event", http_method="POST"),
                    ),
                    signed_callbacks=True,
                )
            ),
        )
        application = Application(self._http)
        _call(lambda: application.update_application(self.application_id, config))


def _e164(number: str) -> tuple[str, str]:
    from calltrack.domain.phones import normalize_caller, region_of  # noqa: PLC0415

    e164 = normalize_caller(number)
    if e164 is None:
        raise InvalidPhoneNumber(number, "not a valid phone number")
    return e164, region_of(e164)


def _call(action: Callable[[], Any]) -> Any:  # noqa: ANN401 - the SDK's untyped results
    """Run an SDK call; turn the SDK's and the network's errors into ProviderAPIError."""
    from requests import RequestException  # noqa: PLC0415 - lazy, the SDK's HTTP layer
    from vonage_http_client.errors import (  # noqa: PLC0415 - lazy SDK
        HttpRequestError,
        VonageError,
    )

    try:
        return action()
    except HttpRequestError as exc:
        raise ProviderAPIError(NAME, exc.response.status_code, _api_message(exc)) from exc
    except VonageError as exc:
        raise ProviderAPIError(NAME, None, str(exc)) from exc
    except RequestException as exc:
        raise ProviderAPIError(NAME, None, f"request failed: {exc}") from exc


def _api_message(exc: Any) -> str:  # noqa: ANN401 - the SDK's error
    try:
        body = exc.response.json()
    except ValueError:
        return str(exc.response.text or exc)
    if isinstance(body, dict):
        for key in ("error-code-label", "title", "detail", "error_title"):
            if body.get(key):
                return str(body[key])
    return str(body)
