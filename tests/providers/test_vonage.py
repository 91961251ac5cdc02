"""The Vonage adapter: contract, SDK oracles, fixtures, inventory, whole calls."""

from __future__ import annotations

import base64
import contextlib
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import jwt
import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vonage_jwt import VonageVerifyJwtError, verify_signature
from vonage_voice import (
    Connect,
    Input,
    Notify,
    OnAnswer,
    PhoneEndpoint,
    Record,
    Talk,
)
from vonage_voice.models.input_types import Dtmf

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
    RecordingReady,
    WhisperRequest,
)
from calltrack.domain.model import DialStatus, Mark
from calltrack.domain.settings import Settings
from calltrack.errors import (
    ConfigurationError,
    InvalidPhoneNumber,
    InvalidSignature,
    MalformedWebhook,
    ProviderAPIError,
    ProviderNotInstalled,
)
from calltrack.ports import Document, NumberInventory, Provider, WebhookRequest
from calltrack.providers import load_inventory_class, load_provider_class
from calltrack.providers.vonage import VonageInventory, VonageProvider
from calltrack.storage.memory import MemoryStorage
from calltrack.testing import FakeClock, FakeDirectory, RecordingNotifier
from calltrack.testing.provider_contract import ProviderContract, ProviderHarness
from calltrack.testing.vonage import VonageHarness
from calltrack.tracker import CallTracker
from calltrack.webhooks import WebhookHandler

FIXTURES = Path(__file__).parent.parent / "fixtures" / "vonage"
CALLER = "+79031234567"
VIRTUAL = "+74951234567"
REAL = "+79161234567"
BASE = "https://calls.example.com"
REST = "https://rest.nexmo.com"
API = "https://api.nexmo.com"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def ncco(document: Document) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = json.loads(document.body)
    return actions


class TestVonageProvider(ProviderContract):
    """The Vonage adapter passes the contract every provider adapter passes."""

    @pytest.fixture(params=["POST", "GET"])
    def harness(self, request: pytest.FixtureRequest) -> ProviderHarness:
        return VonageHarness(answer_method=request.param, check_query_hash=True)


@pytest.fixture
def harness() -> VonageHarness:
    return VonageHarness()


