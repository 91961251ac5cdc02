"""Routing: what a caller of a virtual number hears and where the call goes (DESIGN §3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from calltrack import (
    Announce,
    CallerIdPolicy,
    CallRoute,
    CallTracker,
    ConfigurationError,
    Forward,
    InboundCall,
    Prompts,
    Reject,
    Settings,
    SpamPolicy,
    SpamReason,
)
from calltrack.domain.prompts import DEFAULT_TEMPLATES, PromptKind
from calltrack.testing import CallOutcome, CallSimulator, FakeClock

MakeTracker = Callable[..., CallTracker]
REAL = "+74952000001"
CALLER = "+79030000001"


def tracked(tracker: CallTracker, title: str = "Truck driver") -> str:
    (assignment,) = tracker.track("v1", [REAL], employer_id="e1", title=title)
    return assignment.virtual_number


class TestUnknownNumber:
    """A number that is not assigned says "not in service" and hangs up; the call is logged."""

    def test_number_not_in_pool(self, tracker: CallTracker) -> None:
        decision = tracker.handle(InboundCall("fake", "c1", CALLER, "+74959999999"))
        assert isinstance(decision, Announce)
        assert decision.prompt.text == "The number you have dialled is not in service."
        call = tracker.call("fake", "c1")
        assert call.route is CallRoute.UNKNOWN_NUMBER
        assert call.vacancy_id is None

    def test_pool_number_never_assigned(self, tracker: CallTracker, moscow: list[str]) -> None:
        decision = tracker.handle(InboundCall("fake", "c1", CALLER, moscow[5]))
        assert isinstance(decision, Announce)
        assert tracker.call("fake", "c1").route is CallRoute.UNKNOWN_NUMBER


class TestQuarantinedNumber:
    """A call to a quarantined number hears the vacancy is closed; it is logged against it."""

    def test_call_after_untrack(self, tracker: CallTracker, clock: FakeClock) -> None:
        virtual = tracked(tracker)
        tracker.untrack("v1")
        clock.advance(days=30)
        decision = tracker.handle(InboundCall("fake", "c1", CALLER, virtual))
        assert isinstance(decision, Announce)
        assert "no longer takes calls" in decision.prompt.text
        call = tracker.call("fake", "c1")
        assert (call.route, call.vacancy_id) == (CallRoute.VACANCY_CLOSED, "v1")
        assert [c.call_id for c in tracker.calls("v1").calls] == [call.call_id]
        assert tracker.stats(vacancy_id="v1").after_close == 1

    def test_after_quarantine_the_number_is_not_in_service(
        self, tracker: CallTracker, clock: FakeClock
    ) -> None:
        virtual = tracked(tracker)
        tracker.untrack("v1")
        clock.advance(days=61)
        tracker.handle(InboundCall("fake", "c1", CALLER, virtual))
        assert tracker.call("fake", "c1").route is CallRoute.UNKNOWN_NUMBER


class TestForward:
    """A good call is recorded at once, greeted, and forwarded to the real phone."""

    def test_call_is_recorded_before_it_is_forwarded(self, tracker: CallTracker) -> None:
        virtual = tracked(tracker)
        decision = tracker.handle(InboundCall("fake", "c1", CALLER, virtual))
        assert isinstance(decision, Forward)
        call = tracker.call("fake", "c1")
        assert (call.route, call.real_number, call.mark) == (CallRoute.FORWARDED, REAL, None)

    def test_greeting_whisper_timeout_and_recording(self, make_tracker: MakeTracker) -> None:
        tracker = make_tracker(
            settings=Settings(ring_timeout=25),
            prompts=Prompts(brand="hh.ru", locale="ru"),
        )
        virtual = tracked(tracker, title="Водитель")
        decision = tracker.handle(InboundCall("fake", "c1", CALLER, virtual))
        assert isinstance(decision, Forward)
        assert decision.greeting.text == (
            "Вы звоните по вакансии Водитель на сайте hh.ru. Разговор может быть записан."
        )
        assert decision.greeting.language == "ru-RU"
        assert decision.whisper.text == "Вам звонит кандидат с сайта hh.ru."
        assert (decision.real_number, decision.ring_timeout, decision.record) == (REAL, 25, True)
        assert decision.accept_key is None

    def test_recording_can_be_switched_off(self, make_tracker: MakeTracker) -> None:
        tracker = make_tracker(settings=Settings(record_calls=False))
        decision = tracker.handle(InboundCall("fake", "c1", CALLER, tracked(tracker)))
        assert isinstance(decision, Forward)
        assert not decision.record

    def test_caller_id_is_the_callers_number_by_default(self, tracker: CallTracker) -> None:
        decision = tracker.handle(InboundCall("fake", "c1", CALLER, tracked(tracker)))
        assert isinstance(decision, Forward)
        assert decision.caller_id == CALLER

    def test_caller_id_can_be_the_virtual_number(self, make_tracker: MakeTracker) -> None:
        tracker = make_tracker(settings=Settings(caller_id=CallerIdPolicy.VIRTUAL))
        virtual = tracked(tracker)
        decision = tracker.handle(InboundCall("fake", "c1", CALLER, virtual))
        assert isinstance(decision, Forward)
        assert decision.caller_id == virtual

    def test_press_one_to_accept_keeps_voicemail_from_counting(
        self, make_tracker: MakeTracker
    ) -> None:
        tracker = make_tracker(settings=Settings(accept_key="1"))
        virtual = tracked(tracker)
        sim = CallSimulator(tracker)
        taken = sim.call(CALLER, virtual)
        assert taken.recruiter_heard[-1] == "Press 1 to take the call."
        assert taken.bridged
        voicemail = sim.call("+79030000002", virtual, press="")
        assert not voicemail.bridged
        assert tracker.call("fake", voicemail.call_id).missed

    def test_what_the_caller_and_the_recruiter_hear(self, sim: CallSimulator) -> None:
        virtual = tracked(sim.tracker, title="Driver")
        heard = sim.call(CALLER, virtual)
        assert heard.caller_heard == [
            (
                "You are calling about the vacancy Driver on calltrack. "
                "The conversation may be recorded."
            )
        ]
        assert heard.recruiter_heard == ["A call from a candidate from calltrack."]
        assert heard.forwarded_to == REAL
        missed = sim.call(CALLER, virtual, outcome=CallOutcome.BUSY)
        assert missed.caller_heard[-1].startswith("The employer could not answer.")


class TestSpam:
    """Spam is rejected without answering, logged, hidden from the folder, never a response."""

    def _policy(self, make_tracker: MakeTracker, **rules: object) -> CallTracker:
        defaults: dict[str, object] = {"max_calls": 0, "max_vacancies": 0}
        defaults.update(rules)
        return make_tracker(settings=Settings(spam=SpamPolicy(**defaults)))  # type: ignore[arg-type]

    def test_blocklisted_number(self, make_tracker: MakeTracker) -> None:
        tracker = self._policy(make_tracker, blocked_numbers={CALLER})
        decision = tracker.handle(InboundCall("fake", "c1", CALLER, tracked(tracker)))
        assert isinstance(decision, Reject)
        call = tracker.call("fake", "c1")
        assert (call.route, call.spam_reason) == (CallRoute.SPAM, SpamReason.BLOCKLISTED)

    def test_blocklisted_prefix(self, make_tracker: MakeTracker) -> None:
        tracker = self._policy(make_tracker, blocked_prefixes=("+7903",))
        virtual = tracked(tracker)
        assert isinstance(tracker.handle(InboundCall("fake", "c1", CALLER, virtual)), Reject)
        ok = tracker.handle(InboundCall("fake", "c2", "+79160000000", virtual))
        assert isinstance(ok, Forward)

    @pytest.mark.parametrize("caller", [None, "", "anonymous", "12345"])
    def test_withheld_or_invalid_caller_id(
        self, make_tracker: MakeTracker, caller: str | None
    ) -> None:
        tracker = self._policy(make_tracker)
        decision = tracker.handle(InboundCall("fake", "c1", caller, tracked(tracker)))
        assert isinstance(decision, Reject)
        assert tracker.call("fake", "c1").spam_reason is SpamReason.WITHHELD_CALLER_ID

    def test_withheld_callers_may_be_let_through(self, make_tracker: MakeTracker) -> None:
        tracker = self._policy(make_tracker, block_withheld=False)
        virtual = tracked(tracker)
        decision = tracker.handle(InboundCall("fake", "c1", None, virtual))
        assert isinstance(decision, Forward)
        assert decision.caller_id == virtual

    def test_too_many_calls_from_one_caller(
        self, make_tracker: MakeTracker, clock: FakeClock
    ) -> None:
        tracker = self._policy(make_tracker, max_calls=3, calls_window=timedelta(minutes=10))
        virtual = tracked(tracker)
        routes = []
        for i in range(5):
            routes.append(type(tracker.handle(InboundCall("fake", f"c{i}", CALLER, virtual))))
            clock.advance(minutes=1)
        assert routes == [Forward, Forward, Forward, Reject, Reject]
        assert tracker.call("fake", "c3").spam_reason is SpamReason.TOO_MANY_CALLS
        clock.advance(minutes=10)
        assert isinstance(tracker.handle(InboundCall("fake", "c9", CALLER, virtual)), Forward)

    def test_one_caller_dialing_many_vacancies(self, make_tracker: MakeTracker) -> None:
        tracker = self._policy(make_tracker, max_vacancies=2, vacancies_window=timedelta(minutes=5))
        numbers = [
            tracker.track(f"v{i}", [REAL], employer_id=f"e{i}", title="T")[0].virtual_number
            for i in range(4)
        ]
        kinds = [
            type(tracker.handle(InboundCall("fake", f"c{i}", CALLER, n)))
            for i, n in enumerate(numbers)
        ]
        assert kinds == [Forward, Forward, Reject, Reject]
        assert tracker.call("fake", "c2").spam_reason is SpamReason.TOO_MANY_VACANCIES

    def test_spam_is_hidden_from_the_folder_and_never_a_response(
        self, make_tracker: MakeTracker
    ) -> None:
        tracker = self._policy(make_tracker, blocked_numbers=frozenset({CALLER}))
        sim = CallSimulator(tracker)
        result = sim.call(CALLER, tracked(tracker))
        assert result.rejected
        assert result.caller_heard == []
        assert tracker.calls("v1").calls == []
        assert [c.route for c in tracker.calls("v1", include_spam=True).calls] == [CallRoute.SPAM]
        assert tracker.responses(vacancy_id="v1") == []
        assert tracker.stats(vacancy_id="v1").spam_blocked == 1

    def test_spam_can_be_shown_by_default(self, make_tracker: MakeTracker) -> None:
        tracker = make_tracker(
            settings=Settings(spam=SpamPolicy(blocked_numbers={CALLER}), show_spam=True)
        )
        tracker.handle(InboundCall("fake", "c1", CALLER, tracked(tracker)))
        assert len(tracker.calls("v1").calls) == 1


class TestPrompts:
    """Prompts are templates per locale and brand."""

    def test_unknown_placeholders_are_refused_early(self) -> None:
        with pytest.raises(ConfigurationError, match="salary"):
            Prompts(templates={"en": {PromptKind.GREETING: "Pay: {salary}"}})

    def test_unknown_locale_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="locale 'de'"):
            Prompts(locale="de")

    def test_a_custom_locale_with_all_templates(self) -> None:
        german = dict(DEFAULT_TEMPLATES["en"])
        german[PromptKind.WHISPER] = "Ein Anruf von {brand}."
        prompts = Prompts(locale="de", templates={"de": german}, brand="JobBoard")
        assert prompts.text(PromptKind.WHISPER) == "Ein Anruf von JobBoard."
        assert prompts.language_tag == "de"
