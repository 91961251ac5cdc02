r"""The Twilio adapter: TwiML documents, ``X-Twilio-Signature`` checks, number inventory.

The hot path (:meth:`TwilioProvider.verify`, :meth:`~TwilioProvider.parse`,
:meth:`~TwilioProvider.render`) uses the standard library only. The Twilio SDK is imported
by :class:`TwilioInventory` alone, when it first talks to the REST API, and is installed
with the extra ``calltrack[twilio]``.

Webhooks live at ``{base_url}/twilio/{event}``:

========== ====================================== ==========================================
event      what Twilio sends                      normalized event
========== ====================================== ==========================================
voice      the number's Voice URL (inbound call)  :class:`~calltrack.domain.events.InboundCall`
dial       the ``<Dial action>`` callback         :class:`~calltrack.domain.events.DialResult`
whisper    the ``<Number url>`` fetch (child leg) :class:`~calltrack.domain.events.WhisperRequest`
accept     the ``<Gather action>`` (child leg)    :class:`~calltrack.domain.events.AcceptKey`
recording  the ``recordingStatusCallback``        :class:`~calltrack.domain.events.RecordingReady`
status     the number's / a leg's status callback :class:`~calltrack.domain.events.CallProgress`
========== ====================================== ==========================================
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

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
    optional_field,
    require_field,
    seconds_field,
    warn_unverified,
)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "DIAL_STATUSES",
    "HMAC_SHA1",
    "HMAC_SHA256",
    "SIGNATURE_HEADER",
    "SIGNATURE_SETTINGS_HEADER",
    "TwilioInventory",
    "TwilioProvider",
    "compute_signature",
    "parse_form",
    "signed_payload",
]

SIGNATURE_HEADER = "X-Twilio-Signature"
"""The header that carries the signature."""
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
"""The header that names a SharedKey and its algorithm (``key=…,algorithm=HMAC_SHA256``)."""
HMAC_SHA1 = "HMAC_SHA1"
"""The classic algorithm: HMAC-SHA1 keyed with the account's Auth Token."""
HMAC_SHA256 = "HMAC_SHA256"
"""The SharedKey algorithm: HMAC-SHA256 keyed with a webhook SharedKey secret."""

_HASHES = {HMAC_SHA1: "sha1", HMAC_SHA256: "sha256"}
_DEFAULT_PORTS = {"https": 443, "http": 80}
_BODY_HASH = "bodySHA256"
_CALL_PARAM = "call"
"""The query parameter that carries the inbound leg's id in callback URLs."""
_CONTENT_TYPE = "text/xml; charset=utf-8"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_RECORD_MODE = "record-from-answer-dual"
_ANSWERED_WORDS = frozenset({"completed", "answered"})

DIAL_STATUSES: Mapping[str, DialStatus] = {
    "completed": DialStatus.ANSWERED,
    "answered": DialStatus.ANSWERED,
    "no-answer": DialStatus.NO_ANSWER,
    "busy": DialStatus.BUSY,
    "failed": DialStatus.FAILED,
    "canceled": DialStatus.CANCELED,
}
"""``DialCallStatus`` words and what they mean; any other word is ``UNKNOWN``.

``completed``/``answered`` with ``DialBridged=false`` means the recruiter's leg was picked
up but never bridged (the accept key was not pressed): :attr:`DialStatus.NOT_ACCEPTED`.
"""