# --- configuration --------------------------------------------------------------------------
class TestConfiguration:
    """The adapter refuses settings it cannot work with and says so."""

    def test_satisfies_the_port_and_is_registered(self, harness: VonageHarness) -> None:
        assert isinstance(harness.provider, Provider)
        assert load_provider_class("vonage") is VonageProvider
        assert load_inventory_class("vonage") is VonageInventory
        assert harness.provider.name == "vonage"

    @pytest.mark.parametrize(
        ("secrets", "base_url"),
        [((), BASE), (("",), BASE), (("s",), "calls.example.com"), (("s",), "ftp://x")],
    )
    def test_bad_settings(self, secrets: tuple[str, ...], base_url: str) -> None:
        with pytest.raises(ConfigurationError):
            VonageProvider(secrets, base_url=base_url)

    def test_bad_windows(self) -> None:
        with pytest.raises(ConfigurationError):
            VonageProvider("s", base_url=BASE, max_age=0)
        with pytest.raises(ConfigurationError):
            VonageProvider("s", base_url=BASE, clock_skew=-1)

    def test_switching_verification_off_warns_and_skips_it(self, harness: VonageHarness) -> None:
        with pytest.warns(RuntimeWarning, match="vonage"):
            lax = VonageProvider("s", base_url=BASE, verify_signatures=False)
        _, request = harness.inbound("u-1", CALLER, VIRTUAL)
        lax.verify(harness.unsigned(request))

    def test_default_is_verifying_without_warning(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            provider = VonageProvider("zq-secret-zq", base_url=BASE + "/")
        assert provider.verify_signatures
        assert provider.base_url == BASE
        assert "zq-secret-zq" not in repr(provider)


# --- signatures ---------------------------------------------------------------------------
class TestSignatures:
    """Signed-webhook tokens are checked: signature, secret, age, body hash, URL."""

    def test_every_secret_verifies(self, harness: VonageHarness) -> None:
        _, request = harness.inbound("u-1", CALLER, VIRTUAL)
        for secret in harness.provider.secrets:
            token = harness.token(request.body, secret=secret)
            harness.provider.verify(harness._with_token(request, token))

    def test_freshness_window_is_a_setting(self) -> None:
        now = [1_800_000_000.0]
        h = VonageHarness()
        provider = VonageProvider(
            h.provider.secrets, base_url=BASE, max_age=60, clock_skew=5, clock=lambda: now[0]
        )
        _, request = h.inbound("u-1", CALLER, VIRTUAL)
        for age, ok in ((0, True), (60, True), (61, False), (-5, True), (-6, False)):
            signed = h._with_token(request, h.token(request.body, issued_at=now[0] - age))
            if ok:
                provider.verify(signed)
            else:
                with pytest.raises(InvalidSignature):
                    provider.verify(signed)

    @pytest.mark.parametrize(
        "header",
        [
            "Basic abc",
            "Bearer",
            "Bearer a.b",
            "Bearer a.b.c.d",
            "Bearer !!!.###.$$$",
            "Bearer e30.e30.AAAA",
        ],
    )
    def test_garbage_tokens_are_refused(self, harness: VonageHarness, header: str) -> None:
        _, request = harness.inbound("u-1", CALLER, VIRTUAL)
        with pytest.raises(InvalidSignature):
            harness.provider.verify(attrs.evolve(request, headers={"authorization": header}))

    def test_token_without_iat_or_hash_is_refused(self, harness: VonageHarness) -> None:
        _, request = harness.inbound("u-1", CALLER, VIRTUAL)
        secret = harness.provider.secrets[0]
        body_hash = json.loads(_claims(request))["payload_hash"]
        no_iat = jwt.encode({"payload_hash": body_hash}, secret, algorithm="HS256")
        no_hash = jwt.encode({"iat": int(time.time())}, secret, algorithm="HS256")
        for token in (no_iat, no_hash):
            with pytest.raises(InvalidSignature):
                harness.provider.verify(harness._with_token(request, token))

    def test_token_with_other_algorithm_is_refused(self, harness: VonageHarness) -> None:
        _, request = harness.inbound("u-1", CALLER, VIRTUAL)
        claims = json.loads(_claims(request))
        token = jwt.encode(claims, harness.provider.secrets[0] * 2, algorithm="HS512")
        with pytest.raises(InvalidSignature, match="HS256"):
            harness.provider.verify(harness._with_token(request, token))

    @given(header=st.text(max_size=200))
    @settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test_any_header_is_refused_cleanly(self, harness: VonageHarness, header: str) -> None:
        _, request = harness.inbound("u-1", CALLER, VIRTUAL)
        forged = attrs.evolve(request, headers={"authorization": "Bearer " + header})
        with pytest.raises(InvalidSignature):
            harness.provider.verify(forged)

    def test_url_must_be_under_base_url(self, harness: VonageHarness) -> None:
        request = harness.post(
            "https://calls.example.com/other/answer", fixture("answer_post.json")
        )
        with pytest.raises(InvalidSignature, match="not under"):
            harness.provider.verify(request)

    def test_callback_url_parameters_are_bound(self, harness: VonageHarness) -> None:
        _, request = harness.leg_event("u-1", "busy")
        harness.provider.verify(request)
        changed = request.url.replace("call_id=u-1", "call_id=u-2")
        missing = request.url.split("&ct_sig=")[0]
        added = request.url.replace("call_id=u-1", "call_id=u-1&accept=1")
        for url in (changed, missing, added):
            with pytest.raises(InvalidSignature):
                harness.provider.verify(attrs.evolve(request, url=url))

    def test_url_mac_survives_rotation(self) -> None:
        old = VonageHarness(secrets=("old-secret-old-secret-old-secret!",))
        _, request = old.leg_event("u-1", "busy")
        rotated = VonageProvider(
            ("new-secret-new-secret-new-secret!", "old-secret-old-secret-old-secret!"),
            base_url=BASE,
        )
        rotated.verify(request)

    def test_get_query_is_covered_only_when_asked(self) -> None:
        lax = VonageHarness(answer_method="GET")
        _, request = lax.inbound("u-1", CALLER, VIRTUAL)
        forged = attrs.evolve(request, url=request.url.replace("u-1", "u-2"))
        lax.provider.verify(forged)  # Vonage's GET payload_hash rule is unconfirmed: off
        strict = VonageHarness(answer_method="GET", check_query_hash=True)
        _, request = strict.inbound("u-1", CALLER, VIRTUAL)
        strict.provider.verify(request)
        with pytest.raises(InvalidSignature, match="query"):
            strict.provider.verify(attrs.evolve(request, url=request.url.replace("u-1", "u-2")))


def _claims(request: WebhookRequest) -> str:
    token = (request.header("authorization") or "").split(" ", 1)[1]
    middle = token.split(".")[1]
    return base64.urlsafe_b64decode(middle + "=" * (-len(middle) % 4)).decode()


class TestSignatureOracle:
    """PyJWT's tokens verify; the SDK's validator and the adapter agree on tokens."""

    @given(
        secret=st.text(min_size=32, max_size=64).filter(lambda s: s.strip() == s and s),
        extra=st.dictionaries(
            st.sampled_from(["jti", "iss", "api_key", "application_id"]), st.text(max_size=20)
        ),
        body=st.binary(min_size=1, max_size=200),
    )
    @settings(max_examples=100)
    def test_pyjwt_tokens_verify(self, secret: str, extra: dict[str, str], body: bytes) -> None:
        import hashlib  # noqa: PLC0415

        provider = VonageProvider(secret, base_url=BASE)
        claims = {"iat": int(time.time()), "payload_hash": hashlib.sha256(body).hexdigest()}
        token = jwt.encode({**extra, **claims}, secret, algorithm="HS256")
        request = WebhookRequest(
            "POST", BASE + "/vonage/event", {"Authorization": f"Bearer {token}"}, body
        )
        provider.verify(request)
        with pytest.raises(InvalidSignature):
            provider.verify(attrs.evolve(request, body=body + b" "))

    def test_sdk_validator_agrees(self, harness: VonageHarness) -> None:
        secret = harness.provider.secrets[0]
        for name, request in [
            harness.inbound("u-1", CALLER, VIRTUAL),
            harness.leg_event("u-1", "answered"),
            harness.whisper("u-1"),
        ]:
            variants = {"signed": request, **harness.tampered(request)}
            for what, variant in variants.items():
                if what in ("url", "url-params", "param", "stale"):
                    continue  # the SDK checks the token alone, and not its age
                token = (variant.header("authorization") or "").split(" ", 1)[1]
                try:
                    sdk = verify_signature(token, secret)
                except VonageVerifyJwtError:
                    sdk = False
                try:
                    harness.provider.verify_token("Bearer " + token)
                    ours = True
                except InvalidSignature:
                    ours = False
                assert sdk == ours == (what == "signed"), (name, what)

    def test_sdk_does_not_check_age_or_body_but_we_do(self, harness: VonageHarness) -> None:
        _, request = harness.inbound("u-1", CALLER, VIRTUAL)
        variants = harness.tampered(request)
        for what in ("stale", "param"):
            token = (variants[what].header("authorization") or "").split(" ", 1)[1]
            assert verify_signature(token, harness.provider.secrets[0])
            with pytest.raises(InvalidSignature):
                harness.provider.verify(variants[what])


# --- parsing --------------------------------------------------------------------------------
def _sign_fixture(harness: VonageHarness, name: str, call_id: str = "A-1") -> tuple[str, Any]:
    event = name.removesuffix(".json").split("_", 1)[0]
    p = harness.provider
    data = fixture(name)
    if name == "answer_get.json":
        return event, harness.get(p.url("answer"), data)
    if name == "whisper_get.json":
        return event, harness.get(p.url("whisper", call_id=call_id), data)
    if name == "dial_accepted_notify.json":
        return event, harness.post(p.url("dial", call_id=call_id, outcome="accepted"), data)
    urls = {
        "answer": p.url("answer"),
        "event": p.url("event"),
        "dial": p.url("dial", call_id=call_id),
        "accept": p.url("accept", call_id=call_id),
        "recording": p.url("recording", call_id=call_id),
    }
    return event, harness.post(urls[event], data)


EXPECTED: dict[str, tuple[type, object]] = {
    "answer_post.json": (InboundCall, None),
    "answer_get.json": (InboundCall, None),
    "answer_withheld.json": (InboundCall, None),
    "event_started.json": (CallProgress, "started"),
    "event_ringing.json": (CallProgress, "ringing"),
    "event_answered.json": (CallProgress, "answered"),
    "event_completed.json": (CallProgress, "completed"),
    "event_error.json": (CallProgress, "error"),
    "dial_started.json": (CallProgress, "started"),
    "dial_ringing.json": (CallProgress, "ringing"),
    "dial_machine.json": (CallProgress, "machine"),
    "dial_completed_unanswered.json": (CallProgress, "completed"),
    "dial_answered.json": (DialResult, DialStatus.ANSWERED),
    "dial_accepted_notify.json": (DialResult, DialStatus.ANSWERED),
    "dial_completed.json": (DialResult, DialStatus.ANSWERED),
    "dial_busy.json": (DialResult, DialStatus.BUSY),
    "dial_rejected.json": (DialResult, DialStatus.BUSY),
    "dial_timeout.json": (DialResult, DialStatus.NO_ANSWER),
    "dial_unanswered.json": (DialResult, DialStatus.NO_ANSWER),
    "dial_failed.json": (DialResult, DialStatus.FAILED),
    "dial_cancelled.json": (DialResult, DialStatus.CANCELED),
    "whisper_get.json": (WhisperRequest, None),
    "accept_pressed.json": (AcceptKey, "1"),
    "accept_timed_out.json": (AcceptKey, ""),
    "recording.json": (RecordingReady, None),
}


class TestParsing:
    """Every fixture parses into its normalized event, raw payload kept."""

    def test_every_fixture_is_covered(self) -> None:
        assert {p.name for p in FIXTURES.glob("*.json")} == set(EXPECTED)

    @pytest.mark.parametrize("name", sorted(EXPECTED))
    def test_fixture_parses(self, harness: VonageHarness, name: str) -> None:
        kind, detail = EXPECTED[name]
        event_name, request = _sign_fixture(harness, name)
        harness.provider.verify(request)
        event = harness.provider.parse(event_name, request)
        assert type(event) is kind
        assert event.raw
        assert event.provider == "vonage"
        if isinstance(event, CallProgress):
            assert event.status == detail
        if isinstance(event, DialResult):
            assert (event.call_id, event.status) == ("A-1", detail)
            assert event.dial_call_id == "bbbbbbbb-2222-4bbb-8bbb-0123456789ab"
        if isinstance(event, AcceptKey):
            assert (event.call_id, event.digits) == ("A-1", detail)
        if isinstance(event, WhisperRequest):
            assert event.call_id == "A-1"

    def test_answer_fields(self, harness: VonageHarness) -> None:
        for name in ("answer_post.json", "answer_get.json"):
            event = harness.provider.parse(*_sign_fixture(harness, name))
            assert isinstance(event, InboundCall)
            assert event.call_id == "aaaaaaaa-1111-4aaa-8aaa-0123456789ab"
            assert (event.caller, event.virtual_number) == (CALLER, VIRTUAL)
        withheld = harness.provider.parse(*_sign_fixture(harness, "answer_withheld.json"))
        assert isinstance(withheld, InboundCall)
        assert withheld.caller == "Unknown"

    def test_final_and_talk_time(self, harness: VonageHarness) -> None:
        """Missed endings wait for an NCCO; answered and completed only inform."""
        for name in ("dial_busy.json", "dial_timeout.json", "dial_cancelled.json"):
            event = harness.provider.parse(*_sign_fixture(harness, name))
            assert isinstance(event, DialResult)
            assert event.final
        for name in ("dial_answered.json", "dial_completed.json"):
            event = harness.provider.parse(*_sign_fixture(harness, name))
            assert isinstance(event, DialResult)
            assert not event.final
        completed = harness.provider.parse(*_sign_fixture(harness, "dial_completed.json"))
        assert isinstance(completed, DialResult)
        assert completed.talk_seconds == 52

    def test_accept_key_changes_what_pickup_means(self, harness: VonageHarness) -> None:
        """With an accept key, pickup is progress and an unaccepted leg is NOT_ACCEPTED."""
        answered = harness.provider.parse(*harness.leg_event("A-1", "answered", accept=True))
        assert isinstance(answered, CallProgress)
        done = harness.provider.parse(
            *harness.leg_event("A-1", "completed", duration=9, accept=True)
        )
        assert isinstance(done, DialResult)
        assert (done.status, done.talk_seconds) == (DialStatus.NOT_ACCEPTED, 9)
        accepted = harness.provider.parse(*harness.accepted("A-1"))
        assert isinstance(accepted, DialResult)
        assert accepted.status is DialStatus.ANSWERED

    def test_unknown_leg_status_is_unknown(self, harness: VonageHarness) -> None:
        event = harness.provider.parse(*harness.leg_event("A-1", "teleported"))
        assert isinstance(event, DialResult)
        assert event.status is DialStatus.UNKNOWN
        assert not event.final

    def test_recording_fields(self, harness: VonageHarness) -> None:
        event = harness.provider.parse(*_sign_fixture(harness, "recording.json"))
        assert isinstance(event, RecordingReady)
        assert event.recording_id == "dddddddd-4444-4ddd-8ddd-0123456789ab"
        assert event.url.endswith("/v1/files/dddddddd-4444-4ddd-8ddd-0123456789ab")
        assert event.duration_seconds == 57

    def test_idempotency_keys_differ_per_status(self, harness: VonageHarness) -> None:
        keys = set()
        for status in ("answered", "busy", "timeout", "failed", "cancelled", "teleported"):
            keys.add(harness.provider.parse(*harness.leg_event("A-1", status)).idempotency_key)
        for accept in (True, False):
            keys.add(
                harness.provider.parse(
                    *harness.leg_event("A-1", "completed", duration=9, accept=accept)
                ).idempotency_key
            )
        assert len(keys) == 8
        again = harness.provider.parse(*harness.leg_event("A-1", "completed", duration=9))
        assert again.idempotency_key in keys

    @given(
        first=st.tuples(st.sampled_from(list(DialStatus)), st.none() | st.integers(0, 10**5)),
        second=st.tuples(st.sampled_from(list(DialStatus)), st.none() | st.integers(0, 10**5)),
    )
    def test_dial_keys_equal_only_for_the_same_news(
        self, first: tuple[DialStatus, int | None], second: tuple[DialStatus, int | None]
    ) -> None:
        """Two reports of one leg share a key exactly when status and talk time agree."""
        a = DialResult("vonage", "A-1", first[0], talk_seconds=first[1], dial_call_id="B")
        b = DialResult("vonage", "A-1", second[0], talk_seconds=second[1], dial_call_id="B")
        assert (a.idempotency_key == b.idempotency_key) == (first == second)

    @pytest.mark.parametrize(
        ("event", "body", "field"),
        [
            ("answer", b"not json", None),
            ("answer", b"\xff\xfe", None),
            ("answer", b"[1, 2]", None),
            ("answer", b'{"uuid": 5, "to": "7495"}', "uuid"),
            ("dial", b'{"status": "completed", "duration": "soon"}', "duration"),
            ("dial", b'{"status": "completed", "duration": "-3"}', "duration"),
            ("dial", b'{"status": ["busy"]}', "status"),
            ("accept", b'{"dtmf": {"digits": 1}}', "digits"),
            ("recording", b'{"recording_url": "u", "recording_uuid": "r", "end_time": "x"}', None),
        ],
    )
    def test_malformed_bodies(
        self, harness: VonageHarness, event: str, body: bytes, field: str | None
    ) -> None:
        url = harness.provider.url(event, call_id="A-1") if event != "answer" else None
        request = WebhookRequest("POST", url or harness.provider.url("answer"), {}, body)
        with pytest.raises(MalformedWebhook) as caught:
            harness.provider.parse(event, request)
        if field is not None:
            assert caught.value.field == field

    def test_unknown_webhook(self, harness: VonageHarness) -> None:
        _, request = harness.inbound("u-1", CALLER, VIRTUAL)
        with pytest.raises(MalformedWebhook, match="no such"):
            harness.provider.parse("voice", request)

    @given(body=st.binary(max_size=300), event=st.sampled_from(sorted(VonageProvider.events)))
    @settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test_any_body_parses_or_is_malformed(
        self, harness: VonageHarness, body: bytes, event: str
    ) -> None:
        request = WebhookRequest("POST", harness.provider.url(event, call_id="A-1"), {}, body)
        with contextlib.suppress(MalformedWebhook):
            harness.provider.parse(event, request)

    @given(
        data=st.dictionaries(
            st.sampled_from(
                [
                    "uuid",
                    "to",
                    "from",
                    "status",
                    "duration",
                    "dtmf",
                    "recording_url",
                    "recording_uuid",
                    "start_time",
                    "end_time",
                ]
            ),
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats()
            | st.text(max_size=12)
            | st.lists(st.integers(), max_size=2)
            | st.dictionaries(st.text(max_size=5), st.text(max_size=5)),
        ),
        event=st.sampled_from(sorted(VonageProvider.events)),
    )
    @settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test_any_json_object_parses_or_is_malformed(
        self, harness: VonageHarness, data: dict[str, Any], event: str
    ) -> None:
        body = json.dumps(data).encode()
        request = WebhookRequest("POST", harness.provider.url(event, call_id="A-1"), {}, body)
        with contextlib.suppress(MalformedWebhook):
            harness.provider.parse(event, request)


# --- rendering against the SDK -----------------------------------------------------------
def _sdk(actions: list[Any]) -> list[dict[str, Any]]:
    return [a.model_dump(by_alias=True, exclude_none=True) for a in actions]


def _sdk_talk(prompt: Prompt) -> Talk:
    style = int(prompt.voice) if prompt.voice is not None and prompt.voice.isdecimal() else None
    return Talk(text=prompt.text, language=prompt.language, style=style)


def _sdk_document(provider: VonageProvider, decision: Decision) -> list[dict[str, Any]]:
    """The SDK's NCCO for a decision, built from its pydantic models."""
    if isinstance(decision, Forward):
        actions: list[Any] = [_sdk_talk(decision.greeting)]
        if decision.record:
            recording = provider.url("recording", call_id=decision.call_id)
            actions.append(Record(split="conversation", channels=2, eventUrl=[recording]))
        flags = {"accept": "1"} if decision.accept_key else {}
        actions.append(
            Connect(
                from_=decision.caller_id.lstrip("+"),
                timeout=decision.ring_timeout,
                eventType="synchronous",
                eventUrl=[provider.url("dial", call_id=decision.call_id, **flags)],
                endpoint=[
                    PhoneEndpoint(
                        number=decision.real_number.lstrip("+"),
                        onAnswer=OnAnswer(url=provider.url("whisper", call_id=decision.call_id)),
                    )
                ],
            )
        )
        return _sdk(actions)
    if isinstance(decision, Whisper):
        actions = [_sdk_talk(decision.prompt)]
        if decision.accept_key:
            if decision.accept_prompt:
                actions.append(_sdk_talk(decision.accept_prompt))
            accept = provider.url("accept", call_id=decision.call_id or "")
            actions.append(
                Input(
                    type=["dtmf"],
                    dtmf=Dtmf(maxDigits=1, timeOut=min(decision.accept_timeout, 10)),
                    eventUrl=[accept],
                )
            )
        return _sdk(actions)
    if isinstance(decision, Announce):
        return _sdk([_sdk_talk(decision.prompt)])
    if isinstance(decision, Hangup):
        return _sdk([_sdk_talk(decision.prompt)] if decision.prompt else [])
    if isinstance(decision, Bridge):
        url = provider.url("dial", call_id=decision.call_id or "", outcome="accepted")
        return _sdk([Notify(payload={"status": "accepted"}, eventUrl=[url])])
    assert isinstance(decision, Reject)
    return []


texts = st.text(min_size=1, max_size=300)
languages = st.sampled_from(["ru-RU", "en-US", "en-GB", "de-DE"])
voices = st.none() | st.sampled_from(["0", "2", "11"])
prompts = st.builds(Prompt, texts, languages, voices)
numbers = st.from_regex(r"\+[1-9][0-9]{9,13}", fullmatch=True)
call_ids = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40
)
forwards = st.builds(
    Forward,
    call_id=call_ids,
    greeting=prompts,
    real_number=numbers,
    caller_id=numbers,
    ring_timeout=st.integers(5, 120),
    record=st.booleans(),
    whisper=prompts,
    accept_key=st.none() | st.just("1"),
    accept_prompt=st.none() | prompts,
)
whispers = st.builds(
    Whisper,
    prompt=prompts,
    accept_key=st.none() | st.just("1"),
    accept_prompt=st.none() | prompts,
    accept_timeout=st.integers(1, 10),
    call_id=call_ids,
)
decisions = (
    forwards
    | whispers
    | st.builds(Announce, prompts)
    | st.builds(Hangup, st.none() | prompts)
    | st.builds(Bridge, call_ids)
    | st.builds(Reject, st.just("spam"), st.booleans())
)


