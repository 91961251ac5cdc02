"""The Plivo adapter: the provider contract, Plivo's own formats, and the SDK as an oracle."""

from __future__ import annotations

import base64
import builtins
import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode
from xml.etree.ElementTree import canonicalize

import attrs
import pytest
import requests
import responses
from hypothesis import given, settings
from hypothesis import strategies as st
from plivo import plivoxml
from plivo.utils.signature_v3 import (
    construct_get_url,
    construct_post_url,
    get_signature_v3,
    validate_v3_signature,
)

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
from calltrack.domain.model import CallRoute, DialStatus, Mark
from calltrack.domain.settings import Settings
from calltrack.errors import (
    ConfigurationError,
    InvalidSignature,
    MalformedWebhook,
    ProviderAPIError,
    ProviderNotInstalled,
)
from calltrack.ports import Document, WebhookRequest
from calltrack.providers import load_inventory_class, load_provider_class
from calltrack.providers.plivo import (
    MAIN_ACCOUNT_SIGNATURE_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    PlivoInventory,
    PlivoProvider,
    dial_status,
    form_pairs,
    signature_base,
    signature_v3,
)
from calltrack.storage.memory import MemoryStorage
from calltrack.testing import FakeClock, FakeDirectory, RecordingNotifier
from calltrack.testing.plivo import PlivoHarness
from calltrack.testing.provider_contract import ProviderContract, ProviderHarness
from calltrack.tracker import CallTracker
from calltrack.webhooks import WebhookHandler

FIXTURES = Path(__file__).parent.parent / "fixtures" / "plivo"
BASE = "https://calls.example.com"
CALLER = "+79031234567"
VIRTUAL = "+74951234567"
REAL = "+79161234567"
FORGER = "someone-else"
MAIN_ACCOUNT = "plivo-main-token"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def signed_fixture(harness: PlivoHarness, name: str) -> tuple[str, WebhookRequest]:
    data = fixture(name)
    request = harness.request(
        data["event"], data["params"], query=data["query"], method=data["method"]
    )
    return data["event"], request


def canonical(xml: str) -> str:
    return canonicalize(xml_data=xml)


def prompt(text: str, voice: str | None = None) -> Prompt:
    return Prompt(text, "ru-RU", voice)


class TestPlivoProvider(ProviderContract):
    """PlivoProvider keeps the provider contract."""

    @pytest.fixture
    def harness(self) -> ProviderHarness:
        return PlivoHarness()


# --- parsing ---------------------------------------------------------------------------
A_LEG = "5ab1c0de-0000-4000-8000-00000000a001"
B_LEG = "5ab1c0de-0000-4000-8000-00000000b001"

DIAL_FIXTURES = {
    "dial_answered": DialStatus.ANSWERED,
    "dial_no_answer": DialStatus.NO_ANSWER,
    "dial_timeout": DialStatus.NO_ANSWER,
    "dial_busy": DialStatus.BUSY,
    "dial_failed": DialStatus.FAILED,
    "dial_caller_hung_up": DialStatus.CANCELED,
    "dial_not_accepted": DialStatus.NOT_ACCEPTED,
}


class TestParsingFixtures:
    """Every fixture payload parses to its normalized event and keeps the raw payload."""

    @pytest.fixture
    def harness(self) -> PlivoHarness:
        return PlivoHarness()

    def test_every_fixture_is_covered(self) -> None:
        names = {p.stem for p in FIXTURES.glob("*.json")}
        covered = set(DIAL_FIXTURES) | {
            "voice",
            "voice_withheld",
            "voice_get",
            "dial_events_answer",
            "dial_events_hangup",
            "accept_answer",
            "accept_hangup",
            "whisper",
            "recording",
            "hangup",
        }
        assert names == covered

    @pytest.mark.parametrize("name", ["voice", "voice_get"])
    def test_voice(self, harness: PlivoHarness, name: str) -> None:
        event_name, request = signed_fixture(harness, name)
        harness.provider.verify(request)
        event = harness.provider.parse(event_name, request)
        assert isinstance(event, InboundCall)
        assert event.caller == "79031234567"
        assert event.virtual_number == "74951234567"
        assert event.raw == fixture(name)["params"]

    def test_withheld_caller(self, harness: PlivoHarness) -> None:
        event = harness.provider.parse(*signed_fixture(harness, "voice_withheld"))
        assert isinstance(event, InboundCall)
        assert event.caller is None

    @pytest.mark.parametrize(("name", "status"), DIAL_FIXTURES.items())
    def test_dial_results(self, harness: PlivoHarness, name: str, status: DialStatus) -> None:
        event = harness.provider.parse(*signed_fixture(harness, name))
        assert isinstance(event, DialResult)
        assert event.call_id == A_LEG
        assert event.status is status
        assert event.final
        assert event.dial_call_id == (B_LEG if status is DialStatus.ANSWERED else None)
        assert event.raw["DialStatus"] == fixture(name)["params"]["DialStatus"]

    @pytest.mark.parametrize(
        ("name", "word"),
        [("dial_events_answer", "DialAnswer"), ("dial_events_hangup", "DialHangup")],
    )
    def test_dial_events_are_progress(self, harness: PlivoHarness, name: str, word: str) -> None:
        event = harness.provider.parse(*signed_fixture(harness, name))
        assert event == CallProgress("plivo", A_LEG, word)
        assert event.raw

    def test_accept_answer_is_the_key(self, harness: PlivoHarness) -> None:
        event = harness.provider.parse(*signed_fixture(harness, "accept_answer"))
        assert event == AcceptKey("plivo", A_LEG, "1")

    def test_accept_hangup_is_progress(self, harness: PlivoHarness) -> None:
        event = harness.provider.parse(*signed_fixture(harness, "accept_hangup"))
        assert event == CallProgress("plivo", A_LEG, "DialHangup")

    def test_whisper_names_the_a_leg_not_the_recruiters_leg(self, harness: PlivoHarness) -> None:
        event = harness.provider.parse(*signed_fixture(harness, "whisper"))
        assert event == WhisperRequest("plivo", A_LEG)

    def test_recording(self, harness: PlivoHarness) -> None:
        event = harness.provider.parse(*signed_fixture(harness, "recording"))
        params = fixture("recording")["params"]
        assert event == RecordingReady(
            "plivo", A_LEG, params["RecordingID"], params["RecordUrl"], 42
        )

    def test_hangup(self, harness: PlivoHarness) -> None:
        event = harness.provider.parse(*signed_fixture(harness, "hangup"))
        assert event == CallProgress("plivo", A_LEG, "completed")


