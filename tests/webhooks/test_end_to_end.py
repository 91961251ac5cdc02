"""Whole calls over a real socket on 127.0.0.1, for every provider whose harness is here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calltrack import CallTracker
from calltrack.domain.model import CallRoute, DialStatus, Mark
from calltrack.ports import Document
from calltrack.testing.http import HttpSender, Signed, WsgiSender, play_call
from calltrack.testing.provider_contract import ProviderHarness
from calltrack.webhooks import WsgiApp

CALLER = "+79031234567"
NO_RESUME = "+79037654321"
REAL = "+79161234567"
VIRTUAL = "+74951234567"
CLOSED = "+74951234568"
UNKNOWN = "+74950000000"


def folder(tracker: CallTracker, vacancy: str) -> list[tuple[str, Mark | None, CallRoute]]:
    return [
        (c.provider_call_id, c.mark, c.route)
        for c in tracker.calls(vacancy, include_spam=True).calls
    ]


class TestWholeCallsOverSockets:
    """Calls signed as the provider signs them end in the right Calls-folder entries."""

    def test_every_kind_of_call(
        self,
        harness: ProviderHarness,
        tracker_factory: Callable[..., CallTracker],
        handler_factory: Any,
        serve: Any,
    ) -> None:
        """Answered, missed, no resume, spam, unknown and quarantined numbers, over HTTP."""
        tracker = tracker_factory(provider=harness.provider.name)
        with serve(WsgiApp(handler_factory(harness, tracker))) as server:
            send = HttpSender(server.url, harness.provider.name)
            answered = play_call(send, harness, "CA-ans", CALLER, VIRTUAL, talk_seconds=42)
            assert answered.ok, answered.statuses
            assert answered.dialled == REAL
            assert answered.caller_heard[0].startswith("You are calling about the vacancy")
            missed = []
            for i, status in enumerate(harness.missed_statuses):
                played = play_call(send, harness, f"CA-miss-{i}", CALLER, VIRTUAL, outcome=status)
                assert played.ok, (status, played.statuses)
                missed.append(played.call_id)
            plain = play_call(send, harness, "CA-nores", NO_RESUME, VIRTUAL, talk_seconds=5)
            spam = play_call(send, harness, "CA-spam", None, VIRTUAL)
            unknown = play_call(send, harness, "CA-unknown", CALLER, UNKNOWN)
            closed = play_call(send, harness, "CA-closed", CALLER, CLOSED)
        assert plain.ok
        assert spam.ok
        assert spam.rejected
        assert spam.dialled is None
        assert unknown.ok
        assert unknown.dialled is None
        assert unknown.caller_heard
        assert closed.ok
        assert closed.dialled is None
        assert "no longer takes calls" in closed.caller_heard[0]

        provider = harness.provider.name
        assert tracker.call(provider, "CA-ans").mark is Mark.RESPONSE_BY_CALL
        assert tracker.call(provider, "CA-ans").talk_seconds in (0, 42)
        for call_id in missed:
            assert tracker.call(provider, call_id).mark is Mark.MISSED_CALL
        assert tracker.call(provider, "CA-nores").mark is Mark.NO_RESUME
        assert tracker.call(provider, "CA-spam").route is CallRoute.SPAM
        assert tracker.call(provider, "CA-unknown").route is CallRoute.UNKNOWN_NUMBER
        closed_call = tracker.call(provider, "CA-closed")
        assert (closed_call.route, closed_call.vacancy_id) == (CallRoute.VACANCY_CLOSED, "vac-old")
        entries = folder(tracker, "vac-1")
        assert len(entries) == 3 + len(missed)
        assert ("CA-spam", None, CallRoute.SPAM) in entries
        assert folder(tracker, "vac-old") == [("CA-closed", None, CallRoute.VACANCY_CLOSED)]
        (response,) = tracker.responses(vacancy_id="vac-1")
        assert response.mark is Mark.RESPONSE_BY_CALL
        assert tracker.stats(vacancy_id="vac-1").spam_blocked == 1

    def test_duplicate_deliveries_change_nothing(
        self,
        harness: ProviderHarness,
        tracker_factory: Callable[..., CallTracker],
        handler_factory: Any,
        serve: Any,
    ) -> None:
        """Every webhook of a call delivered twice over HTTP has its effect once."""
        tracker = tracker_factory(provider=harness.provider.name)
        with serve(WsgiApp(handler_factory(harness, tracker))) as server:
            http = HttpSender(server.url, harness.provider.name)

            def twice(signed: Signed) -> Document:
                first = http(signed)
                again = http(signed)
                assert (again.status, again.body) == (first.status, first.body)
                return first

            played = play_call(twice, harness, "CA-dup", CALLER, VIRTUAL, talk_seconds=30)
        assert played.ok
        (call,) = tracker.calls("vac-1").calls
        assert call.mark is Mark.RESPONSE_BY_CALL
        assert len(tracker.responses(vacancy_id="vac-1")) == 1
        assert len(tracker.notifications()) == 1
        assert tracker.stats(vacancy_id="vac-1").calls == 1


def _deliveries(harness: ProviderHarness, call_id: str, answered: bool) -> list[Signed]:
    """The webhooks that follow an inbound call, in the order a provider sends them."""
    if answered:
        return [
            harness.whisper(call_id),
            harness.dial_result(call_id, DialStatus.ANSWERED, 30),
            harness.recording(call_id, "RE1", "https://rec.example.com/1.mp3", 30),
        ]
    return [harness.dial_result(call_id, DialStatus.NO_ANSWER, 0)]


class TestReordering:
    """Duplicated and reordered deliveries end in the same state as the orderly ones."""

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(data=st.data(), answered=st.booleans())
    def test_any_order_any_repeats(
        self,
        data: st.DataObject,
        answered: bool,
        harness: ProviderHarness,
        tracker_factory: Any,
        handler_factory: Any,
    ) -> None:
        """After the inbound call, any order and repetition of its webhooks ends the same.

        The fixtures are factories and a harness only signs, so sharing them between
        examples is safe.
        """
        results = []
        for shuffle in (False, True):
            tracker = tracker_factory(provider=harness.provider.name)
            send = WsgiSender(WsgiApp(handler_factory(harness, tracker)), harness.provider.name)
            assert send(harness.inbound("CA-x", CALLER, VIRTUAL)).status == 200
            steps = _deliveries(harness, "CA-x", answered)
            if shuffle:
                repeated = data.draw(
                    st.lists(st.sampled_from(range(len(steps))), max_size=6), label="repeats"
                )
                steps = data.draw(st.permutations(steps + [steps[i] for i in repeated]))
                steps.append(harness.inbound("CA-x", CALLER, VIRTUAL))
            for signed in steps:
                assert send(signed).status == 200
            call = tracker.call(harness.provider.name, "CA-x")
            results.append(
                (
                    call.mark,
                    call.dial_status,
                    call.talk_seconds,
                    call.recording_url,
                    [(r.mark, r.status, r.calls) for r in tracker.responses(vacancy_id="vac-1")],
                    len(tracker.notifications()),
                )
            )
        assert results[0] == results[1]
