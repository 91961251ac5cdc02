"""The Twilio adapter: the provider contract, and Twilio's own SDK as the oracle."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import HMAC_SHA256, RequestValidator
from twilio.twiml.voice_response import VoiceResponse

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
from calltrack.errors import ConfigurationError, InvalidSignature, MalformedWebhook
from calltrack.ports import Provider, WebhookRequest
from calltrack.providers import load_provider_class
from calltrack.providers.twilio import (
    SIGNATURE_HEADER,
    TwilioProvider,
    compute_signature,
    parse_form,
)
from calltrack.storage.memory import MemoryStorage
from calltrack.testing._fakes import FakeClock, FakeDirectory, RecordingNotifier
from calltrack.testing.provider_contract import ProviderContract, ProviderHarness
from calltrack.testing.twilio import TwilioHarness
from calltrack.tracker import CallTracker
from calltrack.webhooks import WebhookHandler

FIXTURES = Path(__file__).parent.parent / "fixtures" / "twilio"
BASE = "https://calls.example.com/hooks"
TOKEN = "twilio-test-token-new"  # noqa: S105 - a test fixture, not a credential
OLD_TOKEN = "twilio-test-token-old"  # noqa: S105 - a test fixture, not a credential
CALLER = "+79031234567"
VIRTUAL = "+74951234567"
REAL = "+79161234567"

xml_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from("\n\t\r"),
    max_size=40,
)


@pytest.fixture
def harness() -> TwilioHarness:
    return TwilioHarness()


@pytest.fixture
def provider(harness: TwilioHarness) -> TwilioProvider:
    return harness.provider


class TestTwilioProvider(ProviderContract):
    """TwilioProvider keeps the provider contract."""

    @pytest.fixture
    def harness(self) -> ProviderHarness:
        return TwilioHarness()


class TestConfiguration:
    """The adapter is found by name and refuses settings it cannot work with."""

    def test_found_by_name_and_is_a_provider(self, provider: TwilioProvider) -> None:
        assert load_provider_class("twilio") is TwilioProvider
        assert isinstance(provider, Provider)
        assert provider.events == {"voice", "dial", "whisper", "accept", "recording", "status"}

    def test_needs_a_token_while_verifying(self) -> None:
        with pytest.raises(ConfigurationError, match="Auth Token"):
            TwilioProvider((), base_url=BASE)
        with pytest.raises(ConfigurationError, match="Auth Token"):
            TwilioProvider(("",), base_url=BASE)

    @pytest.mark.parametrize("url", ["calls.example.com", "ftp://x/y", "https://x/y?a=1", ""])
    def test_base_url_must_be_http(self, url: str) -> None:
        with pytest.raises(ConfigurationError, match="base_url"):
            TwilioProvider((TOKEN,), base_url=url)

    def test_a_single_string_is_one_token(self) -> None:
        assert TwilioProvider(TOKEN, base_url=BASE).secrets == (TOKEN,)

    def test_switching_verification_off_warns_and_accepts_anything(self) -> None:
        with pytest.warns(RuntimeWarning, match="twilio webhook signature verification"):
            provider = TwilioProvider((), base_url=BASE, verify_signatures=False)
        provider.verify(WebhookRequest("POST", f"{BASE}/twilio/voice", {}, b"CallSid=CA1"))

    def test_repr_hides_the_token(self, provider: TwilioProvider) -> None:
        assert TOKEN not in repr(provider)
        assert BASE in repr(provider)


def _sdk_signed(
    request: WebhookRequest, token: str = TOKEN, url: str | None = None
) -> WebhookRequest:
    """The request re-signed by Twilio's own RequestValidator."""
    signature = RequestValidator(token).compute_signature(
        url or request.url, dict(request.form_items())
    )
    return attrs.evolve(request, headers={**request.headers, SIGNATURE_HEADER: signature})


def _sdk_accepts(request: WebhookRequest, token: str = TOKEN) -> bool:
    signature = request.header(SIGNATURE_HEADER) or ""
    result: bool = RequestValidator(token).validate(
        request.url, dict(request.form_items()), signature
    )
    return result


