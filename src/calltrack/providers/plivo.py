"""The Plivo adapter: webhook signatures, events and Plivo XML, and the number inventory.

The hot path (:meth:`PlivoProvider.verify`, :meth:`~PlivoProvider.parse`,
:meth:`~PlivoProvider.render`) is written with the standard library alone; the Plivo SDK is
imported only by :class:`PlivoInventory`, when it talks to Plivo's REST API.

Webhooks live at ``{base_url}/plivo/{event}``:

============== =========================================== ===============================
event          what Plivo sends                            normalized event
============== =========================================== ===============================
``voice``      the application's ``answer_url``            :class:`InboundCall`
``dial``       the ``<Dial action>`` when the dial ends    :class:`DialResult` (final)
``dial-events`` the ``<Dial callbackUrl>`` live B-leg      :class:`CallProgress`
               events, when no accept key is asked
``accept``     the ``<Dial callbackUrl>`` when an accept   :class:`AcceptKey` on
               key is asked                                ``DialAnswer``, else
                                                           :class:`CallProgress`
``whisper``    the ``<Dial confirmSound>`` fetch           :class:`WhisperRequest`
``recording``  the ``<Record callbackUrl>``                :class:`RecordingReady`
``hangup``     the application's ``hangup_url``            :class:`CallProgress`
============== =========================================== ===============================

``docs/providers/plivo.md`` explains each choice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote_plus, unquote_plus, urlencode, urlparse, urlunparse

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
    InvalidSignature,
    MalformedWebhook,
    ProviderAPIError,
    ProviderNotInstalled,
)
from calltrack.ports import AvailableNumber, Document, WebhookRequest
from calltrack.providers._common import (
    any_matches,
    optional_field,
    require_field,
    warn_unverified,
)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "A_LEG_PARAM",
    "KEY_PARAM",
    "MAIN_ACCOUNT_SIGNATURE_HEADER",
    "NONCE_HEADER",
    "SIGNATURE_HEADER",
    "PlivoInventory",
    "PlivoProvider",
    "dial_status",
    "form_pairs",
    "signature_base",
    "signature_v3",
]

SIGNATURE_HEADER = "X-Plivo-Signature-V3"
"""The header that carries the V3 signature(s), comma-separated, made with the auth token."""
MAIN_ACCOUNT_SIGNATURE_HEADER = "X-Plivo-Signature-Ma-V3"
"""The same signature made with the main account's token (for subaccounts)."""
NONCE_HEADER = "X-Plivo-Signature-V3-Nonce"
"""The random nonce that takes part in the signature."""
A_LEG_PARAM = "aleg"
"""The query parameter that carries the caller's (A-leg) CallUUID on calltrack's callback URLs."""
KEY_PARAM = "key"
"""The query parameter that carries the accept key on calltrack's callback URLs."""

_XML = "application/xml"
_FORM = "application/x-www-form-urlencoded"
_EVENTS = frozenset({"voice", "dial", "dial-events", "accept", "whisper", "recording", "hangup"})

# Characters XML 1.0 cannot carry at all; they are dropped from spoken text.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_DIAL_WORDS: Mapping[str, DialStatus] = {
    "busy": DialStatus.BUSY,
    "rejected": DialStatus.BUSY,
    "failed": DialStatus.FAILED,
    "timeout": DialStatus.NO_ANSWER,
    "no-answer": DialStatus.NO_ANSWER,
    "cancel": DialStatus.CANCELED,
    "canceled": DialStatus.CANCELED,
    "cancelled": DialStatus.CANCELED,
}
"""``DialStatus`` words of the Dial action, other than ``completed``."""

_HANGUP_CAUSES: Mapping[str, DialStatus] = {
    "USER_BUSY": DialStatus.BUSY,
    "CALL_REJECTED": DialStatus.BUSY,
    "NO_ANSWER": DialStatus.NO_ANSWER,
    "NO_USER_RESPONSE": DialStatus.NO_ANSWER,
    "UNALLOCATED_NUMBER": DialStatus.FAILED,
    "NO_ROUTE_DESTINATION": DialStatus.FAILED,
}
"""Hangup causes that name a missed ending when ``DialStatus`` says only ``completed``."""