class TestRenderingOracle:
    """Every rendered NCCO is JSON-equal to the SDK's rendering of the same decision."""

    @given(decision=decisions)
    @settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test_equal_to_sdk(self, harness: VonageHarness, decision: Decision) -> None:
        document = harness.provider.render(decision)
        assert document.content_type == "application/json"
        assert json.loads(document.body) == _sdk_document(harness.provider, decision)

    @pytest.mark.parametrize(
        "base_url", ["https://calls.example.com/hooks/", 'https://ex.example.com/путь/"q"\\']
    )
    def test_base_url_is_escaped(self, base_url: str) -> None:
        provider = VonageHarness(base_url=base_url).provider
        decision = Forward(
            "A-1", Prompt("g", "ru-RU"), REAL, CALLER, 20, True, Prompt("w", "ru-RU")
        )
        document = provider.render(decision)
        assert json.loads(document.body) == _sdk_document(provider, decision)
        assert json.loads(document.body)[-1]["eventUrl"][0].startswith(base_url.rstrip("/"))

    def test_acknowledge_is_an_empty_body(self, harness: VonageHarness) -> None:
        """An empty reply lets Vonage go on with the current NCCO; ``[]`` would end it."""
        document = harness.provider.render(Acknowledge())
        assert (document.status, document.body) == (200, "")

    def test_reject_is_an_empty_ncco(self, harness: VonageHarness) -> None:
        assert harness.provider.render(Reject("spam")).body == "[]"

    def test_voice_names_that_are_not_styles_are_left_out(self, harness: VonageHarness) -> None:
        document = harness.provider.render(Announce(Prompt("hi", "en-US", "Polly.Joanna")))
        assert ncco(document) == [{"action": "talk", "text": "hi", "language": "en-US"}]
        styled = harness.provider.render(Announce(Prompt("hi", "en-US", "style:3")))
        assert ncco(styled)[0]["style"] == 3

    def test_long_accept_timeout_is_capped_at_vonage_maximum(self, harness: VonageHarness) -> None:
        whisper = Whisper(Prompt("w", "en-US"), accept_key="1", accept_timeout=30, call_id="A")
        (_, action) = ncco(harness.provider.render(whisper))
        assert action["dtmf"]["timeOut"] == 10

    @given(decision=forwards)
    @settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test_rendered_urls_lead_back_to_the_call(
        self, harness: VonageHarness, decision: Forward
    ) -> None:
        """Requests to the URLs a Forward points at verify and name the caller's call."""
        actions = ncco(harness.provider.render(decision))
        connect = actions[-1]
        dial_url = connect["eventUrl"][0]
        whisper_url = connect["endpoint"][0]["onAnswer"]["url"]
        assert parse_qs(urlsplit(dial_url).query)["call_id"] == [decision.call_id]
        for name, url in (("dial", dial_url), ("whisper", whisper_url)):
            request = harness.post(url, {"status": "busy", "uuid": "B-1"})
            harness.provider.verify(request)
            assert harness.provider.parse(name, request).call_id == decision.call_id
        if decision.record:
            recording_url = actions[1]["eventUrl"][0]
            payload = {"recording_url": "https://f.example.com/1", "recording_uuid": "r"}
            request = harness.post(recording_url, payload)
            harness.provider.verify(request)
            assert harness.provider.parse("recording", request).call_id == decision.call_id