class TestSignaturesAgainstTheSdk:
    """verify accepts what Twilio's SDK signs and refuses what its validator refuses."""

    def test_the_sdks_published_test_vector(self) -> None:
        params = {
            "CallSid": "CA1234567890ABCDE",
            "Caller": "+14158675309",
            "Digits": "1234",
            "From": "+14158675309",
            "To": "+18005551212",
        }
        url = "https://mycompany.com/myapp.php?foo=1&bar=2"
        signature = compute_signature(url, params.items(), "12345")
        assert signature == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        assert signature == RequestValidator("12345").compute_signature(url, params)

    def test_sdk_signed_requests_of_every_kind_pass(self, harness: TwilioHarness) -> None:
        signed = [
            harness.inbound("CA1", CALLER, VIRTUAL),
            harness.dial_result("CA1", DialStatus.BUSY, 0),
            harness.recording("CA1", "RE1", "https://api.example.com/RE1", 7),
            harness.whisper("CA1"),
            harness.accept("CA1", "1"),
            harness.status("CA1", "ringing"),
        ]
        for _, request in signed:
            resigned = _sdk_signed(request)
            assert resigned.header(SIGNATURE_HEADER) == request.header(SIGNATURE_HEADER)
            harness.provider.verify(resigned)
            assert _sdk_accepts(resigned)

    def test_the_sdk_validator_agrees_on_tampered_requests(self, harness: TwilioHarness) -> None:
        _, request = harness.inbound("CA-t", CALLER, VIRTUAL)
        assert _sdk_accepts(request)
        for name, variant in harness.tampered(request).items():
            assert not _sdk_accepts(variant), name
            with pytest.raises(InvalidSignature):
                harness.provider.verify(variant)

    @settings(max_examples=60, deadline=None)
    @given(
        params=st.lists(st.tuples(st.text(min_size=1, max_size=8), xml_text), max_size=6),
        path_query=st.text(alphabet="abc=&", max_size=10),
    )
    def test_signatures_equal_the_sdks_for_any_parameters(
        self, params: list[tuple[str, str]], path_query: str
    ) -> None:
        url = f"{BASE}/twilio/voice?{path_query}"
        as_dict = dict(params)
        ours = compute_signature(url, as_dict.items(), TOKEN)
        assert ours == RequestValidator(TOKEN).compute_signature(url, as_dict)
        request = WebhookRequest(
            "POST",
            url,
            {"Content-Type": "application/x-www-form-urlencoded", SIGNATURE_HEADER: ours},
            urlencode(list(as_dict.items())).encode(),
        )
        TwilioProvider((TOKEN,), base_url=BASE).verify(request)

    def test_repeated_parameters_are_signed_as_the_sdk_signs_multidicts(self) -> None:
        class MultiDict(dict[str, list[str]]):
            def getall(self, name: str) -> list[str]:
                return self[name]

        params = [("To", "+74951234567"), ("X", "b"), ("X", "a"), ("X", "b")]
        ours = compute_signature(f"{BASE}/twilio/voice", params, TOKEN)
        sdk = RequestValidator(TOKEN).compute_signature(
            f"{BASE}/twilio/voice", MultiDict({"To": ["+74951234567"], "X": ["b", "a", "b"]})
        )
        assert ours == sdk

    @pytest.mark.parametrize(
        ("signed_on", "requested"),
        [
            ("https://calls.example.com:443/hooks/twilio/voice", f"{BASE}/twilio/voice"),
            (f"{BASE}/twilio/voice", "https://calls.example.com:443/hooks/twilio/voice"),
        ],
    )
    def test_the_default_port_may_be_there_or_not(self, signed_on: str, requested: str) -> None:
        provider = TwilioProvider((TOKEN,), base_url="https://calls.example.com/hooks")
        params = {"CallSid": "CA1", "To": VIRTUAL}
        signature = RequestValidator(TOKEN).compute_signature(signed_on, params)
        request = WebhookRequest(
            "POST", requested, {SIGNATURE_HEADER: signature}, urlencode(params).encode()
        )
        provider.verify(request)
        assert RequestValidator(TOKEN).validate(requested, params, signature)

    def test_behind_a_proxy_the_public_url_is_checked(self) -> None:
        provider = TwilioProvider((TOKEN,), base_url="https://calls.example.com/hooks")
        params = {"CallSid": "CA1", "To": VIRTUAL}
        public = "https://calls.example.com/hooks/twilio/voice?src=ads"
        signature = RequestValidator(TOKEN).compute_signature(public, params)
        internal = "http://10.0.0.5:8000/twilio/voice?src=ads"
        request = WebhookRequest(
            "POST", internal, {SIGNATURE_HEADER: signature}, urlencode(params).encode()
        )
        assert provider.public_url(request) == public
        provider.verify(request)
        with pytest.raises(InvalidSignature):
            provider.verify(attrs.evolve(request, url=internal.replace("ads", "mail")))

    def test_a_rotated_out_token_verifies_while_listed(self, harness: TwilioHarness) -> None:
        _, request = harness.inbound("CA-rot", CALLER, VIRTUAL)
        old = _sdk_signed(request, OLD_TOKEN)
        harness.provider.verify(old)
        only_new = TwilioProvider((TOKEN,), base_url=BASE)
        with pytest.raises(InvalidSignature, match="no configured secret"):
            only_new.verify(old)

    def test_get_requests_sign_the_url_alone(self, provider: TwilioProvider) -> None:
        url = f"{BASE}/twilio/voice?" + urlencode({"CallSid": "CA-get", "To": VIRTUAL})
        signature = RequestValidator(TOKEN).compute_signature(url, {})
        request = WebhookRequest("GET", url, {SIGNATURE_HEADER: signature})
        provider.verify(request)
        event = provider.parse("voice", request)
        assert isinstance(event, InboundCall)
        assert event.call_id == "CA-get"
        with pytest.raises(InvalidSignature):
            provider.verify(attrs.evolve(request, url=url.replace("CA-get", "CA-got")))

    def test_json_bodies_are_checked_against_body_sha256(self, provider: TwilioProvider) -> None:
        body = json.dumps({"CallSid": "CA-json"})
        url = f"{BASE}/twilio/status?bodySHA256=" + hashlib.sha256(body.encode()).hexdigest()
        validator = RequestValidator(TOKEN)
        signature = validator.compute_signature(url, {})
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
        request = WebhookRequest("POST", url, headers, body.encode())
        provider.verify(request)
        assert validator.validate(url, body, signature)
        changed = attrs.evolve(request, body=body.replace("json", "jsom").encode())
        assert not validator.validate(url, changed.body.decode(), signature)
        with pytest.raises(InvalidSignature, match="bodySHA256"):
            provider.verify(changed)
        bare = f"{BASE}/twilio/status"
        unhashed = WebhookRequest(
            "POST",
            bare,
            {**headers, SIGNATURE_HEADER: validator.compute_signature(bare, {})},
            body.encode(),
        )
        with pytest.raises(InvalidSignature, match="bodySHA256"):
            provider.verify(unhashed)

    def test_shared_key_sha256_signatures(self, harness: TwilioHarness) -> None:
        key = "shared-key-secret"
        provider = TwilioProvider((TOKEN, key), base_url=BASE)
        params = {"CallSid": "CA-sk", "To": VIRTUAL}
        request = TwilioHarness(provider=provider).request(
            "voice", params, secret=key, algorithm=HMAC_SHA256
        )
        signature = request.header(SIGNATURE_HEADER)
        assert signature == RequestValidator(key).compute_signature(
            request.url, params, HMAC_SHA256
        )
        provider.verify(request)
        assert RequestValidator(key).validate(request.url, params, signature, HMAC_SHA256)
        sha1_header = {**request.headers}
        del sha1_header["x-twilio-webhooks-signature-settings"]
        with pytest.raises(InvalidSignature):
            provider.verify(attrs.evolve(request, headers=sha1_header))

    def test_an_unknown_algorithm_is_refused(self, harness: TwilioHarness) -> None:
        _, request = harness.inbound("CA-alg", CALLER, VIRTUAL)
        headers = {**request.headers, "X-Twilio-Webhooks-Signature-Settings": "algorithm=MD5"}
        with pytest.raises(InvalidSignature, match="MD5"):
            harness.provider.verify(attrs.evolve(request, headers=headers))

    def test_a_body_that_is_not_utf8_is_malformed(self, harness: TwilioHarness) -> None:
        _, request = harness.inbound("CA-enc", CALLER, VIRTUAL)
        broken = attrs.evolve(request, body=b"CallSid=\xff\xfe")
        with pytest.raises(MalformedWebhook, match="UTF-8"):
            harness.provider.verify(broken)
        with pytest.raises(MalformedWebhook, match="UTF-8"):
            harness.provider.parse("voice", broken)


