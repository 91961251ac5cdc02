"""The contract every provider adapter passes, for calltrack's adapters and integrators' own.

Subclass :class:`ProviderContract` in a test module and give it a ``harness`` fixture: an
object that satisfies :class:`ProviderHarness`, which makes requests signed exactly as the
provider signs them and reads the provider's documents back::

    class TestMyProvider(ProviderContract):
        @pytest.fixture
        def harness(self) -> ProviderHarness:
            return MyHarness()

Every test then runs against the adapter: signatures accepted and refused, every event kind
parsed into the normalized shape with its raw payload, every decision rendered (user text
escaped), idempotency keys stable, the hot path free of SDK imports, and whole calls driven
through :class:`~calltrack.webhooks.WebhookHandler` into the right marks.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import Protocol

import pytest

from calltrack.domain.decisions import (
    Acknowledge,
    Announce,
    Bridge,
    Forward,
    Hangup,
    Prompt,
    Reject,
    Whisper,
)
from calltrack.domain.events import (
    AcceptKey,
    DialResult,
    InboundCall,
    RecordingReady,
    WhisperRequest,
)
from calltrack.domain.model import CallRoute, DialStatus, Mark
from calltrack.domain.phones import normalize_caller
from calltrack.errors import InvalidSignature, MalformedWebhook
from calltrack.ports import Document, Provider, WebhookRequest
from calltrack.storage.memory import MemoryStorage
from calltrack.testing._fakes import FakeClock, FakeDirectory, RecordingNotifier
from calltrack.tracker import CallTracker
from calltrack.webhooks import WebhookHandler

__all__ = ["ProviderContract", "ProviderHarness"]

Signed = tuple[str, WebhookRequest]
"""A webhook name (the path's second segment) and a request signed for it."""

CALLER = "+79031234567"
VIRTUAL = "+74951234567"
REAL = "+79161234567"
TRICKY_TITLE = """Sales <manager> & "driver" 'night' ]]> --"""


class ProviderHarness(Protocol):
    """The provider's side of the wire, for the contract suite.

    Attributes:
        provider: The adapter under test, configured with the harness's secret and URL.
        sdk_modules: Top-level modules of the provider's SDK that the hot path must not import.
        missed_statuses: The missed dial statuses the provider can report.
    """

    @property
    def provider(self) -> Provider:
        """The adapter under test."""
        ...

    @property
    def sdk_modules(self) -> Sequence[str]:
        """Top-level modules of the SDK."""
        ...

    @property
    def missed_statuses(self) -> Sequence[DialStatus]:
        """Missed statuses the provider reports."""
        ...

    def inbound(self, call_id: str, caller: str | None, virtual: str) -> Signed:
        """A signed inbound-call webhook (``caller`` ``None`` when withheld)."""
        ...

    def dial_result(self, call_id: str, status: DialStatus, talk_seconds: int) -> Signed:
        """A signed webhook that reports how the forwarded leg of ``call_id`` ended."""
        ...

    def recording(self, call_id: str, recording_id: str, url: str, duration: int) -> Signed:
        """A signed webhook that reports a recording of ``call_id`` is ready."""
        ...

    def whisper(self, call_id: str) -> Signed:
        """The signed request for the whisper document of ``call_id``'s forwarded leg."""
        ...

    def accept(self, call_id: str, digits: str) -> Signed:
        """The signed request reporting the keys the recruiter pressed."""
        ...

    def tampered(self, request: WebhookRequest) -> Mapping[str, WebhookRequest]:
        """Variants of a signed request that must be refused, by what was changed.

        At least: ``"url"``, ``"param"`` (a parameter or the body), ``"signature"``, and
        ``"secret"`` (signed with another secret); plus ``"nonce"`` or ``"stale"`` where
        the scheme has them.
        """
        ...

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        """The request with its signature headers removed."""
        ...

    def malformed(self) -> Sequence[tuple[Signed, str]]:
        """Signed requests that lack a required field, each with the field's name."""
        ...

    def spoken(self, document: Document) -> list[str]:
        """The texts a document speaks, in order, unescaped."""
        ...

    def dialled(self, document: Document) -> str | None:
        """The number a document dials, E.164, or ``None``."""
        ...

    def rejects(self, document: Document) -> bool:
        """Whether a document refuses or ends the call without forwarding it."""
        ...

    def hot_path_script(self) -> str:
        """Python code that verifies, parses and renders one inbound call with the adapter.

        The contract runs it in a fresh interpreter where importing any of
        :attr:`sdk_modules` fails.
        """
        ...


def _prompt(text: str) -> Prompt:
    return Prompt(text, "ru-RU")


def _forward(call_id: str = "CA-contract", *, accept: bool = False) -> Forward:
    return Forward(
        call_id=call_id,
        greeting=_prompt("Вы звоните по вакансии «Водитель»"),
        real_number=REAL,
        caller_id=CALLER,
        ring_timeout=20,
        record=True,
        whisper=_prompt("Звонок с сайта"),
        accept_key="1" if accept else None,
        accept_prompt=_prompt("Нажмите 1") if accept else None,
    )


class ProviderContract:
    """Tests every provider adapter must pass; subclass it and provide ``harness``."""

    # --- signatures ------------------------------------------------------------------
    def _all_signed(self, harness: ProviderHarness) -> list[Signed]:
        return [
            harness.inbound("CA-sign", CALLER, VIRTUAL),
            harness.dial_result("CA-sign", DialStatus.ANSWERED, 42),
            harness.recording("CA-sign", "RE-sign", "https://files.example.com/re.mp3", 42),
            harness.whisper("CA-sign"),
            harness.accept("CA-sign", "1"),
        ]

    def test_signed_requests_are_accepted(self, harness: ProviderHarness) -> None:
        """Every kind of webhook signed as the provider signs it passes verification."""
        for _, request in self._all_signed(harness):
            harness.provider.verify(request)

    def test_tampered_requests_are_refused(self, harness: ProviderHarness) -> None:
        """Changing the URL, a parameter, the signature or the secret fails verification."""
        _, request = harness.inbound("CA-tamper", CALLER, VIRTUAL)
        variants = harness.tampered(request)
        assert {"url", "param", "signature", "secret"} <= set(variants)
        for name, variant in variants.items():
            with pytest.raises(InvalidSignature):
                harness.provider.verify(variant)
            assert variant != request, name

    def test_unsigned_requests_are_refused(self, harness: ProviderHarness) -> None:
        """A request without signature headers fails verification."""
        for _, request in self._all_signed(harness):
            with pytest.raises(InvalidSignature):
                harness.provider.verify(harness.unsigned(request))

    # --- parsing ---------------------------------------------------------------------
    def test_inbound_call_is_parsed(self, harness: ProviderHarness) -> None:
        """An inbound call names the call, the caller and the number dialled; raw is kept."""
        name, request = harness.inbound("CA-in", CALLER, VIRTUAL)
        event = harness.provider.parse(name, request)
        assert isinstance(event, InboundCall)
        assert event.provider == harness.provider.name
        assert event.call_id == "CA-in"
        assert normalize_caller(event.caller) == CALLER
        assert normalize_caller(event.virtual_number) == VIRTUAL
        assert event.raw

    def test_withheld_caller_is_parsed_as_no_number(self, harness: ProviderHarness) -> None:
        """A withheld caller id parses to something the tracker reads as no number."""
        name, request = harness.inbound("CA-anon", None, VIRTUAL)
        event = harness.provider.parse(name, request)
        assert isinstance(event, InboundCall)
        assert normalize_caller(event.caller) is None

    def test_answered_dial_result_is_parsed(self, harness: ProviderHarness) -> None:
        """An answered forwarded leg parses as ANSWERED for the caller's call."""
        name, request = harness.dial_result("CA-dial", DialStatus.ANSWERED, 42)
        event = harness.provider.parse(name, request)
        assert isinstance(event, DialResult)
        assert event.call_id == "CA-dial"
        assert event.status is DialStatus.ANSWERED
        assert event.talk_seconds in (42, None)
        assert event.raw

    def test_missed_dial_results_are_parsed(self, harness: ProviderHarness) -> None:
        """Every missed ending the provider reports parses to its normalized status."""
        assert harness.missed_statuses
        for status in harness.missed_statuses:
            name, request = harness.dial_result("CA-miss", status, 0)
            event = harness.provider.parse(name, request)
            assert isinstance(event, DialResult)
            assert event.status is status
            assert not event.status.answered

    def test_recording_is_parsed(self, harness: ProviderHarness) -> None:
        """A recording event names its call, its id and its URL."""
        url = "https://files.example.com/re-1.mp3"
        name, request = harness.recording("CA-rec", "RE-1", url, 42)
        event = harness.provider.parse(name, request)
        assert isinstance(event, RecordingReady)
        assert (event.call_id, event.recording_id, event.url) == ("CA-rec", "RE-1", url)

    def test_whisper_and_accept_are_parsed(self, harness: ProviderHarness) -> None:
        """The whisper request and the accept keys name the caller's call."""
        name, request = harness.whisper("CA-w")
        whisper = harness.provider.parse(name, request)
        assert isinstance(whisper, WhisperRequest)
        assert whisper.call_id == "CA-w"
        name, request = harness.accept("CA-w", "1")
        accept = harness.provider.parse(name, request)
        assert isinstance(accept, AcceptKey)
        assert (accept.call_id, accept.digits) == ("CA-w", "1")

    def test_malformed_payloads_name_the_field(self, harness: ProviderHarness) -> None:
        """A payload without a required field raises MalformedWebhook naming the field."""
        cases = harness.malformed()
        assert cases
        for (name, request), field in cases:
            harness.provider.verify(request)
            with pytest.raises(MalformedWebhook) as caught:
                harness.provider.parse(name, request)
            assert field in str(caught.value)

    def test_idempotency_keys_are_stable_and_distinct(self, harness: ProviderHarness) -> None:
        """The same webhook parses to the same key twice; different effects get different keys."""
        keys = []
        for name, request in self._all_signed(harness)[:3]:
            first = harness.provider.parse(name, request).idempotency_key
            again = harness.provider.parse(name, request).idempotency_key
            assert first == again
            keys.append(first)
        assert len(set(keys)) == len(keys)

    # --- rendering -------------------------------------------------------------------
    def test_forward_greets_then_dials(self, harness: ProviderHarness) -> None:
        """Forward says the greeting and dials the real phone."""
        for accept in (False, True):
            decision = _forward(accept=accept)
            document = harness.provider.render(decision)
            assert document.status == 200
            assert document.content_type
            assert harness.spoken(document)[:1] == [decision.greeting.text]
            assert harness.dialled(document) == REAL
            assert not harness.rejects(document)

    def test_reject_refuses(self, harness: ProviderHarness) -> None:
        """Reject speaks nothing (where possible), dials nothing and ends the call."""
        document = harness.provider.render(Reject("spam"))
        assert harness.rejects(document)
        assert harness.dialled(document) is None

    def test_announce_speaks_and_ends(self, harness: ProviderHarness) -> None:
        """Announce says its prompt and ends the call."""
        document = harness.provider.render(Announce(_prompt("Номер не обслуживается")))
        assert harness.spoken(document) == ["Номер не обслуживается"]
        assert harness.dialled(document) is None

    def test_whisper_speaks_to_the_recruiter(self, harness: ProviderHarness) -> None:
        """The whisper document says the whisper (and asks for the key when one is needed)."""
        plain = harness.provider.render(Whisper(_prompt("Звонок с сайта")))
        assert harness.spoken(plain)[:1] == ["Звонок с сайта"]
        keyed = harness.provider.render(
            Whisper(_prompt("Звонок с сайта"), accept_key="1", accept_prompt=_prompt("Нажмите 1"))
        )
        assert harness.spoken(keyed)[:2] == ["Звонок с сайта", "Нажмите 1"]

    def test_after_dial_documents(self, harness: ProviderHarness) -> None:
        """Hangup (with or without words), Bridge and Acknowledge all render."""
        spoken = harness.spoken(harness.provider.render(Hangup(_prompt("Перезвоните позже"))))
        assert spoken == ["Перезвоните позже"]
        assert harness.spoken(harness.provider.render(Hangup())) == []
        for decision in (Bridge(), Acknowledge()):
            assert harness.provider.render(decision).status == 200

    def test_user_text_is_escaped(self, harness: ProviderHarness) -> None:
        """Text typed by users (a vacancy title) comes out exactly as typed."""
        greeting = f"Вакансия {TRICKY_TITLE}"
        decision = Forward(
            call_id="CA-esc",
            greeting=_prompt(greeting),
            real_number=REAL,
            caller_id=CALLER,
            ring_timeout=20,
            record=False,
            whisper=_prompt(TRICKY_TITLE),
        )
        assert harness.spoken(harness.provider.render(decision))[:1] == [greeting]
        announce = harness.provider.render(Announce(_prompt(TRICKY_TITLE)))
        assert harness.spoken(announce) == [TRICKY_TITLE]

    def test_hot_path_imports_no_sdk(self, harness: ProviderHarness) -> None:
        """Verifying, parsing and rendering work in a process where the SDK cannot be imported."""
        blocked = list(harness.sdk_modules)
        prelude = textwrap.dedent(
            f"""
            import importlib.abc, sys
            BLOCKED = {blocked!r}
            class _Block(importlib.abc.MetaPathFinder):
                def find_spec(self, name, path=None, target=None):
                    if name.split(".")[0] in BLOCKED:
                        raise ImportError("blocked SDK import: " + name)
                    return None
            sys.meta_path.insert(0, _Block())
            """
        )
        epilogue = textwrap.dedent(
            """
            loaded = sorted({m.split(".")[0] for m in sys.modules} & set(BLOCKED))
            assert not loaded, loaded
            print("hot path ok")
            """
        )
        script = prelude + textwrap.dedent(harness.hot_path_script()) + epilogue
        done = subprocess.run(  # noqa: S603 - runs this interpreter on our own script
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=False,
            env={"PYTHONPATH": ":".join(p for p in sys.path if p)},
        )
        assert done.returncode == 0, done.stderr
        assert "hot path ok" in done.stdout

    # --- whole calls -----------------------------------------------------------------
    def _tracker(self, harness: ProviderHarness) -> tuple[CallTracker, WebhookHandler]:
        directory = FakeDirectory()
        directory.add(CALLER, "Anna Petrova", resume_url="https://jobs.example.com/r/1")
        tracker = CallTracker(
            MemoryStorage(),
            directory=directory,
            notifier=RecordingNotifier(),
            clock=FakeClock(),
        )
        tracker.add_numbers([VIRTUAL], provider=harness.provider.name)
        tracker.track("vac-1", [REAL], employer_id="emp-1", title=TRICKY_TITLE)
        return tracker, WebhookHandler(tracker, [harness.provider])

    def _send(self, handler: WebhookHandler, signed: Signed) -> Document:
        name, request = signed
        (provider,) = handler.providers
        response = handler.handle(f"/{provider}/{name}", request)
        assert response.status == 200, response.body
        return Document(response.body, response.content_type, response.status)

    def test_whole_answered_call(self, harness: ProviderHarness) -> None:
        """Signed inbound call → forward document; answered dial result → "Response by call"."""
        tracker, handler = self._tracker(harness)
        document = self._send(handler, harness.inbound("CA-whole", CALLER, VIRTUAL))
        assert harness.dialled(document) == REAL
        self._send(handler, harness.whisper("CA-whole"))
        self._send(handler, harness.dial_result("CA-whole", DialStatus.ANSWERED, 30))
        self._send(handler, harness.dial_result("CA-whole", DialStatus.ANSWERED, 30))
        (call,) = tracker.calls("vac-1").calls
        assert call.mark is Mark.RESPONSE_BY_CALL
        assert len(tracker.responses(vacancy_id="vac-1")) == 1

    def test_whole_missed_calls(self, harness: ProviderHarness) -> None:
        """Every missed ending marks the call "Missed call" and leaves the response pending."""
        tracker, handler = self._tracker(harness)
        for i, status in enumerate(harness.missed_statuses):
            call_id = f"CA-missed-{i}"
            self._send(handler, harness.inbound(call_id, CALLER, VIRTUAL))
            self._send(handler, harness.dial_result(call_id, status, 0))
            call = tracker.call(harness.provider.name, call_id)
            assert call.mark is Mark.MISSED_CALL, status
        (response,) = tracker.responses(vacancy_id="vac-1", pending=True)
        assert response.mark is Mark.MISSED_CALL

    def test_whole_spam_and_unknown_calls(self, harness: ProviderHarness) -> None:
        """A withheld caller is refused; a number not in the pool hears an announcement."""
        tracker, handler = self._tracker(harness)
        spam = self._send(handler, harness.inbound("CA-spam", None, VIRTUAL))
        assert harness.rejects(spam)
        assert tracker.call(harness.provider.name, "CA-spam").route is CallRoute.SPAM
        unknown = self._send(handler, harness.inbound("CA-unknown", CALLER, "+74950000000"))
        assert harness.spoken(unknown)
        assert harness.dialled(unknown) is None
