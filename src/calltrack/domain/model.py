"""The entities of call tracking: pool numbers, vacancies, assignments, calls, responses.

All of them are immutable values; a change is a new value made with :func:`attrs.evolve`.
Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "Assignment",
    "Call",
    "CallRoute",
    "Candidate",
    "ContactCard",
    "ContactEntry",
    "DialStatus",
    "Folder",
    "Mark",
    "Notification",
    "PoolCounts",
    "PoolNumber",
    "Response",
    "ResponseStatus",
    "Routing",
    "SpamReason",
    "Vacancy",
]


class Mark(enum.Enum):
    """The mark a call carries in the Calls folder of its vacancy."""

    RESPONSE_BY_CALL = "response_by_call"
    """The recruiter answered a caller with a resume: "Response by call"."""
    MISSED_CALL = "missed_call"
    """Nobody answered a caller with a resume: "Missed call"; it must be processed."""
    NO_RESUME = "no_resume"
    """The caller has no resume: "No resume"; the call stays in the Calls folder only."""


class Folder(enum.Enum):
    """The folder of the employer's responses a response lands in."""

    UNSORTED = "unsorted"
    """"Unsorted": where every new response, by call or otherwise, arrives."""


class ResponseStatus(enum.Enum):
    """Whether the employer has reacted to a response (the politeness index counts these)."""

    PENDING = "pending"
    """A missed-call response nobody has processed yet."""
    PROCESSED = "processed"
    """Answered on the phone, or processed by the employer afterwards."""


class CallRoute(enum.Enum):
    """What calltrack did with a call when it arrived."""

    FORWARDED = "forwarded"
    """Greeted and forwarded to the vacancy's real phone."""
    SPAM = "spam"
    """Refused by the spam policy; never a response, hidden from the Calls folder by default."""
    UNKNOWN_NUMBER = "unknown_number"
    """The dialled number is not (or no longer) assigned: "number not in service"."""
    VACANCY_CLOSED = "vacancy_closed"
    """The number rests in quarantine after its vacancy stopped taking calls."""


class DialStatus(enum.Enum):
    """How the forwarded leg to the real phone ended, normalized across providers."""

    ANSWERED = "answered"
    """The recruiter answered and the legs were bridged."""
    NO_ANSWER = "no_answer"
    """The real phone rang until the ring timeout."""
    BUSY = "busy"
    """The real phone was busy or refused the call."""
    FAILED = "failed"
    """The real phone could not be reached."""
    CANCELED = "canceled"
    """The caller hung up before the recruiter answered."""
    NOT_ACCEPTED = "not_accepted"
    """The phone was picked up but the accept key was not pressed (voicemail, usually)."""
    UNKNOWN = "unknown"
    """A status the provider adapter could not map; counted as missed."""

    @property
    def answered(self) -> bool:
        """Whether the call reached a person: only :attr:`ANSWERED` does."""
        return self is DialStatus.ANSWERED


class SpamReason(enum.Enum):
    """Which rule of the spam policy refused a call."""

    BLOCKLISTED = "blocklisted"
    WITHHELD_CALLER_ID = "withheld_caller_id"
    TOO_MANY_CALLS = "too_many_calls"
    TOO_MANY_VACANCIES = "too_many_vacancies"


@attrs.frozen
class PoolNumber:
    """A virtual number of the pool.

    Attributes:
        number: The number in E.164.
        provider: The name of the provider the number belongs to (``"twilio"``).
        country: Its ISO 3166 region (``"RU"``).
        area: Its area code, if it is geographic (``"495"``).
        idle_since: When it last became free (added to the pool, or released).
        available_from: The end of its quarantine; before this it is not handed out.
        assigned: Whether an active assignment holds it.
    """

    number: str
    provider: str
    country: str
    area: str | None
    idle_since: datetime
    available_from: datetime
    assigned: bool = False

    def is_available(self, now: datetime) -> bool:
        """Whether the number may be handed out at ``now``."""
        return not self.assigned and self.available_from <= now

    def is_quarantined(self, now: datetime) -> bool:
        """Whether the number is free but still resting after its last assignment."""
        return not self.assigned and self.available_from > now


@attrs.frozen
class PoolCounts:
    """How the numbers of the pool (or of one country of it) are spread.

    ``total == assigned + quarantined + free`` always holds.
    """

    total: int
    assigned: int
    quarantined: int
    free: int


@attrs.frozen
class Vacancy:
    """A listing whose phones are tracked.

    Attributes:
        vacancy_id: The host application's id of the vacancy.
        employer_id: The host application's id of its employer.
        title: Its title, said to callers in the greeting.
        tracked: Whether it takes calls now (``False`` after ``untrack``).
    """

    vacancy_id: str
    employer_id: str
    title: str
    tracked: bool = True