_CALLER_HUNG_UP = "ORIGINATOR_CANCEL"


# --- signatures ------------------------------------------------------------------------
def form_pairs(text: str) -> list[tuple[str, str]]:
    """Split form-encoded text into ``(key, value)`` pairs, in order, blanks kept.

    The same pairs as ``urllib.parse.parse_qsl(text, keep_blank_values=True)``, without
    its cost when nothing needs unquoting.
    """
    pairs = []
    for piece in text.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        if "%" in piece or "+" in piece:
            key, value = unquote_plus(key), unquote_plus(value)
        pairs.append((key, value))
    return pairs


_PLAIN_URL = re.compile(r"https?://[!$&'()*+,\-./0-9:=?@A-Z\[\]_a-z~%#]*")


def _split_url(url: str) -> tuple[str, str]:
    """The URL without its query and fragment, and its query; as Plivo's validator reads it."""
    if _PLAIN_URL.fullmatch(url):
        origin, _, query = url.split("#", 1)[0].partition("?")
        return origin, query
    parsed = urlparse(url)
    return urlunparse((parsed.scheme, parsed.netloc, parsed.path, "", "", "")), parsed.query


def _sorted_query(query: str) -> str:
    # Decoded as UTF-8. Plivo's own validator fails on any query that is not ASCII, so
    # there is no reference for those; calltrack's callback URLs are ASCII.
    # Sorting the pairs sorts by key, then a repeated key's values, as Plivo does.
    return "&".join(f"{key}={value}" for key, value in sorted(form_pairs(query)))