class TestParsingRefusals:
    """Bad payloads raise MalformedWebhook, never another exception."""

    @pytest.fixture
    def harness(self) -> PlivoHarness:
        return PlivoHarness()

    def test_a_body_that_is_not_utf8(self, harness: PlivoHarness) -> None:
        _, good = harness.inbound("c-1", CALLER, VIRTUAL)
        bad = attrs.evolve(good, body=b"CallUUID=\xff\xfe")
        with pytest.raises(MalformedWebhook, match="UTF-8"):
            harness.provider.verify(bad)
        with pytest.raises(MalformedWebhook, match="UTF-8"):
            harness.provider.parse("voice", bad)

    def test_a_json_body(self, harness: PlivoHarness) -> None:
        request = WebhookRequest(
            "POST", f"{BASE}/plivo/voice", {"Content-Type": "application/json"}, b'{"a": 1}'
        )
        with pytest.raises(MalformedWebhook, match="application/json"):
            harness.provider.parse("voice", request)

    def test_an_unknown_webhook(self, harness: PlivoHarness) -> None:
        _, request = harness.inbound("c-1", CALLER, VIRTUAL)
        with pytest.raises(MalformedWebhook, match="no such plivo webhook"):
            harness.provider.parse("ringing", request)

    def test_a_recording_length_that_is_not_a_number(self, harness: PlivoHarness) -> None:
        request = harness.request(
            "recording",
            {"RecordingID": "r", "RecordUrl": "https://x/r.mp3", "RecordingDuration": "long"},
            query={"aleg": "c-1"},
        )
        with pytest.raises(MalformedWebhook, match="RecordingDuration"):
            harness.provider.parse("recording", request)

    def test_an_unknown_recording_length_is_none(self, harness: PlivoHarness) -> None:
        request = harness.request(
            "recording",
            {"RecordingID": "r", "RecordUrl": "https://x/r.mp3", "RecordingDuration": "-1"},
            query={"aleg": "c-1"},
        )
        event = harness.provider.parse("recording", request)
        assert isinstance(event, RecordingReady)
        assert event.duration_seconds is None


class TestDialStatusMapping:
    """The Dial action's fields map to normalized statuses as documented."""

    @pytest.mark.parametrize(
        ("word", "cause", "b_leg", "key", "expected"),
        [
            ("completed", "NORMAL_CLEARING", "b", False, DialStatus.ANSWERED),
            ("completed", "NORMAL_CLEARING", "b", True, DialStatus.ANSWERED),
            ("no-answer", "NO_ANSWER", "", False, DialStatus.NO_ANSWER),
            ("timeout", "", "", False, DialStatus.NO_ANSWER),
            ("busy", "USER_BUSY", "", False, DialStatus.BUSY),
            ("failed", "", "", False, DialStatus.FAILED),
            ("no-answer", "ORIGINATOR_CANCEL", "", False, DialStatus.CANCELED),
            ("completed", "originator_cancel", "", True, DialStatus.CANCELED),
            ("completed", "NORMAL_CLEARING", "", True, DialStatus.NOT_ACCEPTED),
            ("completed", "USER_BUSY", "", False, DialStatus.BUSY),
            ("completed", "NO_ANSWER", "", False, DialStatus.NO_ANSWER),
            ("completed", "NORMAL_CLEARING", "", False, DialStatus.UNKNOWN),
            ("something-new", "", "", False, DialStatus.UNKNOWN),
        ],
    )
    def test_table(
        self, word: str, cause: str, b_leg: str, key: bool, expected: DialStatus
    ) -> None:
        assert dial_status(word, cause, b_leg, accept_key_asked=key) is expected

    @given(word=st.text(), cause=st.text(), b_leg=st.text(min_size=1), key=st.booleans())
    def test_a_bridged_leg_is_always_answered(
        self, word: str, cause: str, b_leg: str, key: bool
    ) -> None:
        assert dial_status(word, cause, b_leg, accept_key_asked=key) is DialStatus.ANSWERED

    @given(word=st.text(), cause=st.text(), key=st.booleans())
    def test_without_a_bridged_leg_nothing_is_answered(
        self, word: str, cause: str, key: bool
    ) -> None:
        assert not dial_status(word, cause, "", accept_key_asked=key).answered