# --- hot path ---------------------------------------------------------------------------------
def test_adapter_module_imports_no_sdk() -> None:
    """Importing the adapter and the harness loads none of the SDK's modules."""
    import subprocess  # noqa: PLC0415

    code = (
        "import sys, calltrack.providers.vonage, calltrack.testing.vonage\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'vonage','vonage_voice','vonage_jwt','vonage_numbers','vonage_http_client',"
        "'pydantic','jwt','requests'})\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter on our own code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": ":".join(p for p in sys.path if p)},
    )
    assert done.returncode == 0, done.stderr


# --- whole calls ------------------------------------------------------------------------------
@attrs.define
class Line:
    """A tracker and webhook handler wired to the Vonage adapter."""

    tracker: CallTracker
    handler: WebhookHandler
    harness: VonageHarness
    notifier: RecordingNotifier

    def send(self, signed: tuple[str, WebhookRequest], status: int = 200) -> Document:
        name, request = signed
        response = self.handler.handle(f"/vonage/{name}", request)
        assert response.status == status, response.body
        return Document(response.body, response.content_type, response.status)


def _line(*, accept_key: str | None = None, resume: bool = True) -> Line:
    harness = VonageHarness()
    directory = FakeDirectory()
    directory.add(
        CALLER, "Anna Petrova", resume_url="https://jobs.example.com/r/1" if resume else None
    )
    notifier = RecordingNotifier()
    tracker = CallTracker(
        MemoryStorage(),
        directory=directory,
        notifier=notifier,
        clock=FakeClock(),
        settings=Settings(accept_key=accept_key),
    )
    tracker.add_numbers([VIRTUAL], provider="vonage")
    tracker.track("vac-1", [REAL], employer_id="emp-1", title="Водитель <ночь>")
    return Line(tracker, WebhookHandler(tracker, [harness.provider]), harness, notifier)


