"""CallTracker: the service layer that wires the ports to the domain rules."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import TypeVar

import attrs

from calltrack.domain.allocation import normalize_phones, plan_track, quarantine_end, wanted_place
from calltrack.domain.classification import (
    classify,
    merge_dial_status,
    merge_response,
    new_response,
)
from calltrack.domain.decisions import (
    Acknowledge,
    Announce,
    Bridge,
    Decision,
    Forward,
    Hangup,
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
from calltrack.domain.folder import CallFilter, CallPage, Cursor
from calltrack.domain.model import (
    Assignment,
    Call,
    CallRoute,
    Candidate,
    ContactCard,
    ContactEntry,
    Mark,
    Notification,
    PoolCounts,
    PoolNumber,
    Response,
    ResponseStatus,
    Vacancy,
)
from calltrack.domain.phones import (
    area_of,
    format_international,
    format_national,
    normalize_caller,
    parse_phone,
    region_of,
)
from calltrack.domain.prompts import PromptKind, Prompts
from calltrack.domain.settings import CallerIdPolicy, Settings
from calltrack.domain.spam import CallerHistory
from calltrack.domain.stats import CallStats
from calltrack.errors import (
    PoolExhausted,
    StorageConflict,
    UnknownCall,
    UnknownResponse,
    UnknownVacancy,
)
from calltrack.ports import CandidateDirectory, Clock, Notifier, Storage, Transaction

__all__ = ["CallTracker", "SystemClock"]

log = logging.getLogger("calltrack")
T = TypeVar("T")


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        return datetime.now(timezone.utc)


class CallTracker:
    """Call tracking for one deployment: numbers, calls, responses and statistics.

    Args:
        storage: Where state lives (:class:`~calltrack.storage.memory.MemoryStorage`,
            :class:`~calltrack.storage.sql.SqlStorage`).
        directory: Finds the candidate behind a caller's number; without it every caller
            counts as having no resume.
        notifier: Tells candidates their response was delivered; without it notifications
            stay queued (see :meth:`notifications`).
        clock: Where the time comes from; the system clock by default.
        settings: Behaviour (:class:`~calltrack.Settings`).
        prompts: What callers and recruiters hear (:class:`~calltrack.Prompts`).
        retries: How many times a unit of work is run again after a
            :class:`~calltrack.errors.StorageConflict`.
    """

    def __init__(
        self,
        storage: Storage,
        *,
        directory: CandidateDirectory | None = None,
        notifier: Notifier | None = None,
        clock: Clock | None = None,
        settings: Settings | None = None,
        prompts: Prompts | None = None,
        retries: int = 5,
    ) -> None:
        """Wire a tracker to its ports."""
        self.storage = storage
        self.directory = directory
        self.notifier = notifier
        self.clock: Clock = clock or SystemClock()
        self.settings = settings or Settings()
        self.prompts = prompts or Prompts()
        self.retries = retries

    def __repr__(self) -> str:
        """Name the storage and brand, not the state."""
        return f"<CallTracker storage={self.storage!r} brand={self.prompts.brand!r}>"

    # --- units of work ---------------------------------------------------------------
    def _atomic(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` in one transaction, again after a conflict, a bounded number of times."""
        attempt = 0
        while True:
            try:
                with self.storage.transaction() as tx:
                    return work(tx)
            except StorageConflict as exc:
                attempt += 1
                if attempt > self.retries:
                    log.warning("giving up after %d conflicts: %s", attempt, exc)
                    raise
                log.info("storage conflict, attempt %d of %d: %s", attempt, self.retries, exc)

    # --- the pool --------------------------------------------------------------------
    def add_numbers(self, numbers: Iterable[str], *, provider: str) -> int:
        """Add virtual numbers of ``provider`` to the pool; return how many were new.

        Numbers are parsed first, so an invalid one adds nothing.

        Raises:
            InvalidPhoneNumber: Naming the first number that is not valid.
        """
        region = self.settings.default_region
        parsed = normalize_phones(numbers, region)
        now = self.clock.now()
        pool = [
            PoolNumber(n, provider, region_of(n), area_of(n), idle_since=now, available_from=now)
            for n in parsed
        ]
        return self._atomic(lambda tx: tx.add_numbers(pool))

    def remove_number(self, number: str) -> bool:
        """Take a free number out of the pool (before releasing it at the provider)."""
        e164 = parse_phone(number, self.settings.default_region)
        return self._atomic(lambda tx: tx.remove_number(e164))

    def pool_counts(self, country: str | None = None) -> PoolCounts:
        """Count the pool's numbers by state: assigned, quarantined, free."""
        now = self.clock.now()
        return self._atomic(lambda tx: tx.pool_counts(now, country))

    def pool_numbers(
        self, *, country: str | None = None, after: str | None = None, limit: int = 100
    ) -> list[PoolNumber]:
        """List the pool's numbers in number order, a page at a time."""
        return self._atomic(lambda tx: tx.list_numbers(country=country, after=after, limit=limit))

    # --- vacancies -------------------------------------------------------------------
    def track(
        self, vacancy_id: str, phones: Sequence[str], *, employer_id: str, title: str
    ) -> list[Assignment]:
        """Give every real phone of a vacancy its own virtual number.

        The phone list replaces the previous one: phones that keep being listed keep their
        numbers (so calling ``track`` again changes nothing), new phones get numbers, and
        phones no longer listed release theirs into quarantine. All of it happens or none.

        Args:
            vacancy_id: The vacancy's id in the host application.
            phones: Its real phones, as people write them.
            employer_id: Its employer's id.
            title: Its title, said to callers.

        Returns:
            The vacancy's active assignments, in the order of ``phones``.

        Raises:
            InvalidPhoneNumber: For the first invalid phone; nothing changes.
            PoolExhausted: Naming the country whose numbers ran out; nothing changes.
        """
        wanted = normalize_phones(phones, self.settings.default_region)
        places = {phone: wanted_place(phone) for phone in wanted}
        order = {phone: i for i, phone in enumerate(wanted)}

        def work(tx: Transaction) -> list[Assignment]:
            now = self.clock.now()
            tx.save_vacancy(Vacancy(vacancy_id, employer_id, title, tracked=True))
            plan = plan_track(tx.active_assignments(vacancy_id), wanted)
            for assignment in plan.release:
                self._release(tx, assignment, now)
            for phone in plan.add:
                country, area = places[phone]
                number = tx.claim_number(country, area, now)
                if number is None:
                    raise PoolExhausted(country, area)
                tx.add_assignment(Assignment(vacancy_id, employer_id, phone, number.number, now))
            return sorted(tx.active_assignments(vacancy_id), key=lambda a: order[a.real_number])

        result = self._atomic(work)
        log.info("tracked vacancy %s: %d numbers", vacancy_id, len(result))
        return result

    def untrack(self, vacancy_id: str) -> int:
        """Stop tracking a vacancy: release all its numbers into quarantine.

        Returns:
            How many numbers were released.

        Raises:
            UnknownVacancy: If the vacancy was never tracked.
        """

        def work(tx: Transaction) -> int:
            now = self.clock.now()
            vacancy = tx.get_vacancy(vacancy_id)
            if vacancy is None:
                raise UnknownVacancy(vacancy_id)
            active = tx.active_assignments(vacancy_id)
            for assignment in active:
                self._release(tx, assignment, now)
            tx.save_vacancy(attrs.evolve(vacancy, tracked=False))
            return len(active)

        return self._atomic(work)

    def _release(self, tx: Transaction, assignment: Assignment, now: datetime) -> None:
        tx.end_assignment(assignment.vacancy_id, assignment.real_number, now)
        tx.free_number(
            assignment.virtual_number, now, quarantine_end(now, self.settings.quarantine)
        )

    def contact_card(self, vacancy_id: str) -> ContactCard:
        """What a job seeker sees on the vacancy: its virtual numbers and the "calls only" notice.

        Raises:
            UnknownVacancy: If the vacancy was never tracked.
        """

        def work(tx: Transaction) -> tuple[Vacancy | None, list[Assignment]]:
            return tx.get_vacancy(vacancy_id), tx.active_assignments(vacancy_id)

        vacancy, active = self._atomic(work)
        if vacancy is None:
            raise UnknownVacancy(vacancy_id)
        entries = tuple(
            ContactEntry(
                a.real_number,
                a.virtual_number,
                format_national(a.virtual_number),
                format_international(a.virtual_number),
            )
            for a in active
        )
        notice = self.prompts.text(PromptKind.CONTACT_NOTICE, title=vacancy.title)
        return ContactCard(vacancy_id, vacancy.title, entries, notice)

    # --- provider events -------------------------------------------------------------
    def handle(self, event: ProviderEvent) -> Decision:
        """Apply a normalized provider event and return what the provider should do next.

        Each effect happens once however often, and in whatever order, events arrive.

        Raises:
            UnknownCall: For an event about a call that never started here; nothing changes.
        """
        if isinstance(event, InboundCall):
            return self._inbound(event)
        if isinstance(event, DialResult):
            return self._dial_result(event)
        if isinstance(event, RecordingReady):
            return self._recording(event)
        if isinstance(event, WhisperRequest):
            return self._whisper(event)
        if isinstance(event, AcceptKey):
            return self._accept(event)
        if isinstance(event, CallProgress):
            return Acknowledge()
        msg = f"not a provider event: {event!r}"  # type: ignore[unreachable]
        raise TypeError(msg)

    def _inbound(self, event: InboundCall) -> Decision:
        region = self.settings.default_region
        call_id = Call.make_id(event.provider, event.call_id)
        caller = normalize_caller(event.caller, region)
        virtual = normalize_caller(event.virtual_number, region) or event.virtual_number.strip()

        def work(tx: Transaction) -> tuple[Call, Vacancy | None]:
            # Most inbound webhooks are new calls: route and insert at once; only a repeated
            # webhook finds its call stored, and answers as the stored call was routed.
            call, vacancy = self._route(tx, event, call_id, caller, virtual)
            if not tx.add_call(call):
                stored = tx.get_call(call_id)
                assert stored is not None
                if stored.vacancy_id != call.vacancy_id:
                    vacancy = tx.get_vacancy(stored.vacancy_id) if stored.vacancy_id else None
                call = stored
            return call, vacancy if call.vacancy_id else None

        call, vacancy = self._atomic(work)
        log.debug("inbound call %s routed %s", call_id, call.route.value)
        return self._decision_for(call, vacancy)

    def _route(
        self,
        tx: Transaction,
        event: InboundCall,
        call_id: str,
        caller: str | None,
        virtual: str,
    ) -> tuple[Call, Vacancy | None]:
        """Decide where a new call goes: the call to store, and its vacancy."""
        now = self.clock.now()
        policy = self.settings.spam
        wants_history = caller is not None and bool(policy.max_calls or policy.max_vacancies)
        found = tx.routing_for(
            virtual, caller if wants_history else None, now - policy.history_window
        )
        route = CallRoute.UNKNOWN_NUMBER
        spam_reason = None
        assignment = vacancy = None
        if found is not None:
            assignment, vacancy = found.assignment, found.vacancy
            if assignment.active:
                history = CallerHistory(found.history)
                spam_reason = policy.check(caller, assignment.vacancy_id, now, history)
                route = CallRoute.FORWARDED if spam_reason is None else CallRoute.SPAM
            else:
                number = tx.get_number(virtual)
                if number is not None and number.is_quarantined(now):
                    route = CallRoute.VACANCY_CLOSED
                else:  # the number rested and went back to the pool: nobody's any more
                    assignment = vacancy = None
        call = Call(
            call_id=call_id,
            provider=event.provider,
            provider_call_id=event.call_id,
            virtual_number=virtual,
            caller=caller,
            started_at=now,
            route=route,
            vacancy_id=assignment.vacancy_id if assignment is not None else None,
            employer_id=assignment.employer_id if assignment is not None else None,
            real_number=(
                assignment.real_number
                if assignment is not None and route is CallRoute.FORWARDED
                else None
            ),
            spam_reason=spam_reason,
        )
        return call, vacancy

    def _decision_for(self, call: Call, vacancy: Vacancy | None) -> Decision:
        prompts = self.prompts
        title = vacancy.title if vacancy is not None else ""
        if call.route is CallRoute.SPAM:
            return Reject("spam")
        if call.route is CallRoute.UNKNOWN_NUMBER:
            return Announce(prompts.prompt(PromptKind.NOT_IN_SERVICE))
        if call.route is CallRoute.VACANCY_CLOSED:
            return Announce(prompts.prompt(PromptKind.VACANCY_CLOSED, title=title))
        assert call.real_number is not None
        settings = self.settings
        show_caller = settings.caller_id is CallerIdPolicy.CALLER and call.caller is not None
        key = settings.accept_key
        return Forward(
            call_id=call.provider_call_id,
            greeting=prompts.prompt(PromptKind.GREETING, title=title),
            real_number=call.real_number,
            caller_id=call.caller if show_caller and call.caller else call.virtual_number,
            ring_timeout=settings.ring_timeout,
            record=settings.record_calls,
            whisper=prompts.prompt(PromptKind.WHISPER, title=title),
            accept_key=key,
            accept_prompt=prompts.prompt(PromptKind.ACCEPT, key=key) if key else None,
        )

    def _find_call(self, provider: str, provider_call_id: str) -> Call:
        return self._atomic(lambda tx: self._stored_call(tx, provider, provider_call_id))

    def _dial_result(self, event: DialResult) -> Decision:
        seen = self._find_call(event.provider, event.call_id)
        candidate: Candidate | None = None
        if seen.route is CallRoute.FORWARDED and seen.candidate is None and seen.caller:
            candidate = self.directory.lookup(seen.caller) if self.directory else None

        queued = False

        def work(tx: Transaction) -> Call:
            nonlocal queued
            now = self.clock.now()
            call = tx.get_call(seen.call_id)
            assert call is not None
            if call.route is not CallRoute.FORWARDED:
                return call
            if not tx.claim_event(event.idempotency_key, now):
                return call
            status = merge_dial_status(call.dial_status, event.status)
            who = call.candidate if call.candidate is not None else candidate
            mark = classify(status, who)
            response_id = call.response_id
            if who is not None and mark is not Mark.NO_RESUME:
                response_id, queued = self._respond(tx, call, who, mark, now)
            updated = attrs.evolve(
                call,
                dial_status=status,
                mark=mark,
                talk_seconds=max(call.talk_seconds, event.talk_seconds or 0),
                ended_at=call.ended_at or now,
                candidate=who,
                response_id=response_id,
                recording_url=call.recording_url or event.recording_url,
            )
            if updated != call:
                tx.update_call(updated)
            return updated

        call = self._atomic(work)
        if queued:
            self.deliver_notifications()
        if not event.final:
            return Acknowledge()
        if call.missed:
            return Hangup(self.prompts.prompt(PromptKind.MISSED))
        return Hangup()

    def _respond(
        self, tx: Transaction, call: Call, candidate: Candidate, mark: Mark, now: datetime
    ) -> tuple[str, bool]:
        """Make or update the caller's response; say whether a notification was queued."""
        assert call.vacancy_id is not None
        response_id = Response.make_id(call.vacancy_id, candidate.candidate_id)
        existing = tx.get_response(response_id)
        if existing is None:
            response = new_response(call, candidate, mark, now)
            tx.add_response(response)
            vacancy = tx.get_vacancy(call.vacancy_id)
            title = vacancy.title if vacancy is not None else ""
            queued = tx.add_notification(
                Notification(
                    notification_id=response_id,
                    response_id=response_id,
                    candidate_id=candidate.candidate_id,
                    phone=response.phone,
                    vacancy_id=call.vacancy_id,
                    vacancy_title=title,
                    text=self.prompts.text(PromptKind.RESPONSE_DELIVERED, title=title),
                    created_at=now,
                )
            )
            return response_id, queued
        merged = merge_response(existing, mark, now, new_call=call.response_id is None)
        if merged != existing:
            tx.update_response(merged)
        return response_id, False

    def _stored_call(self, tx: Transaction, provider: str, provider_call_id: str) -> Call:
        call = tx.get_call(Call.make_id(provider, provider_call_id))
        if call is None:
            raise UnknownCall(provider, provider_call_id)
        return call

    def _recording(self, event: RecordingReady) -> Decision:
        def work(tx: Transaction) -> None:
            call = self._stored_call(tx, event.provider, event.call_id)
            if tx.claim_event(event.idempotency_key, self.clock.now()):
                tx.update_call(attrs.evolve(call, recording_url=event.url))

        self._atomic(work)
        return Acknowledge()

    def _whisper(self, event: WhisperRequest) -> Decision:
        def work(tx: Transaction) -> None:
            call = self._stored_call(tx, event.provider, event.call_id)
            if call.answered_at is None:
                tx.update_call(attrs.evolve(call, answered_at=self.clock.now()))

        self._atomic(work)
        key = self.settings.accept_key
        return Whisper(
            prompt=self.prompts.prompt(PromptKind.WHISPER),
            accept_key=key,
            accept_prompt=self.prompts.prompt(PromptKind.ACCEPT, key=key) if key else None,
            call_id=event.call_id,
        )

    def _accept(self, event: AcceptKey) -> Decision:
        self._find_call(event.provider, event.call_id)
        key = self.settings.accept_key
        if key is None or event.digits.strip().startswith(key):
            return Bridge(call_id=event.call_id)
        return Hangup()

    # --- notifications ---------------------------------------------------------------
    def deliver_notifications(self, limit: int = 100) -> int:
        """Send queued notifications through the notifier; return how many were sent.

        A notification is marked sent before the notifier is called, so two workers never
        send it twice; if the notifier raises, it is queued again for a later attempt.
        """
        notifier = self.notifier
        if notifier is None:
            return 0

        def claim(tx: Transaction) -> list[Notification]:
            now = self.clock.now()
            pending = tx.pending_notifications(limit)
            for item in pending:
                tx.set_notification_sent(item.notification_id, now)
            return [attrs.evolve(item, sent_at=now) for item in pending]

        sent = 0
        for item in self._atomic(claim):
            try:
                notifier.notify(item)
            except Exception:
                log.exception("notifier failed for %s; queued again", item.notification_id)
                self._requeue(item.notification_id)
            else:
                sent += 1
        return sent

    def _requeue(self, notification_id: str) -> None:
        self._atomic(lambda tx: tx.set_notification_sent(notification_id, None))

    def notifications(self) -> list[Notification]:
        """Every notification, sent or queued, oldest first."""
        return self._atomic(lambda tx: tx.list_notifications())

    # --- the Calls folder, responses, statistics -------------------------------------
    def calls(
        self,
        vacancy_id: str,
        *,
        missed: bool = False,
        with_resume: bool = False,
        include_spam: bool | None = None,
        limit: int = 50,
        cursor: Cursor | str | None = None,
    ) -> CallPage:
        """One page of a vacancy's Calls folder, newest first.

        Args:
            vacancy_id: The vacancy.
            missed: Only calls nobody answered.
            with_resume: Only calls from candidates with a resume.
            include_spam: Show spam calls; :attr:`Settings.show_spam` if not given.
            limit: Calls per page (1 to 1000).
            cursor: The ``next_cursor`` of the previous page, as given or encoded.

        Raises:
            ValueError: For a limit out of range or a cursor that is not one.
        """
        if not 1 <= limit <= 1000:  # noqa: PLR2004 - the documented range
            raise ValueError(f"limit must be between 1 and 1000, not {limit}")
        after = Cursor.decode(cursor) if isinstance(cursor, str) else cursor
        spam = self.settings.show_spam if include_spam is None else include_spam
        where = CallFilter(missed=missed, with_resume=with_resume, include_spam=spam)
        return self._atomic(lambda tx: tx.call_page(vacancy_id, where, limit, after))

    def call(self, provider: str, provider_call_id: str) -> Call:
        """Return one call by the provider's id of it.

        Raises:
            UnknownCall: If there is none.
        """
        return self._find_call(provider, provider_call_id)

    def responses(
        self,
        *,
        vacancy_id: str | None = None,
        employer_id: str | None = None,
        pending: bool = False,
    ) -> list[Response]:
        """Responses made by calls, in the "Unsorted" folder, newest first.

        Args:
            vacancy_id: Only this vacancy's.
            employer_id: Only this employer's.
            pending: Only missed-call responses nobody processed yet.
        """
        status = ResponseStatus.PENDING if pending else None
        return self._atomic(
            lambda tx: tx.list_responses(
                vacancy_id=vacancy_id, employer_id=employer_id, status=status
            )
        )

    def process_response(self, response_id: str) -> Response:
        """Mark a response processed by the employer (it counts toward the politeness index).

        Raises:
            UnknownResponse: If there is no such response.
        """

        def work(tx: Transaction) -> Response:
            response = tx.get_response(response_id)
            if response is None:
                raise UnknownResponse(response_id)
            if response.status is ResponseStatus.PROCESSED:
                return response
            done = attrs.evolve(
                response, status=ResponseStatus.PROCESSED, updated_at=self.clock.now()
            )
            tx.update_response(done)
            return done

        return self._atomic(work)

    def stats(self, *, vacancy_id: str | None = None, employer_id: str | None = None) -> CallStats:
        """Statistics of one vacancy or one employer (give exactly one)."""
        return self._atomic(lambda tx: tx.stats(vacancy_id=vacancy_id, employer_id=employer_id))