# --- signatures ------------------------------------------------------------------------
def sdk_sign(token: str, method: str, url: str, params: Mapping[str, str], nonce: str) -> str:
    """Sign with the SDK's own code: its base string and its signature function."""
    build = construct_get_url if method == "GET" else construct_post_url
    base = build(url, dict(params)).decode()
    signature: bytes = get_signature_v3(token.encode(), base, nonce.encode())
    return signature.decode()


def sdk_accepts(request: WebhookRequest, token: str) -> bool:
    params = dict(request.form_items()) if request.method == "POST" else {}
    return bool(
        validate_v3_signature(
            request.method,
            request.url,
            request.header(NONCE_HEADER) or "",
            token,
            request.header(SIGNATURE_HEADER) or "",
            params,
        )
    )


def ours_accepts(provider: PlivoProvider, request: WebhookRequest) -> bool:
    try:
        provider.verify(request)
    except InvalidSignature:
        return False
    return True


ascii_words = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="&=#%+;"),
    min_size=1,
    max_size=8,
)
any_values = st.text(max_size=12)
forms = st.dictionaries(ascii_words, any_values, max_size=6)
queries = st.dictionaries(ascii_words, ascii_words, max_size=3)


class TestFormReading:
    """Form bodies and queries are read exactly as the standard library reads them."""

    @given(text=st.text(alphabet=st.sampled_from("ab=&+%2F0é ")))
    def test_pairs_equal_parse_qsl(self, text: str) -> None:
        assert form_pairs(text) == parse_qsl(text, keep_blank_values=True)

    @given(first=forms, second=forms)
    def test_a_verified_body_never_leaks_into_another_parse(
        self, first: dict[str, str], second: dict[str, str]
    ) -> None:
        harness = PlivoHarness()
        one = harness.request("hangup", {**first, "CallUUID": "c-1"})
        two = harness.request("hangup", {**second, "CallUUID": "c-2"})
        harness.provider.verify(one)
        event = harness.provider.parse("hangup", two)
        assert event.raw == {**second, "CallUUID": "c-2"}