def signature_base(method: str, url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """Return the text Plivo signs for a request (before the ``.nonce`` is appended).

    ``POST``: the URL without its query, ``?``, the query's ``key=value`` pairs sorted and
    joined with ``&``, a ``.`` if there were both a query and parameters, then the body's
    parameters sorted, each written ``keyvalue``. ``GET``: the URL without its query, then
    ``?`` and the sorted query, if there is one.

    Args:
        method: ``"POST"`` or ``"GET"``.
        url: The full URL Plivo requested, query string included.
        params: The form-encoded body's parameters (``POST`` only).
    """
    origin, raw_query = _split_url(url)
    query = _sorted_query(raw_query)
    if method.upper() == "GET":
        return f"{origin}?{query}" if query else origin
    pairs = sorted(params)
    if not pairs:
        return f"{origin}?{query}" if query else origin
    body = "".join(key + value for key, value in pairs)
    return f"{origin}?{query}.{body}" if query else f"{origin}?{body}"


def signature_v3(token: str, base: str, nonce: str) -> str:
    """Return Plivo's V3 signature: base64 of HMAC-SHA256(token, ``base + "." + nonce``)."""
    digest = hmac.digest(token.encode(), f"{base}.{nonce}".encode(), hashlib.sha256)
    return base64.b64encode(digest).decode("ascii")


def _offered(header: str | None) -> list[str]:
    return [part for part in (header or "").split(",") if part]


# --- parsing helpers -------------------------------------------------------------------
def dial_status(
    word: str, hangup_cause: str | None, b_leg: str | None, *, accept_key_asked: bool
) -> DialStatus:
    """Map a Dial action's fields to a normalized status.

    In order: a B leg means the legs were bridged (ANSWERED); the hangup cause
    ``ORIGINATOR_CANCEL`` means the caller hung up while it rang (CANCELED); ``busy``,
    ``failed``, ``timeout`` and ``no-answer`` map directly; ``completed`` without a B leg is
    NOT_ACCEPTED when the recruiter had to press a key (they picked up and did not press it),
    else whatever the hangup cause names; anything else is UNKNOWN.

    Args:
        word: The ``DialStatus`` field.
        hangup_cause: The ``DialHangupCause`` field.
        b_leg: The ``DialBLegUUID`` field; empty when nobody answered.
        accept_key_asked: Whether the ``<Dial>`` asked for an accept key.
    """
    if b_leg:
        return DialStatus.ANSWERED
    cause = (hangup_cause or "").strip().upper()
    if cause == _CALLER_HUNG_UP:
        return DialStatus.CANCELED
    normalized = word.strip().lower()
    mapped = _DIAL_WORDS.get(normalized)
    if mapped is not None:
        return mapped
    if normalized == "completed":
        if accept_key_asked:
            return DialStatus.NOT_ACCEPTED
        return _HANGUP_CAUSES.get(cause, DialStatus.UNKNOWN)
    return DialStatus.UNKNOWN


def _recording_seconds(params: Mapping[str, str], field: str) -> int | None:
    value = params.get(field)
    if value is None or value == "":
        return None
    try:
        seconds = int(float(value))
    except (ValueError, OverflowError):
        raise MalformedWebhook(f"the field {field!r} is not a number", field=field) from None
    # Plivo writes -1 while a recording's length is not known yet.
    return seconds if seconds >= 0 else None


def _first(params: Mapping[str, str], *fields: str) -> str:
    for field in fields:
        value = params.get(field)
        if value:
            return value
    names = " or ".join(repr(f) for f in fields)
    raise MalformedWebhook(f"the field {names} is missing", field=fields[0])


# --- rendering helpers -----------------------------------------------------------------
# Escaped by hand rather than with xml.sax.saxutils, which loads urllib.request (~18 ms).
def _text(text: str) -> str:
    cleaned = _NOT_XML.sub("", text)
    return (
        cleaned.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


def _attr(value: str) -> str:
    escaped = _text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return f'"{escaped}"'


_HANGUP = "<Hangup/>"


def _response(*children: str) -> str:
    return f"<Response>{''.join(children)}</Response>" if children else "<Response/>"


def _speak(prompt: Prompt) -> str:
    voice = f" voice={_attr(prompt.voice)}" if prompt.voice is not None else ""
    return f"<Speak{voice} language={_attr(prompt.language)}>{_text(prompt.text)}</Speak>"


def _digits(number: str) -> str:
    return number.strip().removeprefix("+")


class PlivoProvider:
    """Plivo's webhooks: verify ``X-Plivo-Signature-V3``, parse, render Plivo XML.

    Args:
        secrets: Auth tokens of the (sub)account whose numbers call in; any of them
            verifies, so a token can be rotated by listing the new one first.
        base_url: The public URL the webhooks live under (``https://calls.example.com``);
            documents point Plivo at ``{base_url}/plivo/{event}``, and signatures are also
            checked against that public URL, so that a proxy in front does not break them.
        verify_signatures: Switching verification off needs saying so, and warns.
        main_account_secrets: Tokens of the main account, checked against
            ``X-Plivo-Signature-Ma-V3`` (for numbers of a subaccount).
        confirm_timeout: Seconds the recruiter has, from picking up, to press the accept
            key (Plivo's ``confirmTimeout``; Plivo's own default is 120).
        max_recording_seconds: The longest conversation recorded (``maxLength``; Plivo's
            own default, 60 seconds, would cut most conversations short).
    """

    name = "plivo"
    events = _EVENTS

    def __init__(
        self,
        secrets: Sequence[str] | str,
        *,
        base_url: str,
        verify_signatures: bool = True,
        main_account_secrets: Sequence[str] = (),
        confirm_timeout: int = 20,
        max_recording_seconds: int = 3600,
    ) -> None:
        """Configure the adapter; see the class docstring."""
        tokens = (secrets,) if isinstance(secrets, str) else tuple(secrets)
        if not tokens or not all(tokens):
            raise ConfigurationError("PlivoProvider needs at least one non-empty auth token")
        main = (
            (main_account_secrets,)
            if isinstance(main_account_secrets, str)
            else tuple(main_account_secrets)
        )
        if not all(main):
            raise ConfigurationError("main_account_secrets must not hold an empty token")
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query:
            raise ConfigurationError(
                f"base_url must be an absolute http(s) URL without a query: {base_url!r}"
            )
        if confirm_timeout <= 0 or max_recording_seconds <= 0:
            raise ConfigurationError("confirm_timeout and max_recording_seconds must be positive")
        self.secrets = tokens
        self.main_account_secrets = main
        self.base_url = base_url.rstrip("/")
        self.verify_signatures = verify_signatures
        self.confirm_timeout = confirm_timeout
        self.max_recording_seconds = max_recording_seconds
        self._urls = {event: self.url(event) for event in _EVENTS}
        if not verify_signatures:
            warn_unverified(self.name)

    def __repr__(self) -> str:
        """Name the base URL, never the tokens."""
        return f"<PlivoProvider {self.base_url}>"

    def url(self, event: str, **query: str | None) -> str:
        """The public URL of webhook ``event``, with query parameters that are not ``None``."""
        items = [(key, value) for key, value in query.items() if value is not None]
        base = f"{self.base_url}/{self.name}/{event}"
        return f"{base}?{urlencode(items)}" if items else base

    # --- verify ----------------------------------------------------------------------
    def _public_url(self, url: str) -> str | None:
        origin, query = _split_url(url)
        at = origin.rfind(f"/{self.name}/")
        if at < 0:
            return None
        public = self.base_url + origin[at:]
        return f"{public}?{query}" if query else public

    def verify(self, request: WebhookRequest) -> None:
        """Check ``X-Plivo-Signature-V3`` (or ``-Ma-V3``) against every configured token.

        The signature is checked against the URL the request names and, failing that,
        against the same path and query under ``base_url``; each comparison takes constant
        time.

        Raises:
            InvalidSignature: If the nonce or the signature is missing or matches no token.
            MalformedWebhook: If a ``POST`` body is not UTF-8.
        """
        if not self.verify_signatures:
            return
        nonce = request.header(NONCE_HEADER)
        if not nonce:
            raise InvalidSignature(f"the {NONCE_HEADER} header is missing")
        offered = _offered(request.header(SIGNATURE_HEADER))
        offered_main = _offered(request.header(MAIN_ACCOUNT_SIGNATURE_HEADER))
        if not offered and not offered_main:
            raise InvalidSignature(f"the {SIGNATURE_HEADER} header is missing")
        method = request.method.upper()
        params = _form_items(request) if method == "POST" else []
        if self._signed(signature_base(method, request.url, params), nonce, offered, offered_main):
            return
        public = self._public_url(request.url)
        if public is not None and public != request.url:
            base = signature_base(method, public, params)
            if self._signed(base, nonce, offered, offered_main):
                return
        raise InvalidSignature(f"{SIGNATURE_HEADER} matches no configured auth token")

    def _signed(self, base: str, nonce: str, offered: list[str], offered_main: list[str]) -> bool:
        found = _matches(offered, base, nonce, self.secrets)
        found |= _matches(offered_main, base, nonce, self.main_account_secrets)
        return found

    # --- parse -----------------------------------------------------------------------
    def parse(self, event: str, request: WebhookRequest) -> ProviderEvent:  # noqa: PLR0911 - one branch per webhook
        """Parse a verified request for webhook ``event`` into a normalized event.

        Raises:
            MalformedWebhook: Naming the field that is missing or unreadable, or saying why
                the body cannot be read.
        """
        params = _params(request)
        raw: Mapping[str, Any] = params
        if event == "voice":
            return InboundCall(
                self.name,
                require_field(params, "CallUUID"),
                optional_field(params, "From"),
                require_field(params, "To"),
                raw,
            )
        if event == "dial":
            b_leg = optional_field(params, "DialBLegUUID")
            status = dial_status(
                require_field(params, "DialStatus"),
                optional_field(params, "DialHangupCause"),
                b_leg,
                accept_key_asked=bool(_ours(request).get(KEY_PARAM)),
            )
            return DialResult(
                self.name,
                _first(params, "DialALegUUID", "CallUUID"),
                status,
                dial_call_id=b_leg,
                final=True,
                raw=raw,
            )
        if event == "dial-events":
            call_id = _first(params, "DialALegUUID", "CallUUID")
            word = optional_field(params, "Event") or optional_field(params, "DialAction")
            return CallProgress(self.name, call_id, word or "DialEvent", raw)
        if event == "accept":
            call_id = _first(params, "DialALegUUID", "CallUUID")
            key = _first(_ours(request), KEY_PARAM)
            word = optional_field(params, "Event") or optional_field(params, "DialAction") or ""
            if word in ("DialAnswer", "answer"):
                return AcceptKey(self.name, call_id, key, raw)
            return CallProgress(self.name, call_id, word or "DialEvent", raw)
        if event == "whisper":
            merged = {**params, **_ours(request)}
            return WhisperRequest(
                self.name, _first(merged, A_LEG_PARAM, "DialALegUUID", "ALegUUID"), raw
            )
        if event == "recording":
            merged = {**params, **_ours(request)}
            return RecordingReady(
                self.name,
                _first(merged, A_LEG_PARAM, "CallUUID"),
                require_field(params, "RecordingID"),
                require_field(params, "RecordUrl"),
                _recording_seconds(params, "RecordingDuration"),
                raw,
            )
        if event == "hangup":
            call_id = require_field(params, "CallUUID")
            return CallProgress(
                self.name, call_id, optional_field(params, "CallStatus") or "completed", raw
            )
        raise MalformedWebhook(f"no such plivo webhook: {event!r}")

    # --- render ----------------------------------------------------------------------
    def render(self, decision: Decision) -> Document:
        """Render a decision as a Plivo XML document."""
        if isinstance(decision, Forward):
            body = self._forward(decision)
        elif isinstance(decision, Whisper):
            spoken = [_speak(decision.prompt)]
            if decision.accept_key is not None and decision.accept_prompt is not None:
                spoken.append(_speak(decision.accept_prompt))
            body = _response(*spoken)
        elif isinstance(decision, Reject):
            reason = "busy" if decision.busy else "rejected"
            body = _response(f'<Hangup reason="{reason}"/>')
        elif isinstance(decision, Announce):
            body = _response(_speak(decision.prompt), _HANGUP)
        elif isinstance(decision, Hangup):
            said = [_speak(decision.prompt)] if decision.prompt is not None else []
            body = _response(*said, _HANGUP)
        elif isinstance(decision, (Bridge, Acknowledge)):
            body = _response()
        else:  # pragma: no cover - Decision is closed
            msg = f"not a decision: {decision!r}"  # type: ignore[unreachable]
            raise TypeError(msg)
        return Document(body, _XML)

    def _forward(self, decision: Forward) -> str:
        # Written out by hand: this is the document of every forwarded call.
        call = quote_plus(decision.call_id)
        key = decision.accept_key
        record = ""
        if decision.record:
            ready = _attr(f"{self._urls['recording']}?{A_LEG_PARAM}={call}")
            record = (
                '<Record fileFormat="mp3" redirect="false" '
                f'maxLength="{self.max_recording_seconds}" startOnDialAnswer="true" '
                f"callbackUrl={ready} "
                'callbackMethod="POST" recordChannelType="stereo"/>'
            )
        if key is None:
            action = _attr(self._urls["dial"])
            confirm = ""
            callback = _attr(self._urls["dial-events"])
        else:
            pressed = quote_plus(key)
            action = _attr(f"{self._urls['dial']}?{KEY_PARAM}={pressed}")
            confirm = f' confirmTimeout="{self.confirm_timeout}" confirmKey={_attr(key)}'
            callback = _attr(f"{self._urls['accept']}?{KEY_PARAM}={pressed}")
        whisper = _attr(f"{self._urls['whisper']}?{A_LEG_PARAM}={call}")
        return (
            f"<Response>{_speak(decision.greeting)}{record}"
            f'<Dial action={action} method="POST" timeout="{int(decision.ring_timeout)}" '
            f"callerId={_attr(_digits(decision.caller_id))} confirmSound={whisper}{confirm} "
            f'callbackUrl={callback} callbackMethod="POST" redirect="true">'
            f"<Number>{_text(_digits(decision.real_number))}</Number></Dial></Response>"
        )


def _matches(offered: Sequence[str], base: str, nonce: str, tokens: Sequence[str]) -> bool:
    if not offered or not tokens:
        return False
    expected = [signature_v3(token, base, nonce) for token in tokens]
    found = False
    for signature in offered:
        found |= any_matches(signature, expected)
    return found


def _form_items(request: WebhookRequest) -> list[tuple[str, str]]:
    body = request.body
    last = _LAST_FORM[0]
    if last[0] is body:  # verify read this very body a moment ago
        return last[1]
    try:
        pairs = form_pairs(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedWebhook("the body is not UTF-8 form data") from None
    # One slot, replaced whole: the pairs depend on the body's bytes alone, so a stale
    # slot or a race between threads can only miss, never answer wrongly.
    _LAST_FORM[0] = (body, pairs)
    return pairs


_LAST_FORM: list[tuple[bytes, list[tuple[str, str]]]] = [(b"", [])]


def _ours(request: WebhookRequest) -> dict[str, str]:
    """The query parameters calltrack put on its own callback URL."""
    return dict(form_pairs(_split_url(request.url)[1]))


def _params(request: WebhookRequest) -> dict[str, str]:
    if request.method.upper() != "POST":
        return dict(form_pairs(_split_url(request.url)[1]))
    kind = request.content_type
    if request.body and kind and kind != _FORM:
        raise MalformedWebhook(f"the body is {kind}, not {_FORM}")
    return dict(_form_items(request))


# --- number inventory ------------------------------------------------------------------
_KINDS: Mapping[str, str] = {"local": "fixed", "mobile": "mobile", "tollfree": "tollfree"}
_ENV_AUTH_ID = "CALLTRACK_PLIVO_AUTH_ID"
_ENV_AUTH_TOKEN = "CALLTRACK_PLIVO_AUTH_TOKEN"  # noqa: S105 - the variable's name, not a secret
_ENV_APP_ID = "CALLTRACK_PLIVO_APP_ID"
_E164_DIGITS = re.compile("[1-9][0-9]{6,14}")

T = TypeVar("T")


def _import_sdk() -> Any:  # noqa: ANN401 - the SDK module is untyped
    try:
        import plivo  # noqa: PLC0415 - the SDK is optional and heavy; loaded on first use
    except ImportError as exc:
        raise ProviderNotInstalled("plivo") from exc
    return plivo


class PlivoInventory:
    """Plivo numbers over the REST API, through the Plivo SDK (``calltrack[plivo]``).

    A Plivo number reaches its webhooks through an *application*: bought numbers are
    linked to ``app_id``, or to an application made on the first purchase with
    ``answer_url`` = ``{base_url}/plivo/voice`` and ``hangup_url`` = ``{base_url}/plivo/hangup``.

    Args:
        auth_id: The account's (or subaccount's) auth id.
        auth_token: Its auth token.
        base_url: The public URL the webhooks live under.
        app_id: The Plivo application to link bought numbers to; made on first use if unset.
        app_name: The name of the application made when ``app_id`` is unset.
    """

    provider = "plivo"

    def __init__(
        self,
        auth_id: str,
        auth_token: str,
        *,
        base_url: str,
        app_id: str | None = None,
        app_name: str = "calltrack",
    ) -> None:
        """Keep the credentials; nothing is imported or requested yet."""
        if not auth_id or not auth_token:
            raise ConfigurationError("PlivoInventory needs an auth id and an auth token")
        self.auth_id = auth_id
        self._auth_token = auth_token
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.app_name = app_name
        self._client: Any = None
        self._status: int | None = None

    def __repr__(self) -> str:
        """Name the account, never the token."""
        return f"<PlivoInventory {self.auth_id}>"

    @classmethod
    def from_env(cls, base_url: str) -> Self:
        """Read ``CALLTRACK_PLIVO_AUTH_ID``, ``..._AUTH_TOKEN`` and optional ``..._APP_ID``.

        Raises:
            ConfigurationError: Naming the variable that is missing.
        """
        values = {}
        for name in (_ENV_AUTH_ID, _ENV_AUTH_TOKEN):
            value = os.environ.get(name, "")
            if not value:
                raise ConfigurationError(f"the environment variable {name} is not set")
            values[name] = value
        return cls(
            values[_ENV_AUTH_ID],
            values[_ENV_AUTH_TOKEN],
            base_url=base_url,
            app_id=os.environ.get(_ENV_APP_ID) or None,
        )

    def _rest(self) -> Any:  # noqa: ANN401 - the SDK client is untyped
        if self._client is None:
            plivo = _import_sdk()
            try:
                client = plivo.RestClient(self.auth_id, self._auth_token)
            except plivo.exceptions.PlivoRestError as exc:
                raise ConfigurationError(f"the Plivo auth id or token is not valid: {exc}") from exc
            client.session.hooks["response"].append(self._remember_status)
            self._client = client
        return self._client

    def _remember_status(self, response: Any, *_: Any, **__: Any) -> None:  # noqa: ANN401 - requests' hook signature
        self._status = int(response.status_code)

    def _call(self, work: Callable[[Any], T]) -> T:
        client = self._rest()
        plivo = _import_sdk()
        self._status = None
        try:
            return work(client)
        except plivo.exceptions.PlivoRestError as exc:
            raise ProviderAPIError(
                self.provider, self._status, str(exc) or type(exc).__name__
            ) from exc
        except OSError as exc:  # requests' errors are OSErrors: no answer from Plivo
            raise ProviderAPIError(self.provider, None, str(exc)) from exc

    def search(
        self, country: str, *, area: str | None = None, kind: str = "local", limit: int = 20
    ) -> list[AvailableNumber]:
        """List voice numbers for sale in ``country`` (an area code, or a region name).

        Raises:
            ValueError: For a ``kind`` other than local, mobile or tollfree, or a bad limit.
            ProviderAPIError: If Plivo refuses.
        """
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {sorted(_KINDS)}, not {kind!r}")
        if limit <= 0:
            raise ValueError(f"limit must be positive, not {limit}")
        region = country.strip().upper()
        query: dict[str, Any] = {"type": _KINDS[kind], "services": "voice", "limit": limit}
        if area:
            query["pattern" if area.isdigit() else "region"] = area
        found = self._call(lambda c: c.numbers.search(region, **query))
        numbers = []
        for item in list(getattr(found, "objects", None) or [])[:limit]:
            number = str(getattr(item, "number", ""))
            cost = getattr(item, "monthly_rental_rate", None)
            numbers.append(
                AvailableNumber(
                    number="+" + _digits(number),
                    provider=self.provider,
                    country=region,
                    area=area,
                    kind=kind,
                    monthly_cost=None if cost is None else str(cost),
                )
            )
        return numbers

    def application_id(self) -> str:
        """The application bought numbers are linked to; made (once) if none was given.

        Raises:
            ProviderAPIError: If Plivo refuses to make it.
        """
        if self.app_id is None:
            made = self._call(
                lambda c: c.applications.create(
                    app_name=self.app_name,
                    answer_url=f"{self.base_url}/plivo/voice",
                    answer_method="POST",
                    hangup_url=f"{self.base_url}/plivo/hangup",
                    hangup_method="POST",
                )
            )
            self.app_id = str(made["app_id"])
        return self.app_id

    def buy(self, number: str) -> str:
        """Buy ``number`` (E.164) linked to the application; return it in E.164.

        Raises:
            ValueError: If ``number`` is not a phone number in E.164.
            ProviderAPIError: If Plivo refuses.
        """
        digits = _e164_digits(number)
        app_id = self.application_id()
        self._call(lambda c: c.numbers.buy(digits, app_id=app_id))
        return "+" + digits

    def release(self, number: str) -> None:
        """Give ``number`` (E.164) back to Plivo.

        Raises:
            ValueError: If ``number`` is not a phone number in E.164.
            ProviderAPIError: If Plivo refuses.
        """
        digits = _e164_digits(number)
        self._call(lambda c: c.numbers.delete(digits))


def _e164_digits(number: str) -> str:
    digits = _digits(number)
    if not _E164_DIGITS.fullmatch(digits):
        raise ValueError(f"not a phone number in E.164: {number!r}")
    return digits