@pytest.fixture
def line() -> Line:
    return _line()


class TestWholeCalls:
    """Signed Vonage webhooks drive calls to the right marks and responses."""

    def test_answered_call(self, line: Line) -> None:
        h = line.harness
        ncco_doc = line.send(h.inbound("A-1", CALLER, VIRTUAL))
        assert "Водитель <ночь>" in h.spoken(ncco_doc)[0]
        assert h.dialled(ncco_doc) == REAL
        line.send(h.leg_event("A-1", "started"))
        line.send(h.leg_event("A-1", "ringing"))
        whisper = line.send(h.whisper("A-1"))
        assert h.spoken(whisper)
        assert line.send(h.leg_event("A-1", "answered")).body == ""
        line.send(h.leg_event("A-1", "completed", duration=52))
        line.send(h.progress("A-1", "completed"))
        call = line.tracker.call("vonage", "A-1")
        assert (call.mark, call.talk_seconds) == (Mark.RESPONSE_BY_CALL, 52)
        (response,) = line.tracker.responses(vacancy_id="vac-1")
        assert response.mark is Mark.RESPONSE_BY_CALL
        assert len(line.notifier.sent) == 1

    def test_events_out_of_order_and_repeated(self, line: Line) -> None:
        h = line.harness
        line.send(h.inbound("A-1", CALLER, VIRTUAL))
        line.send(h.leg_event("A-1", "completed", duration=40))
        line.send(h.leg_event("A-1", "answered"))
        line.send(h.leg_event("A-1", "failed"))  # a failure reason after completed
        line.send(h.leg_event("A-1", "completed", duration=40))
        line.send(h.inbound("A-1", CALLER, VIRTUAL))
        call = line.tracker.call("vonage", "A-1")
        assert (call.mark, call.talk_seconds) == (Mark.RESPONSE_BY_CALL, 40)
        assert len(line.tracker.responses(vacancy_id="vac-1")) == 1
        assert len(line.notifier.sent) == 1

    @pytest.mark.parametrize(
        "status", ["timeout", "unanswered", "busy", "rejected", "failed", "cancelled"]
    )
    def test_missed_call(self, line: Line, status: str) -> None:
        h = line.harness
        line.send(h.inbound("A-1", CALLER, VIRTUAL))
        document = line.send(h.leg_event("A-1", status))
        assert h.spoken(document)  # the caller hears that nobody could answer
        assert h.dialled(document) is None
        line.send(h.leg_event("A-1", "completed", duration=0))
        call = line.tracker.call("vonage", "A-1")
        assert call.mark is Mark.MISSED_CALL
        (response,) = line.tracker.responses(vacancy_id="vac-1", pending=True)
        assert response.mark is Mark.MISSED_CALL

    def test_no_resume(self) -> None:
        line = _line(resume=False)
        h = line.harness
        line.send(h.inbound("A-1", CALLER, VIRTUAL))
        line.send(h.leg_event("A-1", "answered"))
        assert line.tracker.call("vonage", "A-1").mark is Mark.NO_RESUME
        assert line.tracker.responses(vacancy_id="vac-1") == []

    def test_accept_key_pressed(self) -> None:
        line = _line(accept_key="1")
        h = line.harness
        forward = line.send(h.inbound("A-1", CALLER, VIRTUAL))
        assert "accept=1" in h.actions(forward)[-1]["eventUrl"][0]
        line.send(h.leg_event("A-1", "answered", accept=True))
        assert line.tracker.call("vonage", "A-1").mark is None
        whisper = line.send(h.whisper("A-1"))
        (_, _, asked) = h.actions(whisper)
        assert asked["action"] == "input"
        assert "call_id=A-1" in asked["eventUrl"][0]
        bridge = line.send(h.accept("A-1", "1"))
        (notify,) = h.actions(bridge)
        assert notify["action"] == "notify"
        (name, request) = ("dial", h.post(notify["eventUrl"][0], notify["payload"]))
        line.send((name, request))
        line.send(h.leg_event("A-1", "completed", duration=30, accept=True))
        call = line.tracker.call("vonage", "A-1")
        assert (call.mark, call.talk_seconds) == (Mark.RESPONSE_BY_CALL, 30)

    def test_accept_key_not_pressed(self) -> None:
        line = _line(accept_key="1")
        h = line.harness
        line.send(h.inbound("A-1", CALLER, VIRTUAL))
        line.send(h.leg_event("A-1", "answered", accept=True))
        line.send(h.whisper("A-1"))
        refused = line.send(h.accept("A-1", ""))
        assert h.actions(refused) == []
        line.send(h.leg_event("A-1", "completed", duration=8, accept=True))
        assert line.tracker.call("vonage", "A-1").mark is Mark.MISSED_CALL

    def test_recording_is_attached(self, line: Line) -> None:
        h = line.harness
        line.send(h.inbound("A-1", CALLER, VIRTUAL))
        line.send(h.leg_event("A-1", "answered"))
        url = "https://files.example.com/v1/files/r-1"
        assert line.send(h.recording("A-1", "r-1", url, 30)).body == ""
        assert line.tracker.call("vonage", "A-1").recording_url == url

    def test_spam_and_unknown_number(self, line: Line) -> None:
        h = line.harness
        spam = line.send(h.inbound("A-spam", None, VIRTUAL))
        assert h.actions(spam) == []
        assert h.rejects(spam)
        unknown = line.send(h.inbound("A-unknown", CALLER, "+74950000000"))
        assert h.spoken(unknown)
        assert h.dialled(unknown) is None

    def test_bad_input_over_http_writes_nothing(self, line: Line) -> None:
        h = line.harness
        _, request = h.inbound("A-1", CALLER, VIRTUAL)
        for variant in h.tampered(request).values():
            line.send(("answer", variant), status=403)
        bad = h.post(h.provider.url("answer"), {"uuid": "A-2"})
        line.send(("answer", bad), status=400)
        garbage = WebhookRequest(
            "POST", h.provider.url("answer"), {"Authorization": "Bearer " + h.token(b"{")}, b"{"
        )
        line.send(("answer", garbage), status=400)
        assert line.tracker.calls("vac-1").calls == []