class TestSignatures:
    """verify accepts what Plivo (and its SDK) signs and refuses every change."""

    @pytest.fixture
    def harness(self) -> PlivoHarness:
        return PlivoHarness()

    @given(method=st.sampled_from(["POST", "GET"]), params=forms, query=queries)
    def test_the_base_string_is_the_sdks(
        self, method: str, params: dict[str, str], query: dict[str, str]
    ) -> None:
        url = f"{BASE}/plivo/voice" + (f"?{urlencode(query)}" if query else "")
        build = construct_get_url if method == "GET" else construct_post_url
        sdk_params = {} if method == "GET" else dict(params)
        expected = build(url, sdk_params).decode()
        assert signature_base(method, url, list(sdk_params.items())) == expected

    @settings(max_examples=50)
    @given(params=forms, query=queries, nonce=st.from_regex(r"[0-9]{20}", fullmatch=True))
    def test_sdk_signed_requests_are_accepted(
        self, params: dict[str, str], query: dict[str, str], nonce: str
    ) -> None:
        provider = PlivoHarness().provider
        url = provider.url("dial", **query)
        body = urlencode(list(params.items())).encode()
        signature = sdk_sign(provider.secrets[1], "POST", url, params, nonce)
        headers = {SIGNATURE_HEADER: signature, NONCE_HEADER: nonce}
        provider.verify(WebhookRequest("POST", url, headers, body))

    def test_sdk_signed_get_requests_are_accepted(self, harness: PlivoHarness) -> None:
        url = f"{BASE}/plivo/voice?CallUUID=c-1&From=79031234567&To=74951234567"
        nonce = harness.nonce()
        signature = sdk_sign(harness.provider.secrets[0], "GET", url, {}, nonce)
        harness.provider.verify(
            WebhookRequest("GET", url, {SIGNATURE_HEADER: signature, NONCE_HEADER: nonce})
        )

    def test_the_harness_signs_what_the_sdk_validates(self, harness: PlivoHarness) -> None:
        token = harness.provider.secrets[0]
        for name in sorted(p.stem for p in FIXTURES.glob("*.json")):
            _, request = signed_fixture(harness, name)
            assert sdk_accepts(request, token), name

    @settings(max_examples=50)
    @given(
        params=forms.filter(bool),
        change=st.sampled_from(["url", "query", "param", "drop", "nonce", "token", "none"]),
    )
    def test_the_sdk_and_verify_agree_on_tampering(
        self, params: dict[str, str], change: str
    ) -> None:
        harness = PlivoHarness()
        request = harness.request("voice", params, query={"aleg": "c-1"})
        token = harness.provider.secrets[0]
        if change == "url":
            request = attrs.evolve(request, url=request.url.replace("/voice", "/dial"))
        elif change == "query":
            request = attrs.evolve(request, url=request.url.replace("aleg=c-1", "aleg=c-2"))
        elif change == "param":
            first = next(iter(params))
            changed = {**params, first: params[first] + "x"}
            request = attrs.evolve(request, body=urlencode(list(changed.items())).encode())
        elif change == "drop":
            dropped = dict(list(params.items())[1:])
            request = attrs.evolve(request, body=urlencode(list(dropped.items())).encode())
        elif change == "nonce":
            nonce = request.header(NONCE_HEADER) or ""
            request = attrs.evolve(
                request, headers={**request.headers, "x-plivo-signature-v3-nonce": nonce + "9"}
            )
        elif change == "token":
            request = harness.sign(request, token=FORGER)
        assert sdk_accepts(request, token) == ours_accepts(harness.provider, request)
        assert ours_accepts(harness.provider, request) == (change == "none")

    def test_every_token_verifies_while_listed(self, harness: PlivoHarness) -> None:
        _, request = harness.inbound("c-1", CALLER, VIRTUAL)
        for token in harness.provider.secrets:
            harness.provider.verify(harness.sign(request, token=token))
        old_only = PlivoProvider(["plivo-token-old"], base_url=BASE)
        with pytest.raises(InvalidSignature):
            old_only.verify(request)

    def test_a_list_of_signatures_in_the_header(self, harness: PlivoHarness) -> None:
        _, request = harness.inbound("c-1", CALLER, VIRTUAL)
        good = request.header(SIGNATURE_HEADER)
        listed = {**request.headers, SIGNATURE_HEADER.lower(): f"bogus,{good}"}
        harness.provider.verify(attrs.evolve(request, headers=listed))
        assert sdk_accepts(attrs.evolve(request, headers=listed), harness.provider.secrets[0])

    def test_the_main_account_signature(self, harness: PlivoHarness) -> None:
        _, request = harness.inbound("c-1", CALLER, VIRTUAL)
        main = harness.sign(request, token=MAIN_ACCOUNT, header=MAIN_ACCOUNT_SIGNATURE_HEADER)
        harness.provider.verify(main)
        without_main = PlivoProvider(harness.provider.secrets, base_url=BASE)
        with pytest.raises(InvalidSignature):
            without_main.verify(main)
        with pytest.raises(InvalidSignature):
            harness.provider.verify(
                harness.sign(request, token=MAIN_ACCOUNT, header=SIGNATURE_HEADER)
            )

    def test_missing_nonce(self, harness: PlivoHarness) -> None:
        _, request = harness.inbound("c-1", CALLER, VIRTUAL)
        headers = {k: v for k, v in request.headers.items() if k != NONCE_HEADER.lower()}
        with pytest.raises(InvalidSignature, match="Nonce"):
            harness.provider.verify(attrs.evolve(request, headers=headers))

    def test_behind_a_proxy_the_public_url_is_checked(self, harness: PlivoHarness) -> None:
        _, request = harness.whisper("c-1")
        internal = request.url.replace(BASE, "http://10.0.0.7:8000/internal")
        harness.provider.verify(attrs.evolve(request, url=internal))
        elsewhere = internal.replace("/plivo/whisper", "/plivo/recording")
        with pytest.raises(InvalidSignature):
            harness.provider.verify(attrs.evolve(request, url=elsewhere))

    def test_switching_verification_off_warns(self) -> None:
        with pytest.warns(RuntimeWarning, match="verification is switched off"):
            provider = PlivoProvider(["t"], base_url=BASE, verify_signatures=False)
        provider.verify(WebhookRequest("POST", f"{BASE}/plivo/voice", {}, b""))

    def test_a_known_signature(self) -> None:
        """The vector recorded from the SDK in the provider research notes."""
        url = "https://app.example.com/pl/answer?campaign=yandex"
        params = {
            "CallUUID": "e6a6c5c0-3b1f-11ef-9b7e-1f2e3d4c5b6a",
            "From": "79031234567",
            "To": "74951234567",
            "CallStatus": "ringing",
            "Direction": "inbound",
            "Event": "StartApp",
        }
        base = signature_base("POST", url, list(params.items()))
        assert base == (
            "https://app.example.com/pl/answer?campaign=yandex.CallStatusringing"
            "CallUUIDe6a6c5c0-3b1f-11ef-9b7e-1f2e3d4c5b6aDirectioninboundEventStartApp"
            "From79031234567To74951234567"
        )
        signature = signature_v3(
            "ZTE3NWEwOGQ4MzNkYjY3YWY5ZTM0YTljNzFmNmJj", base, "05429567804466091622"
        )
        assert signature == "5bweWHVrElXeSp4/aXgJsAy0ZrLpIVkkDXL5ct7XcxE="

    def test_the_signature_is_plivos_algorithm(self) -> None:
        base = f"{BASE}/plivo/voice?CallUUIDc-1"
        expected = base64.b64encode(
            hmac.new(b"tok", f"{base}.123".encode(), hashlib.sha256).digest()
        ).decode()
        assert signature_v3("tok", base, "123") == expected

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"secrets": []},
            {"secrets": [""]},
            {"secrets": ["t"], "base_url": "calls.example.com"},
            {"secrets": ["t"], "base_url": "https://x.example.com/?a=1"},
            {"secrets": ["t"], "main_account_secrets": [""]},
            {"secrets": ["t"], "confirm_timeout": 0},
            {"secrets": ["t"], "max_recording_seconds": -1},
        ],
    )
    def test_bad_configuration(self, kwargs: dict[str, Any]) -> None:
        arguments = {"base_url": BASE, **kwargs}
        with pytest.raises(ConfigurationError):
            PlivoProvider(**arguments)

    def test_repr_hides_the_tokens(self, harness: PlivoHarness) -> None:
        assert "token" not in repr(harness.provider)