@attrs.frozen
class Assignment:
    """A virtual number standing in for one real phone of one vacancy.

    Attributes:
        vacancy_id: The vacancy.
        employer_id: Its employer.
        real_number: The real phone, E.164.
        virtual_number: The virtual number, E.164.
        assigned_at: When the assignment began.
        released_at: When it ended; ``None`` while it is active.
    """

    vacancy_id: str
    employer_id: str
    real_number: str
    virtual_number: str
    assigned_at: datetime
    released_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the assignment still holds its virtual number."""
        return self.released_at is None


@attrs.frozen
class Routing:
    """What routing a call to a virtual number reads from the storage, in one go.

    Attributes:
        assignment: The number's active assignment, else its latest released one.
        vacancy: The assignment's vacancy; ``None`` if it is not stored.
        history: The caller's earlier calls in the spam policy's window, as
            ``(started_at, vacancy_id)`` in any order; empty when not asked for.
    """

    assignment: Assignment
    vacancy: Vacancy | None = None
    history: tuple[tuple[datetime, str | None], ...] = ()


@attrs.frozen
class Candidate:
    """A caller as the host application's candidate directory knows them.

    Attributes:
        candidate_id: The host application's id of the candidate.
        name: First and last name, as shown to the employer.
        resume_url: A link to the resume with contacts open; ``None`` if there is none.
    """

    candidate_id: str
    name: str
    resume_url: str | None = None

    @property
    def has_resume(self) -> bool:
        """Whether the candidate has a resume (and so a call becomes a response)."""
        return self.resume_url is not None


@attrs.frozen
class Call:
    """One call to a virtual number, as the Calls folder shows it.

    Attributes:
        call_id: calltrack's id of the call: ``"{provider}:{provider_call_id}"``.
        provider: The provider's name.
        provider_call_id: The provider's id of the inbound leg.
        virtual_number: The number dialled, E.164 (or as sent, if it was not a number).
        caller: The caller's number in E.164; ``None`` when withheld or invalid.
        started_at: When the call arrived.
        route: What calltrack did with it.
        vacancy_id: The vacancy it is about (for closed vacancies, the old one).
        employer_id: That vacancy's employer.
        real_number: The real phone it was forwarded to.
        spam_reason: The rule that refused it, for spam.
        dial_status: How the forwarded leg ended, once known.
        mark: Its mark in the Calls folder, once the forwarded leg has ended.
        talk_seconds: Talk time of the bridged conversation.
        answered_at: When the recruiter picked up (the whisper was asked for), if they did.
        ended_at: When the forwarded leg's end was reported.
        recording_url: Link to the recording, once it is ready.
        candidate: The caller as the directory knew them when the call was classified.
        response_id: The response this call made or attached to.
    """

    call_id: str
    provider: str
    provider_call_id: str
    virtual_number: str
    caller: str | None
    started_at: datetime
    route: CallRoute
    vacancy_id: str | None = None
    employer_id: str | None = None
    real_number: str | None = None
    spam_reason: SpamReason | None = None
    dial_status: DialStatus | None = None
    mark: Mark | None = None
    talk_seconds: int = 0
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    recording_url: str | None = None
    candidate: Candidate | None = None
    response_id: str | None = None

    @staticmethod
    def make_id(provider: str, provider_call_id: str) -> str:
        """Return the call id calltrack gives a provider's call."""
        return f"{provider}:{provider_call_id}"

    @property
    def missed(self) -> bool:
        """Whether the call was forwarded and nobody took it."""
        return self.dial_status is not None and not self.dial_status.answered

    @property
    def answered(self) -> bool:
        """Whether the recruiter answered."""
        return self.dial_status is not None and self.dial_status.answered

    @property
    def has_resume(self) -> bool:
        """Whether the caller was found with a resume."""
        return self.candidate is not None and self.candidate.has_resume


@attrs.frozen
class Response:
    """A job application made by a call ("response" in the seed), one per vacancy and candidate.

    Attributes:
        response_id: ``"{vacancy_id}:{candidate_id}"``.
        vacancy_id: The vacancy.
        employer_id: Its employer.
        candidate: The candidate, with the resume link.
        phone: The number they called from.
        mark: ``RESPONSE_BY_CALL`` or ``MISSED_CALL``; an answered call upgrades a missed one.
        status: ``PENDING`` until the employer reacts to a missed call.
        created_at: When the first call made it.
        updated_at: When the last call touched it.
        calls: How many calls attach to it.
        folder: Always ``UNSORTED`` when made.
        source: Always ``"call"``.
    """

    response_id: str
    vacancy_id: str
    employer_id: str
    candidate: Candidate
    phone: str
    mark: Mark
    status: ResponseStatus
    created_at: datetime
    updated_at: datetime
    calls: int = 1
    folder: Folder = Folder.UNSORTED
    source: str = "call"

    @staticmethod
    def make_id(vacancy_id: str, candidate_id: str) -> str:
        """Return the response id of a (vacancy, candidate) pair."""
        return f"{vacancy_id}:{candidate_id}"


@attrs.frozen
class Notification:
    """The message telling a candidate their response reached the employer with the resume.

    Attributes:
        notification_id: Equal to the response id: there is one per response.
        response_id: The response.
        candidate_id: Who to tell.
        phone: Their number.
        vacancy_id: The vacancy.
        vacancy_title: Its title.
        text: The message, in the tracker's locale.
        created_at: When it was queued.
        sent_at: When the notifier took it; ``None`` while pending.
    """

    notification_id: str
    response_id: str
    candidate_id: str
    phone: str
    vacancy_id: str
    vacancy_title: str
    text: str
    created_at: datetime
    sent_at: datetime | None = None


@attrs.frozen
class ContactEntry:
    """One phone of a vacancy's contact card."""

    real_number: str
    virtual_number: str
    display: str
    """The virtual number in national format, as a visitor of the country reads it."""
    international: str
    """The virtual number in international format."""


@attrs.frozen
class ContactCard:
    """What a job seeker sees when they open a vacancy's contacts."""

    vacancy_id: str
    title: str
    entries: tuple[ContactEntry, ...]
    notice: str
    """"This is the employer's number for calls only", in the tracker's locale."""