# --- number inventory ------------------------------------------------------------------------
@pytest.fixture
def inventory() -> VonageInventory:
    return VonageInventory("a1b2c3d4", "api-secret", "app-1", base_url=BASE)


class TestInventory:
    """Numbers are searched, bought (linked to the application) and released over REST."""

    def test_satisfies_the_port(self, inventory: VonageInventory) -> None:
        assert isinstance(inventory, NumberInventory)
        assert inventory.provider == "vonage"
        assert "api-secret" not in repr(inventory)

    @responses.activate
    def test_search(self, inventory: VonageInventory) -> None:
        responses.get(
            f"{REST}/number/search",
            json={
                "count": 2,
                "numbers": [
                    {
                        "country": "RU",
                        "msisdn": "74951234567",
                        "type": "landline",
                        "cost": "3.00",
                        "features": ["VOICE", "SMS"],
                    },
                    {
                        "country": "RU",
                        "msisdn": "74951234568",
                        "type": "landline",
                        "cost": "3.00",
                        "features": ["VOICE"],
                    },
                ],
            },
        )
        found = inventory.search("ru", area="495", limit=5)
        assert [n.number for n in found] == ["+74951234567", "+74951234568"]
        assert found[0].country == "RU"
        assert (found[0].kind, found[0].monthly_cost, found[0].area) == ("local", "3.00", "495")
        query = parse_qs(urlsplit(responses.calls[0].request.url or "").query)
        assert query["country"] == ["RU"]
        assert query["type"] == ["landline"]
        assert query["features"] == ["VOICE"]
        assert query["pattern"] == ["7495"]
        assert query["search_pattern"] == ["0"]
        assert query["size"] == ["5"]

    @responses.activate
    def test_search_without_results(self, inventory: VonageInventory) -> None:
        responses.get(f"{REST}/number/search", json={"count": 0})
        assert inventory.search("GB", kind="mobile") == []
        query = parse_qs(urlsplit(responses.calls[0].request.url or "").query)
        assert query["type"] == ["mobile-lvn"]
        assert "pattern" not in query

    @pytest.mark.parametrize(
        ("country", "kind", "limit"),
        [("RU", "satellite", 5), ("RU", "local", 0), ("QQ", "local", 5)],
    )
    def test_search_refuses_bad_arguments(
        self, inventory: VonageInventory, country: str, kind: str, limit: int
    ) -> None:
        with responses.RequestsMock() as mock, pytest.raises(ConfigurationError):
            inventory.search(country, kind=kind, limit=limit)
        assert len(mock.calls) == 0

    @responses.activate
    def test_buy_links_the_number_to_the_application(self, inventory: VonageInventory) -> None:
        ok = {"error-code": "200", "error-code-label": "success"}
        responses.post(f"{REST}/number/buy", json=ok)
        responses.post(f"{REST}/number/update", json=ok)
        assert inventory.buy("74951234567") == "+74951234567"
        buy, update = (parse_qs(str(c.request.body)) for c in responses.calls)
        assert (buy["country"], buy["msisdn"]) == (["RU"], ["74951234567"])
        assert update["app_id"] == ["app-1"]

    @responses.activate
    def test_release(self, inventory: VonageInventory) -> None:
        responses.post(
            f"{REST}/number/cancel", json={"error-code": "200", "error-code-label": "success"}
        )
        inventory.release("+74951234567")
        assert parse_qs(str(responses.calls[0].request.body))["msisdn"] == ["74951234567"]

    @responses.activate
    def test_configure_application(self, inventory: VonageInventory) -> None:
        responses.put(f"{API}/v2/applications/app-1", json={"id": "app-1", "name": "calltrack"})
        inventory.configure_application()
        body = responses.calls[0].request.body
        sent = json.loads(body if isinstance(body, (bytes, str)) else b"")
        voice = sent["capabilities"]["voice"]
        assert voice["webhooks"]["answer_url"] == {
            "address": f"{BASE}/vonage/answer",
            "http_method": "POST",
        }
        assert voice["webhooks"]["event_url"]["address"] == f"{BASE}/vonage/event"
        assert voice["signed_callbacks"] is True

    @pytest.mark.parametrize(
        ("status", "body", "expected"),
        [
            (401, {"type": "x", "title": "Unauthorized"}, 401),
            (420, {"error-code": "420", "error-code-label": "method failed"}, 420),
            (200, {"error-code": "401", "error-code-label": "not allowed"}, None),
            (500, {"title": "boom"}, 500),
        ],
    )
    def test_refusals_become_provider_api_errors(
        self, inventory: VonageInventory, status: int, body: dict[str, str], expected: int | None
    ) -> None:
        with responses.RequestsMock() as mock:
            mock.post(f"{REST}/number/buy", json=body, status=status)
            with pytest.raises(ProviderAPIError) as caught:
                inventory.buy("+74951234567")
        assert (caught.value.provider, caught.value.status) == ("vonage", expected)
        assert caught.value.message

    def test_network_failure_is_a_provider_api_error(self, inventory: VonageInventory) -> None:
        import requests  # noqa: PLC0415

        with responses.RequestsMock() as mock:
            mock.post(f"{REST}/number/cancel", body=requests.ConnectionError("down"))
            with pytest.raises(ProviderAPIError, match="down"):
                inventory.release("+74951234567")

    def test_bad_number_is_refused_before_any_request(self, inventory: VonageInventory) -> None:
        with responses.RequestsMock() as mock, pytest.raises(InvalidPhoneNumber):
            inventory.buy("not a number")
        assert len(mock.calls) == 0

    def test_from_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CALLTRACK_VONAGE_API_KEY", "k")
        monkeypatch.setenv("CALLTRACK_VONAGE_API_SECRET", "s")
        monkeypatch.setenv("CALLTRACK_VONAGE_APPLICATION_ID", "app-9")
        made = VonageInventory.from_env(BASE)
        assert made.application_id == "app-9"
        monkeypatch.delenv("CALLTRACK_VONAGE_API_SECRET")
        with pytest.raises(ConfigurationError, match="CALLTRACK_VONAGE_API_SECRET"):
            VonageInventory.from_env(BASE)

    def test_empty_credentials(self) -> None:
        with pytest.raises(ConfigurationError, match="api_key"):
            VonageInventory("", "s", "app", base_url=BASE)

    def test_missing_sdk_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "vonage_http_client", None)
        with pytest.raises(ProviderNotInstalled, match=r"calltrack\[vonage\]"):
            VonageInventory("k", "s", "app", base_url=BASE)