# --- rendering -------------------------------------------------------------------------
def sdk_speak(p: Prompt) -> plivoxml.SpeakElement:
    return plivoxml.SpeakElement(p.text, voice=p.voice, language=p.language)


def sdk_document(decision: Decision, provider: PlivoProvider) -> str:
    """The same decision built with the SDK's XML elements."""
    response = plivoxml.ResponseElement()
    if isinstance(decision, Forward):
        call = decision.call_id
        key = decision.accept_key
        response.add(sdk_speak(decision.greeting))
        if decision.record:
            response.add(
                plivoxml.RecordElement(
                    file_format="mp3",
                    redirect=False,
                    max_length=provider.max_recording_seconds,
                    start_on_dial_answer=True,
                    callback_url=f"{BASE}/plivo/recording?aleg={call}",
                    callback_method="POST",
                    record_channel_type="stereo",
                )
            )
        dial = plivoxml.DialElement(
            action=f"{BASE}/plivo/dial" + (f"?{urlencode({'key': key})}" if key else ""),
            method="POST",
            timeout=decision.ring_timeout,
            caller_id=decision.caller_id.lstrip("+"),
            confirm_sound=f"{BASE}/plivo/whisper?aleg={call}",
            confirm_timeout=provider.confirm_timeout if key else None,
            confirm_key=key,
            callback_url=(
                f"{BASE}/plivo/accept?{urlencode({'key': key})}"
                if key
                else f"{BASE}/plivo/dial-events"
            ),
            callback_method="POST",
            redirect=True,
        )
        dial.add(plivoxml.NumberElement(decision.real_number.lstrip("+")))
        response.add(dial)
    elif isinstance(decision, Whisper):
        response.add(sdk_speak(decision.prompt))
        if decision.accept_key and decision.accept_prompt:
            response.add(sdk_speak(decision.accept_prompt))
    elif isinstance(decision, Reject):
        response.add(plivoxml.HangupElement(reason="busy" if decision.busy else "rejected"))
    elif isinstance(decision, Announce):
        response.add(sdk_speak(decision.prompt))
        response.add(plivoxml.HangupElement())
    elif isinstance(decision, Hangup):
        if decision.prompt:
            response.add(sdk_speak(decision.prompt))
        response.add(plivoxml.HangupElement())
    xml: str = response.to_string(pretty=False)
    return xml


def forward(**changes: Any) -> Forward:
    base = Forward(
        call_id="5ab1c0de-0000-4000-8000-00000000a001",
        greeting=prompt("Вы звоните по вакансии «Водитель»", "WOMAN"),
        real_number=REAL,
        caller_id=CALLER,
        ring_timeout=25,
        record=True,
        whisper=prompt("Звонок с сайта"),
    )
    return attrs.evolve(base, **changes)


DECISIONS: list[Decision] = [
    forward(),
    forward(record=False),
    forward(accept_key="1", accept_prompt=prompt("Нажмите 1")),
    forward(accept_key="#", accept_prompt=prompt("Нажмите решётку"), record=False),
    Whisper(prompt("Звонок с сайта")),
    Whisper(prompt("Звонок с сайта"), accept_key="1", accept_prompt=prompt("Нажмите 1")),
    Reject("spam"),
    Reject("spam", busy=False),
    Announce(prompt("Номер не обслуживается")),
    Hangup(prompt("Перезвоните позже")),
    Hangup(),
    Bridge(),
    Acknowledge(),
]


class TestRendering:
    """Every decision renders as the SDK renders it; user text is escaped."""

    @pytest.fixture
    def provider(self) -> PlivoProvider:
        return PlivoProvider(["t"], base_url=BASE + "/")

    @pytest.mark.parametrize("decision", DECISIONS, ids=repr)
    def test_documents_equal_the_sdks(self, provider: PlivoProvider, decision: Decision) -> None:
        document = provider.render(decision)
        assert document.content_type == "application/xml"
        assert document.status == 200
        assert canonical(document.body) == canonical(sdk_document(decision, provider))

    @pytest.mark.parametrize("decision", DECISIONS, ids=repr)
    def test_documents_are_byte_equal_to_the_sdks(
        self, provider: PlivoProvider, decision: Decision
    ) -> None:
        assert provider.render(decision).body == sdk_document(decision, provider)

    @given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"))))
    def test_any_text_renders_as_the_sdk_renders_it(self, text: str) -> None:
        provider = PlivoProvider(["t"], base_url=BASE)
        decision = forward(greeting=prompt(text))
        assert canonical(provider.render(decision).body) == canonical(
            sdk_document(decision, provider)
        )

    @given(text=st.text())
    def test_spoken_text_comes_back_as_typed(self, text: str) -> None:
        harness = PlivoHarness()
        document = harness.provider.render(Announce(prompt(text)))
        kept = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)
        assert harness.spoken(document) == [kept]

    def test_reject_is_the_first_element(self, provider: PlivoProvider) -> None:
        assert provider.render(Reject("spam")).body == (
            '<Response><Hangup reason="busy"/></Response>'
        )

    def test_numbers_are_written_without_the_plus(self, provider: PlivoProvider) -> None:
        body = provider.render(forward()).body
        assert "<Number>79161234567</Number>" in body
        assert 'callerId="79031234567"' in body
        assert "+7" not in body

    def test_callback_urls_carry_the_a_leg_and_the_key(self, provider: PlivoProvider) -> None:
        body = provider.render(forward(accept_key="*", accept_prompt=prompt("*"))).body
        call = "5ab1c0de-0000-4000-8000-00000000a001"
        assert f'confirmSound="{BASE}/plivo/whisper?aleg={call}"' in body
        assert f'callbackUrl="{BASE}/plivo/recording?aleg={call}"' in body
        assert f'action="{BASE}/plivo/dial?key=%2A"' in body
        assert 'confirmKey="*"' in body

    def test_a_whisper_without_a_key_asks_for_nothing(self, provider: PlivoProvider) -> None:
        body = provider.render(Whisper(prompt("w"), accept_prompt=prompt("press"))).body
        assert "press" not in body