# --- signatures ------------------------------------------------------------------------
def signed_payload(url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """The text Twilio signs: the URL, then each name and value, sorted.

    Names are sorted, and the distinct values of a repeated name are sorted too, as
    Twilio's own validator does.

    Args:
        url: The full URL Twilio requested, query string included.
        params: The form parameters of a ``POST`` (none for ``GET`` or JSON bodies).
    """
    # Sorting the distinct (name, value) pairs orders by name, then by value: the same
    # as sorting names and then each name's distinct values.
    return url + "".join([name + value for name, value in sorted(set(params))])


def compute_signature(
    url: str,
    params: Iterable[tuple[str, str]],
    secret: str,
    algorithm: str = HMAC_SHA1,
) -> str:
    """Return the ``X-Twilio-Signature`` Twilio sends for a request.

    Args:
        url: The full URL Twilio requested.
        params: The form parameters (none for ``GET`` or JSON bodies).
        secret: The Auth Token (or the SharedKey secret for ``HMAC_SHA256``).
        algorithm: ``HMAC_SHA1`` or ``HMAC_SHA256``.

    Raises:
        ValueError: For another algorithm.
    """
    digest = _HASHES.get(algorithm.upper())
    if digest is None:
        raise ValueError(f"unsupported Twilio signature algorithm {algorithm!r}")
    return _sign(secret.encode(), signed_payload(url, params).encode(), digest)


def _sign(key: bytes, message: bytes, digest: str) -> str:
    return base64.b64encode(hmac.digest(key, message, digest)).decode()


@functools.lru_cache(maxsize=256)
def _port_variants(url: str) -> tuple[str, ...]:
    """The URL as given, without a port, and with one (the scheme's default if it had none).

    Twilio signs the URL with or without the port; its own validator tries both forms.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return (url,)
    default = _DEFAULT_PORTS.get(parts.scheme)
    if default is None:
        return (url,)
    host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    without = urlunsplit(parts._replace(netloc=host))
    with_port = urlunsplit(parts._replace(netloc=f"{host}:{port or default}"))
    return tuple(dict.fromkeys((url, without, with_port)))


def _algorithm(request: WebhookRequest) -> str:
    settings = request.header(SIGNATURE_SETTINGS_HEADER)
    for part in (settings or "").split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip() == "algorithm" and value.strip():
            return value.strip().upper()
    return HMAC_SHA1


@functools.lru_cache(maxsize=32)
def _form_of(body: bytes) -> tuple[tuple[str, str], ...]:
    """A form body's parameters; cached, as verify and parse read the same body."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedWebhook("the form body is not UTF-8") from None
    return parse_form(text)


def parse_form(text: str) -> tuple[tuple[str, str], ...]:
    """Split a form-encoded body into ``(name, value)`` pairs, in order, blanks kept.

    The same pairs as ``urllib.parse.parse_qsl(text, keep_blank_values=True)``, faster
    for the short, mostly unescaped bodies Twilio sends.
    """
    items = []
    for piece in text.split("&"):
        if not piece:
            continue
        items.append(_pair(piece) if len(piece) <= _CACHED_PIECE else _pair.__wrapped__(piece))
    return tuple(items)


_CACHED_PIECE = 256
"""Pieces up to this long are decoded through a cache: most of Twilio's repeat."""


@functools.lru_cache(maxsize=2048)
def _pair(piece: str) -> tuple[str, str]:
    name, _, value = piece.partition("=")
    if "+" in piece:
        name = name.replace("+", " ")
        value = value.replace("+", " ")
    return unquote(name), unquote(value)


def _form(request: WebhookRequest) -> tuple[tuple[str, str], ...]:
    return _form_of(request.body)


# --- TwiML -------------------------------------------------------------------------------
_TEXT_SPECIAL = re.compile(r"[&<>]")
_ATTR_SPECIAL = re.compile(r'[&<>"\r\n\t]')


def _text(value: str) -> str:
    if _TEXT_SPECIAL.search(value) is None:
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    if _ATTR_SPECIAL.search(value) is None:
        return value
    return (
        _text(value)
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
        .replace("\n", "&#10;")
        .replace("\t", "&#09;")
    )


def _tag(name: str, attributes: Mapping[str, object], inner: str = "") -> str:
    """One TwiML element as Twilio's library writes it: attributes sorted, ``<X />`` if empty."""
    head = name
    for key in sorted(attributes):
        value = attributes[key]
        if value is None:
            continue
        shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
        head += f' {key}="{_attr(shown)}"'
    if not inner:
        return f"<{head} />"
    return f"<{head}>{inner}</{name}>"


def _say(prompt: Prompt) -> str:
    voice = f' voice="{_attr(prompt.voice)}"' if prompt.voice is not None else ""
    head = f'Say language="{_attr(prompt.language)}"{voice}'
    if not prompt.text:
        return f"<{head} />"
    return f"<{head}>{_text(prompt.text)}</Say>"


def _with_query(url: str, name: str, value: str) -> str:
    return f"{url}?{name}={quote(value, safe='')}"


class TwilioProvider:
    """Twilio's webhooks: ``X-Twilio-Signature`` checks, parsing, TwiML documents.

    Args:
        secrets: Auth Tokens (or SharedKey secrets); any of them verifies a request, so a
            rotated token keeps working while it is listed. The first one is the current.
        base_url: The public URL the webhooks live under (``https://calls.example.com``);
            signatures are checked against it, so the adapter works behind a proxy, and
            documents point their callbacks at it.
        verify_signatures: ``False`` skips the check; it warns, and is for local tests only.

    Raises:
        ConfigurationError: Without a secret (while verifying) or with a base URL that is
            not ``http(s)://host[/path]``.
    """

    name = "twilio"
    events = frozenset({"voice", "dial", "whisper", "accept", "recording", "status"})

    def __init__(
        self,
        secrets: Sequence[str],
        *,
        base_url: str,
        verify_signatures: bool = True,
    ) -> None:
        if isinstance(secrets, str):
            secrets = (secrets,)
        self.secrets = tuple(secrets)
        self._keys = tuple(secret.encode() for secret in self.secrets)
        if verify_signatures and (not self.secrets or not all(self.secrets)):
            raise ConfigurationError("TwilioProvider needs at least one non-empty Auth Token")
        parts = urlsplit(base_url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.netloc or parts.query:
            raise ConfigurationError(
                f"TwilioProvider base_url must be http(s)://host[/path], not {base_url!r}"
            )
        self.base_url = base_url.rstrip("/")
        self.verify_signatures = verify_signatures
        self._dial_url = _attr(self.url("dial"))
        self._whisper_url = _attr(self.url("whisper"))
        self._recording_url = self.url("recording")
        if not verify_signatures:
            warn_unverified(self.name)

    def __repr__(self) -> str:
        """Name the base URL, never the secrets."""
        return f"<TwilioProvider {self.base_url}>"

    def url(self, event: str) -> str:
        """The public URL of webhook ``event``."""
        return f"{self.base_url}/{self.name}/{event}"

    # --- verify --------------------------------------------------------------------------
    def public_url(self, request: WebhookRequest) -> str:
        """The URL Twilio requested: ``base_url`` with the request's webhook path and query.

        The webhook layer may rebuild the request's URL from a proxy's view (another
        scheme, host or prefix); Twilio signed the public one. A URL whose path does not end
        in ``/twilio/{event}`` is returned as given.
        """
        parts = urlsplit(request.url)
        _, sep, event = parts.path.rstrip("/").rpartition(f"/{self.name}/")
        if not sep or not event or "/" in event:
            return request.url
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.url(event)}{query}"

    def verify(self, request: WebhookRequest) -> None:
        """Check ``X-Twilio-Signature`` against every secret, in constant time.

        Form ``POST`` bodies are signed with their parameters; ``GET`` requests and JSON
        bodies sign the URL alone, and a JSON body must match the URL's ``bodySHA256``.
        Both the URL with and without the default port are accepted, as Twilio signs either.

        Raises:
            InvalidSignature: If the header is missing or matches no secret.
            MalformedWebhook: If a form body is not UTF-8.
        """
        if not self.verify_signatures:
            return
        given = request.header(SIGNATURE_HEADER)
        if not given:
            raise InvalidSignature(f"the {SIGNATURE_HEADER} header is missing")
        algorithm = _algorithm(request)
        if algorithm not in _HASHES:
            raise InvalidSignature(f"unsupported Twilio signature algorithm {algorithm!r}")
        params: Iterable[tuple[str, str]] = ()
        if request.method.upper() == "POST":
            if request.content_type == "application/json":
                self._check_body_hash(request)
            else:
                params = _form(request)
        signed = signed_payload("", params).encode()
        digest = _HASHES[algorithm]
        given_bytes = given.encode()
        for url in self._signed_urls(request):
            message = url.encode() + signed
            for key in self._keys:
                # Each candidate is compared in constant time; stopping at the first match
                # tells a caller only which URL form or key matched, not any secret.
                if hmac.compare_digest(_sign(key, message, digest).encode(), given_bytes):
                    return
        raise InvalidSignature(f"{SIGNATURE_HEADER} matches no configured secret")

    def _signed_urls(self, request: WebhookRequest) -> Iterator[str]:
        """The URLs Twilio may have signed, most likely first, each once."""
        seen: set[str] = set()
        for url in (self.public_url(request), request.url):
            for variant in _port_variants(url):
                if variant not in seen:
                    seen.add(variant)
                    yield variant

    def _check_body_hash(self, request: WebhookRequest) -> None:
        claimed = [v for k, v in request.query_items() if k == _BODY_HASH]
        if not claimed:
            raise InvalidSignature(f"a JSON body needs the {_BODY_HASH} query parameter")
        actual = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(claimed[-1].lower().encode(), actual.encode()):
            raise InvalidSignature(f"the body does not match {_BODY_HASH}")

    # --- parse ---------------------------------------------------------------------------
    def parse(self, event: str, request: WebhookRequest) -> ProviderEvent:
        """Parse a verified request for webhook ``event`` into a normalized event.

        Raises:
            MalformedWebhook: Naming the missing or unreadable field, or the event.
        """
        parser = _PARSERS.get(event)
        if parser is None:
            raise MalformedWebhook(f"no such Twilio webhook: {event!r}")
        if request.method.upper() == "POST" and request.content_type not in (
            "",
            "application/x-www-form-urlencoded",
        ):
            raise MalformedWebhook(
                f"a Twilio voice webhook is form-encoded, not {request.content_type!r}"
            )
        query = dict(request.query_items()) if "?" in request.url else {}
        params = dict(_form(request)) if request.method.upper() == "POST" else dict(query)
        return parser(self.name, params, query)

    # --- render --------------------------------------------------------------------------
    def render(self, decision: Decision) -> Document:
        """Render a decision as TwiML, written exactly as Twilio's own library writes it."""
        return Document(_DECLARATION + self.twiml(decision), _CONTENT_TYPE)

    def twiml(self, decision: Decision) -> str:
        """The ``<Response>`` element of a decision, without the XML declaration."""
        if isinstance(decision, Forward):
            body = _say(decision.greeting) + self._dial(decision)
        elif isinstance(decision, Whisper):
            body = self._whisper(decision)
        elif isinstance(decision, Reject):
            body = _tag("Reject", {"reason": "busy" if decision.busy else "rejected"})
        elif isinstance(decision, Announce):
            body = _say(decision.prompt) + "<Hangup />"
        elif isinstance(decision, Hangup):
            said = _say(decision.prompt) if decision.prompt is not None else ""
            body = said + "<Hangup />"
        elif isinstance(decision, (Bridge, Acknowledge)):
            body = ""
        else:  # pragma: no cover - Decision is closed
            msg = f"not a decision: {decision!r}"  # type: ignore[unreachable]
            raise TypeError(msg)
        return _tag("Response", {}, body)

    def _dial(self, decision: Forward) -> str:
        # Attributes in the alphabetical order Twilio's library writes them in.
        recording = ""
        if decision.record:
            callback = _with_query(self._recording_url, _CALL_PARAM, decision.call_id)
            recording = f' record="{_RECORD_MODE}" recordingStatusCallback="{_attr(callback)}"'
        return (
            f'<Dial action="{self._dial_url}" answerOnBridge="true"'
            f' callerId="{_attr(decision.caller_id)}"{recording}'
            f' timeout="{decision.ring_timeout}">'
            f'<Number url="{self._whisper_url}">{_text(decision.real_number)}</Number></Dial>'
        )

    def _whisper(self, decision: Whisper) -> str:
        said = _say(decision.prompt)
        key = decision.accept_key
        if key is None:
            return said
        if decision.accept_prompt is not None:
            said += _say(decision.accept_prompt)
        gather = {
            "action": self.url("accept"),
            "finishOnKey": "" if key == "#" else None,
            "numDigits": len(key),
            "timeout": decision.accept_timeout,
        }
        return _tag("Gather", gather, said) + "<Hangup />"


# --- the parsers, one per webhook --------------------------------------------------------
Params = Mapping[str, str]


def _inbound(provider: str, params: Params, query: Params) -> ProviderEvent:
    del query
    return InboundCall(
        provider,
        require_field(params, "CallSid"),
        optional_field(params, "From"),
        require_field(params, "To"),
        params,
    )


def _dial_status(params: Params) -> DialStatus:
    word = require_field(params, "DialCallStatus").strip().lower()
    bridged = optional_field(params, "DialBridged")
    if bridged is not None and bridged.lower() not in ("true", "false"):
        raise MalformedWebhook("the field 'DialBridged' is not true or false", field="DialBridged")
    if word in _ANSWERED_WORDS and bridged is not None and bridged.lower() == "false":
        return DialStatus.NOT_ACCEPTED
    return DIAL_STATUSES.get(word, DialStatus.UNKNOWN)


def _dial(provider: str, params: Params, query: Params) -> ProviderEvent:
    del query
    return DialResult(
        provider,
        require_field(params, "CallSid"),
        _dial_status(params),
        talk_seconds=seconds_field(params, "DialCallDuration"),
        dial_call_id=optional_field(params, "DialCallSid"),
        recording_url=optional_field(params, "RecordingUrl"),
        final=True,
        raw=params,
    )


def _whisper(provider: str, params: Params, query: Params) -> ProviderEvent:
    del query
    return WhisperRequest(provider, require_field(params, "ParentCallSid"), params)


def _accept(provider: str, params: Params, query: Params) -> ProviderEvent:
    del query
    digits = optional_field(params, "Digits") or ""
    return AcceptKey(provider, require_field(params, "ParentCallSid"), digits, params)


def _recording(provider: str, params: Params, query: Params) -> ProviderEvent:
    call_id = optional_field(query, _CALL_PARAM) or require_field(params, "CallSid")
    status = require_field(params, "RecordingStatus").strip().lower()
    if status != "completed":
        return CallProgress(provider, call_id, f"recording-{status}", params)
    return RecordingReady(
        provider,
        call_id,
        require_field(params, "RecordingSid"),
        require_field(params, "RecordingUrl"),
        seconds_field(params, "RecordingDuration"),
        params,
    )


def _status(provider: str, params: Params, query: Params) -> ProviderEvent:
    del query
    call_id = optional_field(params, "ParentCallSid") or require_field(params, "CallSid")
    return CallProgress(provider, call_id, require_field(params, "CallStatus"), params)


_PARSERS = {
    "voice": _inbound,
    "dial": _dial,
    "whisper": _whisper,
    "accept": _accept,
    "recording": _recording,
    "status": _status,
}


# --- number inventory --------------------------------------------------------------------
ENV_ACCOUNT_SID = "CALLTRACK_TWILIO_ACCOUNT_SID"
"""The environment variable :meth:`TwilioInventory.from_env` reads the Account SID from."""
ENV_AUTH_TOKEN = "CALLTRACK_TWILIO_AUTH_TOKEN"  # noqa: S105 - a variable's name, not a secret
"""The environment variable :meth:`TwilioInventory.from_env` reads the Auth Token from."""

_KINDS = {"local": "local", "mobile": "mobile", "tollfree": "toll_free"}
_AREA_CODE_COUNTRIES = frozenset({"US", "CA"})


class TwilioInventory:
    """Search, buy and release Twilio numbers over the REST API (needs ``calltrack[twilio]``).

    Args:
        account_sid: The account's SID (``AC…``).
        auth_token: Its Auth Token.
        base_url: The public URL calltrack's webhooks live under; bought numbers get
            ``{base_url}/twilio/voice`` as their Voice URL and ``{base_url}/twilio/status``
            as their status callback. May be empty for an inventory that only searches
            and releases.
        client: A ready ``twilio.rest.Client`` to use instead of making one.
    """

    provider = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        base_url: str,
        *,
        client: Any = None,  # noqa: ANN401 - the SDK's client is untyped
    ) -> None:
        if not account_sid or not auth_token:
            raise ConfigurationError("TwilioInventory needs an Account SID and an Auth Token")
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.base_url = base_url.rstrip("/")
        self._client = client

    def __repr__(self) -> str:
        """Name the account, never the token."""
        return f"<TwilioInventory {self.account_sid}>"

    @classmethod
    def from_env(cls, base_url: str) -> Self:
        """Make an inventory from ``CALLTRACK_TWILIO_ACCOUNT_SID`` and ``…_AUTH_TOKEN``.

        Raises:
            ConfigurationError: Naming the variable that is not set.
        """
        values = []
        for variable in (ENV_ACCOUNT_SID, ENV_AUTH_TOKEN):
            value = os.environ.get(variable, "")
            if not value:
                raise ConfigurationError(f"set {variable} to use Twilio's number inventory")
            values.append(value)
        return cls(values[0], values[1], base_url)

    @property
    def client(self) -> Any:  # noqa: ANN401 - the SDK's client is untyped
        """The SDK's REST client, made on first use.

        Raises:
            ProviderNotInstalled: If the Twilio SDK is not installed.
        """
        if self._client is None:
            try:
                from twilio.rest import Client  # noqa: PLC0415 - the SDK is optional and heavy
            except ImportError:
                raise ProviderNotInstalled(self.provider) from None
            self._client = Client(self.account_sid, self._auth_token)
        return self._client

    def _call(self, what: str, work: Any) -> Any:  # noqa: ANN401 - SDK results are untyped
        try:
            from twilio.base.exceptions import (  # noqa: PLC0415 - the SDK is optional
                TwilioException,
                TwilioRestException,
            )
        except ImportError:
            raise ProviderNotInstalled(self.provider) from None
        try:
            return work()
        except TwilioRestException as exc:
            raise ProviderAPIError(self.provider, exc.status, f"{what}: {exc.msg}") from exc
        except TwilioException as exc:
            status, message = _page_error(exc)
            raise ProviderAPIError(self.provider, status, f"{what}: {message}") from exc
        except OSError as exc:
            raise ProviderAPIError(self.provider, None, f"{what}: {exc}") from exc

    def search(
        self, country: str, *, area: str | None = None, kind: str = "local", limit: int = 20
    ) -> list[AvailableNumber]:
        """List voice-enabled numbers for sale in ``country`` (and ``area``) of ``kind``.

        In the US and Canada ``area`` is the area code Twilio searches by; elsewhere the
        search asks for numbers that contain the country code and area, and keeps those that
        start with them.

        Raises:
            ValueError: For an unknown ``kind`` or a ``limit`` below 1.
            ProviderAPIError: If Twilio refuses.
        """
        resource = _KINDS.get(kind)
        if resource is None:
            raise ValueError(f"kind must be one of {', '.join(_KINDS)}, not {kind!r}")
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        country = country.upper()
        filters: dict[str, Any] = {"voice_enabled": True, "limit": limit}
        prefix: str | None = None
        if area:
            if not area.isdigit():
                raise ValueError(f"area must be digits, not {area!r}")
            if country in _AREA_CODE_COUNTRIES:
                filters["area_code"] = int(area)
            else:
                prefix = _country_prefix(country) + area
                filters["contains"] = prefix.lstrip("+")

        def work() -> list[Any]:
            listing = getattr(self.client.available_phone_numbers(country), resource)
            found: list[Any] = listing.list(**filters)
            return found

        found = self._call(f"search {country}", work)
        numbers = [
            AvailableNumber(
                number=item.phone_number,
                provider=self.provider,
                country=item.iso_country or country,
                area=area or _area(item.phone_number),
                kind=kind,
            )
            for item in found
            if prefix is None or item.phone_number.startswith(prefix)
        ]
        return numbers[:limit]

    def buy(self, number: str) -> str:
        """Buy ``number`` with its Voice URL and status callback set; return it in E.164.

        Raises:
            ConfigurationError: If the inventory has no ``base_url``.
            ProviderAPIError: If Twilio refuses.
        """
        if not self.base_url:
            raise ConfigurationError("TwilioInventory needs base_url to buy numbers")
        voice = f"{self.base_url}/{self.provider}/voice"
        status = f"{self.base_url}/{self.provider}/status"

        def work() -> Any:  # noqa: ANN401 - SDK results are untyped
            return self.client.incoming_phone_numbers.create(
                phone_number=number,
                voice_url=voice,
                voice_method="POST",
                status_callback=status,
                status_callback_method="POST",
            )

        bought = self._call(f"buy {number}", work)
        return str(bought.phone_number)

    def release(self, number: str) -> None:
        """Release ``number`` back to Twilio.

        Raises:
            ProviderAPIError: If the account does not own it, or Twilio refuses.
        """

        def work() -> None:
            owned = self.client.incoming_phone_numbers.list(phone_number=number, limit=20)
            if not owned:
                raise ProviderAPIError(self.provider, 404, f"the account owns no {number}")
            for item in owned:
                self.client.incoming_phone_numbers(item.sid).delete()

        self._call(f"release {number}", work)


def _country_prefix(country: str) -> str:
    import phonenumbers  # noqa: PLC0415 - only the inventory needs it

    code = phonenumbers.country_code_for_region(country)
    if not code:
        raise ValueError(f"unknown country {country!r}")
    return f"+{code}"


def _area(number: str) -> str | None:
    from calltrack.domain.phones import area_of  # noqa: PLC0415 - phonenumbers is slow to load

    try:
        return area_of(number)
    except Exception:  # noqa: BLE001 - a number the library cannot parse simply has no area
        return None


def _page_error(exc: Exception) -> tuple[int | None, str]:
    """Status and message of an SDK error; list pages raise one that carries the response."""
    response: Any = exc.args[1] if len(exc.args) > 1 else None
    status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return None, str(exc)
    try:
        message = str(json.loads(response.text)["message"])
    except (ValueError, KeyError, TypeError):
        message = str(exc.args[0])
    return status, message