def _fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*.json"))


def _fixture_request(harness: TwilioHarness, path: Path) -> tuple[str, WebhookRequest, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    request = harness.request(data["event"], data["params"], query=data.get("query"))
    return data["event"], request, data


_TYPES: dict[str, type] = {
    "InboundCall": InboundCall,
    "DialResult": DialResult,
    "RecordingReady": RecordingReady,
    "WhisperRequest": WhisperRequest,
    "AcceptKey": AcceptKey,
    "CallProgress": CallProgress,
}


class TestParsing:
    """Every documented payload parses into its normalized event, raw kept."""

    def test_there_is_a_fixture_for_every_webhook(self) -> None:
        events = {json.loads(p.read_text(encoding="utf-8"))["event"] for p in _fixtures()}
        assert events == TwilioProvider.events

    @pytest.mark.parametrize("path", _fixtures(), ids=lambda p: p.stem)
    def test_fixture(self, harness: TwilioHarness, path: Path) -> None:
        event_name, request, data = _fixture_request(harness, path)
        harness.provider.verify(request)
        event = harness.provider.parse(event_name, request)
        expected = dict(data["expected"])
        assert type(event) is _TYPES[expected.pop("type")]
        for field, value in expected.items():
            got = getattr(event, field)
            shown = got.name if isinstance(got, DialStatus) else got
            assert shown == value, field
        assert event.raw == data["params"]

    @pytest.mark.parametrize(
        ("word", "bridged", "status"),
        [
            ("completed", "true", DialStatus.ANSWERED),
            ("completed", None, DialStatus.ANSWERED),
            ("answered", "TRUE", DialStatus.ANSWERED),
            ("completed", "false", DialStatus.NOT_ACCEPTED),
            ("answered", "false", DialStatus.NOT_ACCEPTED),
            ("no-answer", "false", DialStatus.NO_ANSWER),
            ("busy", None, DialStatus.BUSY),
            ("failed", "false", DialStatus.FAILED),
            ("canceled", "false", DialStatus.CANCELED),
            ("in-progress", None, DialStatus.UNKNOWN),
        ],
    )
    def test_dial_statuses(
        self, provider: TwilioProvider, word: str, bridged: str | None, status: DialStatus
    ) -> None:
        params = {"CallSid": "CA-p", "DialCallStatus": word}
        if bridged is not None:
            params["DialBridged"] = bridged
        request = TwilioHarness(provider=provider).request("dial", params)
        event = provider.parse("dial", request)
        assert isinstance(event, DialResult)
        assert event.status is status
        assert event.call_id == "CA-p"
        assert event.final

    def test_whisper_and_accept_name_the_parent_not_the_child(self, harness: TwilioHarness) -> None:
        for name, request in (harness.whisper("CA-parent"), harness.accept("CA-parent", "1")):
            event = harness.provider.parse(name, request)
            assert event.call_id == "CA-parent"
            assert event.raw["CallSid"] != "CA-parent"

    @pytest.mark.parametrize(
        ("field", "value"),
        [("DialBridged", "maybe"), ("DialCallDuration", "soon"), ("DialCallDuration", "-3")],
    )
    def test_bad_dial_fields_are_named(
        self, harness: TwilioHarness, field: str, value: str
    ) -> None:
        params = {"CallSid": "CA-b", "DialCallStatus": "completed", field: value}
        with pytest.raises(MalformedWebhook, match=field):
            harness.provider.parse("dial", harness.request("dial", params))

    def test_an_unknown_webhook_is_malformed(self, harness: TwilioHarness) -> None:
        _, request = harness.inbound("CA-u", CALLER, VIRTUAL)
        with pytest.raises(MalformedWebhook, match="no such Twilio webhook"):
            harness.provider.parse("sms", request)

    def test_a_json_body_is_malformed(self, provider: TwilioProvider) -> None:
        request = WebhookRequest(
            "POST", f"{BASE}/twilio/voice", {"Content-Type": "application/json"}, b"{}"
        )
        with pytest.raises(MalformedWebhook, match="form-encoded"):
            provider.parse("voice", request)

    @settings(max_examples=300, deadline=None)
    @given(
        text=st.text(max_size=60)
        | st.lists(st.tuples(xml_text, xml_text), max_size=5).map(urlencode)
        | st.text(alphabet="ab=&%+2F0", max_size=30)
    )
    def test_form_bodies_split_as_the_standard_library_splits_them(self, text: str) -> None:
        assert parse_form(text) == tuple(parse_qsl(text, keep_blank_values=True))

    @settings(max_examples=80, deadline=None)
    @given(body=st.binary(max_size=60), event=st.sampled_from(sorted(TwilioProvider.events)))
    def test_any_body_parses_or_is_malformed(self, body: bytes, event: str) -> None:
        provider = TwilioProvider((TOKEN,), base_url=BASE)
        request = WebhookRequest("POST", f"{BASE}/twilio/{event}", {}, body)
        try:
            parsed = provider.parse(event, request)
        except MalformedWebhook:
            return
        assert parsed.provider == "twilio"


# --- rendering, with VoiceResponse as the oracle ------------------------------------------
def _sdk_say(parent: Any, prompt: Prompt) -> None:
    parent.say(prompt.text, language=prompt.language, voice=prompt.voice)


def sdk_twiml(decision: Decision, base: str = BASE) -> str:
    """The same decision built with Twilio's own VoiceResponse."""
    response = VoiceResponse()
    if isinstance(decision, Forward):
        _sdk_say(response, decision.greeting)
        record: dict[str, str] = {}
        if decision.record:
            record = {
                "record": "record-from-answer-dual",
                "recording_status_callback": f"{base}/twilio/recording?call="
                + quote(decision.call_id, safe=""),
            }
        dial = response.dial(
            action=f"{base}/twilio/dial",
            answer_on_bridge=True,
            caller_id=decision.caller_id,
            timeout=decision.ring_timeout,
            **record,
        )
        dial.number(decision.real_number, url=f"{base}/twilio/whisper")
    elif isinstance(decision, Whisper):
        if decision.accept_key is None:
            _sdk_say(response, decision.prompt)
        else:
            gather = response.gather(
                action=f"{base}/twilio/accept",
                num_digits=1,
                timeout=decision.accept_timeout,
                finish_on_key="" if decision.accept_key == "#" else None,
            )
            _sdk_say(gather, decision.prompt)
            if decision.accept_prompt is not None:
                _sdk_say(gather, decision.accept_prompt)
            response.hangup()
    elif isinstance(decision, Reject):
        response.reject(reason="busy" if decision.busy else "rejected")
    elif isinstance(decision, Announce):
        _sdk_say(response, decision.prompt)
        response.hangup()
    elif isinstance(decision, Hangup):
        if decision.prompt is not None:
            _sdk_say(response, decision.prompt)
        response.hangup()
    xml: str = response.to_xml()
    return xml


RU = Prompt("Вы звоните по вакансии «Водитель» на сайте", "ru-RU", "Polly.Tatyana")
WHISPER = Prompt("Звонок с сайта", "ru-RU")
PRESS = Prompt("Нажмите 1, чтобы принять звонок", "ru-RU")


def _forward(**changes: Any) -> Forward:
    values: dict[str, Any] = {
        "call_id": "CA0a1b2c3d0a1b2c3d0a1b2c3d0a1b2c3d",
        "greeting": RU,
        "real_number": REAL,
        "caller_id": CALLER,
        "ring_timeout": 20,
        "record": True,
        "whisper": WHISPER,
    }
    values.update(changes)
    return Forward(**values)


DECISIONS: dict[str, Decision] = {
    "forward": _forward(),
    "forward-unrecorded": _forward(record=False, ring_timeout=45),
    "forward-with-accept": _forward(accept_key="1", accept_prompt=PRESS),
    "forward-odd-call-id": _forward(call_id="CA a&b=c/d"),
    "whisper": Whisper(WHISPER),
    "whisper-with-key": Whisper(WHISPER, accept_key="1", accept_prompt=PRESS, accept_timeout=7),
    "whisper-key-hash": Whisper(WHISPER, accept_key="#", accept_prompt=PRESS),
    "whisper-key-no-prompt": Whisper(WHISPER, accept_key="5"),
    "reject-busy": Reject("spam"),
    "reject-rejected": Reject("spam", busy=False),
    "announce": Announce(Prompt("Номер не обслуживается", "ru-RU")),
    "hangup": Hangup(),
    "hangup-with-prompt": Hangup(Prompt("Перезвоните позже", "ru-RU", "Polly.Maxim")),
    "bridge": Bridge(),
    "acknowledge": Acknowledge(),
}


class TestRenderingAgainstTheSdk:
    """Every decision renders byte for byte as Twilio's VoiceResponse writes it."""

    @pytest.mark.parametrize("name", sorted(DECISIONS))
    def test_document_equals_the_sdks(self, provider: TwilioProvider, name: str) -> None:
        decision = DECISIONS[name]
        document = provider.render(decision)
        assert document.body == sdk_twiml(decision)
        assert document.status == 200
        assert document.content_type.startswith("text/xml")

    @settings(max_examples=100, deadline=None)
    @given(text=xml_text, voice=st.none() | xml_text, number=xml_text)
    def test_any_user_text_is_written_as_the_sdk_writes_it(
        self, text: str, voice: str | None, number: str
    ) -> None:
        provider = TwilioProvider((TOKEN,), base_url=BASE)
        prompt = Prompt(text, "ru-RU", voice)
        for decision in (
            _forward(greeting=prompt, caller_id=number),
            Announce(prompt),
            Whisper(prompt, accept_key="1", accept_prompt=prompt),
        ):
            assert provider.render(decision).body == sdk_twiml(decision)

    def test_spam_is_rejected_before_answering(self, provider: TwilioProvider) -> None:
        body = provider.render(Reject("spam")).body
        assert body.endswith('<Response><Reject reason="busy" /></Response>')

    def test_callbacks_point_at_the_base_url(self) -> None:
        provider = TwilioProvider((TOKEN,), base_url="https://example.org/calls/")
        body = provider.render(_forward()).body
        assert 'action="https://example.org/calls/twilio/dial"' in body
        assert 'url="https://example.org/calls/twilio/whisper"' in body
        assert "https://example.org/calls/twilio/recording?call=CA0a1b" in body

    def test_the_recording_callback_names_the_inbound_leg(self, harness: TwilioHarness) -> None:
        decision = _forward(call_id="CA-in&odd")
        body = harness.provider.render(decision).body
        assert "recording?call=CA-in%26odd" in body
        _, request = harness.recording("CA-in&odd", "RE1", "https://api.example.com/RE1", 4)
        event = harness.provider.parse("recording", request)
        assert event.call_id == "CA-in&odd"


class TestHarness:
    """The harness reads documents back and signs as Twilio signs."""

    def test_reads_documents(self, harness: TwilioHarness, provider: TwilioProvider) -> None:
        forward = provider.render(_forward())
        assert harness.spoken(forward) == [RU.text]
        assert harness.dialled(forward) == REAL
        assert not harness.rejects(forward)
        assert harness.rejects(provider.render(Reject("spam")))
        assert harness.rejects(provider.render(Hangup()))
        assert harness.dialled(provider.render(Announce(WHISPER))) is None
        assert harness.spoken(provider.render(Bridge()).body) == []

    def test_signed_requests_carry_the_sdks_signature(self, harness: TwilioHarness) -> None:
        _, request = harness.inbound("CA-h", CALLER, VIRTUAL)
        assert _sdk_accepts(request)
        assert request.content_type == "application/x-www-form-urlencoded"


# --- whole calls through the webhook handler ----------------------------------------------
class TestWholeCalls:
    """Signed Twilio webhooks drive calls into the right marks and documents."""

    @pytest.fixture
    def world(self, harness: TwilioHarness) -> tuple[CallTracker, WebhookHandler]:
        directory = FakeDirectory()
        directory.add(CALLER, "Anna Petrova", resume_url="https://jobs.example.com/r/1")
        tracker = CallTracker(
            MemoryStorage(), directory=directory, notifier=RecordingNotifier(), clock=FakeClock()
        )
        tracker.add_numbers([VIRTUAL], provider="twilio")
        tracker.track("vac-1", [REAL], employer_id="emp-1", title="Водитель <B&C>")
        return tracker, WebhookHandler(tracker, [harness.provider])

    def _send(self, handler: WebhookHandler, signed: tuple[str, WebhookRequest]) -> str:
        name, request = signed
        response = handler.handle(f"/twilio/{name}", request)
        assert response.status == 200, response.body
        assert response.content_type.startswith("text/xml")
        return response.body

    def test_answered_call_with_whisper_and_recording(
        self, harness: TwilioHarness, world: tuple[CallTracker, WebhookHandler]
    ) -> None:
        tracker, handler = world
        call_id = "CA" + "a" * 32
        forward = self._send(handler, harness.inbound(call_id, CALLER, VIRTUAL))
        assert harness.dialled(forward) == REAL
        assert "Водитель <B&C>" in harness.spoken(forward)[0]
        whisper = self._send(handler, harness.whisper(call_id))
        assert harness.spoken(whisper)
        after = self._send(handler, harness.dial_result(call_id, DialStatus.ANSWERED, 61))
        assert harness.spoken(after) == []
        assert harness.rejects(after)
        self._send(handler, harness.recording(call_id, "RE1", "https://api.example.com/RE1", 61))
        (call,) = tracker.calls("vac-1").calls
        assert call.mark is Mark.RESPONSE_BY_CALL
        assert call.talk_seconds == 61
        assert call.recording_url == "https://api.example.com/RE1"

    @pytest.mark.parametrize(
        "status",
        [DialStatus.NO_ANSWER, DialStatus.BUSY, DialStatus.CANCELED, DialStatus.NOT_ACCEPTED],
    )
    def test_missed_calls(
        self,
        harness: TwilioHarness,
        world: tuple[CallTracker, WebhookHandler],
        status: DialStatus,
    ) -> None:
        tracker, handler = world
        call_id = "CA" + "b" * 32
        self._send(handler, harness.inbound(call_id, CALLER, VIRTUAL))
        after = self._send(handler, harness.dial_result(call_id, status, 0))
        assert harness.spoken(after)
        call = tracker.call("twilio", call_id)
        assert call.mark is Mark.MISSED_CALL
        assert call.dial_status is status
        (response,) = tracker.responses(vacancy_id="vac-1", pending=True)
        assert response.mark is Mark.MISSED_CALL

    def test_accept_key_flow(self, harness: TwilioHarness) -> None:
        from calltrack.domain.settings import Settings  # noqa: PLC0415

        tracker = CallTracker(MemoryStorage(), clock=FakeClock(), settings=Settings(accept_key="1"))
        tracker.add_numbers([VIRTUAL], provider="twilio")
        tracker.track("vac-1", [REAL], employer_id="emp-1", title="Водитель")
        handler = WebhookHandler(tracker, [harness.provider])
        self._send(handler, harness.inbound("CA-acc", CALLER, VIRTUAL))
        whisper = self._send(handler, harness.whisper("CA-acc"))
        assert 'numDigits="1"' in whisper
        assert 'action="https://calls.example.com/hooks/twilio/accept"' in whisper
        assert self._send(handler, harness.accept("CA-acc", "1")).endswith("<Response />")
        refused = self._send(handler, harness.accept("CA-acc", "9"))
        assert refused.endswith("<Response><Hangup /></Response>")

    def test_spam_and_unknown_numbers(
        self, harness: TwilioHarness, world: tuple[CallTracker, WebhookHandler]
    ) -> None:
        tracker, handler = world
        spam = self._send(handler, harness.inbound("CA-spam", None, VIRTUAL))
        assert "<Reject" in spam
        assert tracker.call("twilio", "CA-spam").route is CallRoute.SPAM
        unknown = self._send(handler, harness.inbound("CA-unk", CALLER, "+74950000000"))
        assert harness.spoken(unknown)
        assert harness.dialled(unknown) is None

    def test_forged_and_malformed_requests_change_nothing(
        self, harness: TwilioHarness, world: tuple[CallTracker, WebhookHandler]
    ) -> None:
        tracker, handler = world
        _, request = harness.inbound("CA-forged", CALLER, VIRTUAL)
        forged = harness.tampered(request)["param"]
        assert handler.handle("/twilio/voice", forged).status == 403
        no_to = harness.request("voice", {"CallSid": "CA-bad", "From": CALLER})
        assert handler.handle("/twilio/voice", no_to).status == 400
        latin1 = attrs.evolve(request, body=b"CallSid=\xe9")
        assert handler.handle("/twilio/voice", latin1).status == 400
        assert tracker.calls("vac-1", include_spam=True).calls == []


def test_the_module_imports_no_sdk() -> None:
    """Importing the adapter alone loads nothing of the SDK (the contract checks the rest)."""
    import subprocess  # noqa: PLC0415

    code = (
        "import sys, calltrack.providers.twilio, calltrack.testing.twilio;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'twilio'))"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": ":".join(p for p in sys.path if p)},
    )
    assert done.stdout.strip() == "[]"