# --- number inventory ------------------------------------------------------------------
AUTH_ID = "MAFAKE0000000000000A"
API = f"https://api.plivo.com/v1/Account/{AUTH_ID}"
APP_ID = "20372631212782780"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def sent_json(body: object) -> Any:
    assert isinstance(body, (bytes, str))
    return json.loads(body)


def inventory(app_id: str | None = None) -> PlivoInventory:
    return PlivoInventory(AUTH_ID, "token", base_url=BASE, app_id=app_id)


SEARCH_PAYLOAD = {
    "api_id": "0d1f7a2e-0000-4000-8000-000000000001",
    "meta": {"limit": 20, "next": None, "offset": 0, "previous": None, "total_count": 2},
    "objects": [
        {
            "city": "Moscow",
            "country": "Russia",
            "lata": None,
            "monthly_rental_rate": "3.00000",
            "number": "74951234567",
            "prefix": "495",
            "rate_center": None,
            "region": "Moscow",
            "resource_uri": f"/v1/Account/{AUTH_ID}/PhoneNumber/74951234567/",
            "restriction": None,
            "restriction_text": None,
            "setup_rate": "0.00000",
            "sms_enabled": False,
            "sms_rate": None,
            "sub_type": "local",
            "type": "fixed",
            "voice_enabled": True,
            "voice_rate": "0.00850",
        },
        {
            "city": "Moscow",
            "country": "Russia",
            "monthly_rental_rate": "3.00000",
            "number": "74951234568",
            "prefix": "495",
            "region": "Moscow",
            "type": "fixed",
            "voice_enabled": True,
            "voice_rate": "0.00850",
        },
    ],
}


class TestInventory:
    """PlivoInventory searches, buys and releases through the SDK; errors are precise."""

    def test_it_is_found_by_name(self) -> None:
        assert load_inventory_class("plivo") is PlivoInventory
        assert load_provider_class("plivo") is PlivoProvider

    def test_search(self, api: responses.RequestsMock) -> None:
        api.get(re.compile(rf"{re.escape(API)}/PhoneNumber/\?.*"), json=SEARCH_PAYLOAD)
        found = inventory().search("ru", area="495", limit=1)
        assert len(found) == 1
        (number,) = found
        assert number.number == "+74951234567"
        assert (number.provider, number.country, number.area) == ("plivo", "RU", "495")
        assert (number.kind, number.monthly_cost) == ("local", "3.00000")
        query = api.calls[0].request.url or ""
        assert "country_iso=RU" in query
        assert "type=fixed" in query
        assert "pattern=495" in query
        assert "services=voice" in query

    @pytest.mark.parametrize(
        ("kind", "area", "expected"),
        [
            ("mobile", None, "type=mobile"),
            ("tollfree", None, "type=tollfree"),
            ("local", "Moscow", "region=Moscow"),
        ],
    )
    def test_search_arguments(
        self, api: responses.RequestsMock, kind: str, area: str | None, expected: str
    ) -> None:
        api.get(re.compile(rf"{re.escape(API)}/PhoneNumber/\?.*"), json=SEARCH_PAYLOAD)
        inventory().search("RU", area=area, kind=kind)
        assert expected in (api.calls[0].request.url or "")

    def test_search_refuses_an_unknown_kind_before_asking(
        self, api: responses.RequestsMock
    ) -> None:
        with pytest.raises(ValueError, match="kind"):
            inventory().search("RU", kind="satellite")
        with pytest.raises(ValueError, match="limit"):
            inventory().search("RU", limit=0)
        assert not api.calls

    def test_buy_makes_the_application_once(self, api: responses.RequestsMock) -> None:
        api.post(f"{API}/Application/", json={"app_id": APP_ID, "message": "created"}, status=201)
        for number in ("74951234567", "74951234568"):
            api.post(
                f"{API}/PhoneNumber/{number}/",
                json={"message": "created", "numbers": [{"number": number, "status": "Success"}]},
                status=201,
            )
        numbers = inventory()
        assert numbers.buy("+74951234567") == "+74951234567"
        assert numbers.buy("+74951234568") == "+74951234568"
        made = [c for c in api.calls if c.request.url == f"{API}/Application/"]
        assert len(made) == 1
        app = sent_json(made[0].request.body)
        assert app["answer_url"] == f"{BASE}/plivo/voice"
        assert app["hangup_url"] == f"{BASE}/plivo/hangup"
        assert app["answer_method"] == "POST"
        bought = sent_json(api.calls[-1].request.body)
        assert bought == {"number": "74951234568", "app_id": APP_ID}

    def test_buy_links_a_given_application(self, api: responses.RequestsMock) -> None:
        api.post(f"{API}/PhoneNumber/74951234567/", json={"message": "created"}, status=201)
        inventory(app_id="42").buy("+74951234567")
        assert len(api.calls) == 1
        assert sent_json(api.calls[0].request.body)["app_id"] == "42"

    def test_release(self, api: responses.RequestsMock) -> None:
        api.delete(f"{API}/Number/74951234567/", status=204)
        inventory().release("+74951234567")
        assert api.calls[0].request.method == "DELETE"

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 500, 503])
    def test_refusals_become_provider_api_errors(
        self, api: responses.RequestsMock, status: int
    ) -> None:
        api.delete(f"{API}/Number/74951234567/", status=status, json={"error": "no such number"})
        with pytest.raises(ProviderAPIError) as caught:
            inventory().release("+74951234567")
        assert caught.value.provider == "plivo"
        assert caught.value.status == status

    def test_a_refusal_names_plivos_message(self, api: responses.RequestsMock) -> None:
        api.post(
            f"{API}/PhoneNumber/74951234567/",
            json={"api_id": "x", "error": "number not available"},
            status=404,
        )
        with pytest.raises(ProviderAPIError, match="number not available"):
            inventory(app_id="42").buy("+74951234567")

    def test_no_answer_is_an_api_error_without_status(self, api: responses.RequestsMock) -> None:
        api.delete(
            f"{API}/Number/74951234567/", body=requests.ConnectionError("connection refused")
        )
        with pytest.raises(ProviderAPIError) as caught:
            inventory().release("+74951234567")
        assert caught.value.status is None

    @pytest.mark.parametrize("number", ["", "+", "+7 495 123", "74951234567x", "+0123456789"])
    def test_bad_numbers_are_refused_before_asking(
        self, api: responses.RequestsMock, number: str
    ) -> None:
        with pytest.raises(ValueError, match=re.escape("E.164")):
            inventory(app_id="42").buy(number)
        with pytest.raises(ValueError, match=re.escape("E.164")):
            inventory().release(number)
        assert not api.calls

    def test_from_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CALLTRACK_PLIVO_AUTH_ID", AUTH_ID)
        monkeypatch.setenv("CALLTRACK_PLIVO_AUTH_TOKEN", "secret-token")
        monkeypatch.setenv("CALLTRACK_PLIVO_APP_ID", "42")
        made = PlivoInventory.from_env(BASE)
        assert (made.auth_id, made.app_id, made.base_url) == (AUTH_ID, "42", BASE)
        assert "secret-token" not in repr(made)

    @pytest.mark.parametrize("missing", ["CALLTRACK_PLIVO_AUTH_ID", "CALLTRACK_PLIVO_AUTH_TOKEN"])
    def test_from_env_names_the_missing_variable(
        self, monkeypatch: pytest.MonkeyPatch, missing: str
    ) -> None:
        monkeypatch.setenv("CALLTRACK_PLIVO_AUTH_ID", AUTH_ID)
        monkeypatch.setenv("CALLTRACK_PLIVO_AUTH_TOKEN", "t")
        monkeypatch.delenv(missing)
        with pytest.raises(ConfigurationError, match=missing):
            PlivoInventory.from_env(BASE)

    def test_a_malformed_auth_id_is_a_configuration_error(
        self, api: responses.RequestsMock
    ) -> None:
        with pytest.raises(ConfigurationError, match="auth id"):
            PlivoInventory("not-an-auth-id", "t", base_url=BASE).search("RU")
        assert not api.calls

    def test_a_missing_sdk_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_import = builtins.__import__

        def blocked(name: str, *args: Any, **kwargs: Any) -> Any:
            if name.split(".", maxsplit=1)[0] == "plivo":
                raise ImportError(name)
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", blocked)
        with pytest.raises(ProviderNotInstalled, match=re.escape("calltrack[plivo]")):
            inventory().search("RU")


# --- whole calls -----------------------------------------------------------------------
@attrs.define
class Line:
    """A tracker behind a webhook handler, and the harness that plays Plivo."""

    tracker: CallTracker
    handler: WebhookHandler
    harness: PlivoHarness

    def send(self, signed: tuple[str, WebhookRequest], status: int = 200) -> Document:
        name, request = signed
        response = self.handler.handle(f"/plivo/{name}", request)
        assert response.status == status, response.body
        return Document(response.body, response.content_type, response.status)


def line(settings: Settings | None = None) -> Line:
    directory = FakeDirectory()
    directory.add(CALLER, "Anna Petrova", resume_url="https://jobs.example.com/r/1")
    tracker = CallTracker(
        MemoryStorage(),
        directory=directory,
        notifier=RecordingNotifier(),
        clock=FakeClock(),
        settings=settings,
    )
    tracker.add_numbers([VIRTUAL], provider="plivo")
    tracker.track("vac-1", [REAL], employer_id="emp-1", title="Водитель <категория C>")
    harness = PlivoHarness()
    return Line(tracker, WebhookHandler(tracker, [harness.provider]), harness)


def dial_fixture(harness: PlivoHarness, name: str, call_id: str) -> tuple[str, WebhookRequest]:
    data = fixture(name)
    params = {**data["params"], "CallUUID": call_id, "DialALegUUID": call_id}
    return "dial", harness.request("dial", params, query=data["query"])


class TestWholeCalls:
    """Signed Plivo webhooks drive calls into the right marks and documents."""

    def test_an_answered_call(self) -> None:
        calls = line()
        document = calls.send(calls.harness.inbound("c-1", CALLER, VIRTUAL))
        assert calls.harness.dialled(document) == REAL
        assert "Водитель <категория C>" in calls.harness.spoken(document)[0]
        whisper = calls.send(calls.harness.whisper("c-1"))
        assert calls.harness.spoken(whisper)
        after = calls.send(dial_fixture(calls.harness, "dial_answered", "c-1"))
        assert calls.harness.spoken(after) == []
        call = calls.tracker.call("plivo", "c-1")
        assert call.mark is Mark.RESPONSE_BY_CALL
        assert call.answered_at is not None
        (response,) = calls.tracker.responses(vacancy_id="vac-1")
        assert response.mark is Mark.RESPONSE_BY_CALL

    @pytest.mark.parametrize(
        "name",
        ["dial_no_answer", "dial_timeout", "dial_busy", "dial_failed", "dial_caller_hung_up"],
    )
    def test_missed_calls(self, name: str) -> None:
        calls = line()
        calls.send(calls.harness.inbound("c-1", CALLER, VIRTUAL))
        after = calls.send(dial_fixture(calls.harness, name, "c-1"))
        assert calls.harness.spoken(after)
        assert calls.harness.rejects(after)
        assert calls.tracker.call("plivo", "c-1").mark is Mark.MISSED_CALL
        (response,) = calls.tracker.responses(vacancy_id="vac-1", pending=True)
        assert response.mark is Mark.MISSED_CALL

    def test_a_caller_without_a_resume(self) -> None:
        calls = line()
        other = "+79037654321"
        calls.send(calls.harness.inbound("c-2", other, VIRTUAL))
        calls.send(dial_fixture(calls.harness, "dial_answered", "c-2"))
        assert calls.tracker.call("plivo", "c-2").mark is Mark.NO_RESUME
        assert calls.tracker.responses(vacancy_id="vac-1") == []

    def test_with_an_accept_key(self) -> None:
        calls = line(Settings(accept_key="1"))
        document = calls.send(calls.harness.inbound("c-3", CALLER, VIRTUAL))
        dial = calls.harness.root(document).find("Dial")
        assert dial is not None
        assert dial.get("confirmKey") == "1"
        whisper = calls.send(calls.harness.whisper("c-3"))
        assert len(calls.harness.spoken(whisper)) == 2
        accepted = calls.send(calls.harness.accept("c-3", "1"))
        assert accepted.body == "<Response/>"
        calls.send(dial_fixture(calls.harness, "dial_not_accepted", "c-3"))
        assert calls.tracker.call("plivo", "c-3").dial_status is DialStatus.NOT_ACCEPTED
        assert calls.tracker.call("plivo", "c-3").mark is Mark.MISSED_CALL

    def test_a_spam_caller_is_rejected_before_answer(self) -> None:
        calls = line()
        document = calls.send(calls.harness.inbound("c-4", None, VIRTUAL))
        first = next(iter(calls.harness.root(document)))
        assert (first.tag, first.get("reason")) == ("Hangup", "busy")
        assert calls.tracker.call("plivo", "c-4").route is CallRoute.SPAM

    def test_an_unknown_number_hears_an_announcement(self) -> None:
        calls = line()
        document = calls.send(calls.harness.inbound("c-5", CALLER, "+74950000000"))
        assert calls.harness.spoken(document)
        assert calls.harness.rejects(document)
        assert calls.tracker.call("plivo", "c-5").route is CallRoute.UNKNOWN_NUMBER

    def test_progress_and_recordings_are_acknowledged(self) -> None:
        calls = line()
        calls.send(calls.harness.inbound("c-6", CALLER, VIRTUAL))
        url = "https://media.example.com/r.mp3"
        assert calls.send(calls.harness.recording("c-6", "r-6", url, 42)).body == "<Response/>"
        hangup = fixture("hangup")["params"] | {"CallUUID": "c-6"}
        assert calls.send(("hangup", calls.harness.request("hangup", hangup))).body == (
            "<Response/>"
        )
        assert calls.tracker.call("plivo", "c-6").recording_url == url

    def test_forged_and_malformed_webhooks_change_nothing(self) -> None:
        calls = line()
        _, request = calls.harness.inbound("c-7", CALLER, VIRTUAL)
        forged = calls.harness.sign(request, token=FORGER)
        calls.send(("voice", forged), status=403)
        broken = calls.harness.request("voice", {"CallUUID": "c-7"})
        calls.send(("voice", broken), status=400)
        assert calls.tracker.calls("vac-1").calls == []
