"""The ports: what calltrack needs from the world, as small :class:`typing.Protocol` classes.

An adapter satisfies a port by having the methods; it never inherits from it. The storage
and provider contract suites in :mod:`calltrack.testing` check that an adapter does what
the port's docstrings promise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlsplit

import attrs

if TYPE_CHECKING:
    from datetime import datetime

    from calltrack.domain.analytics import CallAnalytics, CallMetrics, Period, Scope
    from calltrack.domain.decisions import Decision
    from calltrack.domain.events import ProviderEvent
    from calltrack.domain.folder import CallFilter, CallPage, Cursor
    from calltrack.domain.model import (
        Assignment,
        Call,
        Candidate,
        Notification,
        PoolCounts,
        PoolNumber,
        Response,
        ResponseStatus,
        Routing,
        Vacancy,
    )
    from calltrack.domain.stats import CallStats

__all__ = [
    "AvailableNumber",
    "CandidateDirectory",
    "Clock",
    "Document",
    "Notifier",
    "NumberInventory",
    "Provider",
    "Storage",
    "Transaction",
    "WebhookRequest",
]


def _lower_keys(headers: Mapping[str, str]) -> Mapping[str, str]:
    return {k.lower(): v for k, v in headers.items()}


@attrs.frozen
class WebhookRequest:
    """An HTTP request from a provider, independent of any web framework.

    Attributes:
        method: ``"POST"`` or ``"GET"``.
        url: The full public URL the provider requested, query string included; the one
            the provider signed (behind a proxy, rebuild it from the public host).
        headers: The request headers; names are kept lower-case.
        body: The raw body.
    """

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_lower_keys)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return a header's value, or ``None``; the name is case-insensitive."""
        return self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        """The media type of the body, without parameters, lower-case."""
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    def query_items(self) -> list[tuple[str, str]]:
        """The query string's parameters, in order, repeats kept."""
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    def form_items(self) -> list[tuple[str, str]]:
        """The form-encoded body's parameters, in order, repeats kept.

        Raises:
            UnicodeDecodeError: If the body is not UTF-8.
        """
        return parse_qsl(self.body.decode("utf-8"), keep_blank_values=True)

    def params(self) -> dict[str, str]:
        """The form body (POST) or the query (GET) as a dict; the last of repeats wins."""
        items = self.form_items() if self.method.upper() == "POST" else self.query_items()
        return dict(items)

    def json(self) -> Any:  # noqa: ANN401 - a JSON document is any JSON value
        """Parse the body as JSON.

        Raises:
            ValueError: If it is not JSON (or not UTF-8: UnicodeDecodeError is a ValueError).
        """
        return json.loads(self.body.decode("utf-8"))


@attrs.frozen
class Document:
    """What a provider adapter answers a webhook with.

    Attributes:
        body: The document: TwiML, Plivo XML, NCCO JSON, or empty.
        content_type: Its media type.
        status: The HTTP status to answer with.
    """

    body: str
    content_type: str
    status: int = 200


@attrs.frozen
class AvailableNumber:
    """A number a provider offers for sale.

    Attributes:
        number: E.164.
        provider: The provider's name.
        country: ISO 3166 region.
        area: Area code or locality, when the provider gives one.
        kind: ``"local"``, ``"mobile"`` or ``"tollfree"``.
        monthly_cost: The rental price as the provider states it, if it does.
    """

    number: str
    provider: str
    country: str
    area: str | None = None
    kind: str = "local"
    monthly_cost: str | None = None


@runtime_checkable
class Clock(Protocol):
    """Where the time comes from; the domain never reads the clock itself."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


@runtime_checkable
class CandidateDirectory(Protocol):
    """The host application's candidates, looked up by the number they call from."""

    def lookup(self, phone: str) -> Candidate | None:
        """Return the candidate who uses ``phone`` (E.164), or ``None`` if nobody does."""
        ...


@runtime_checkable
class Notifier(Protocol):
    """Delivers the "your response was delivered with your resume" message to candidates."""

    def notify(self, notification: Notification) -> None:
        """Send one notification. Raising leaves it queued for a later attempt."""
        ...


@runtime_checkable
class Provider(Protocol):
    """A telephony provider's webhooks: verify, parse, render.

    Attributes:
        name: The provider's name, also the first segment of its webhook paths.
        events: The webhook names it serves (the second path segment: ``"voice"``, ``"dial"``).
    """

    name: str
    events: frozenset[str]

    def verify(self, request: WebhookRequest) -> None:
        """Check the request's signature.

        Raises:
            InvalidSignature: If it is missing, stale, or matches no configured secret.
        """
        ...

    def parse(self, event: str, request: WebhookRequest) -> ProviderEvent:
        """Parse a verified request for webhook ``event`` into a normalized event.

        Raises:
            MalformedWebhook: Naming the field that is missing or unreadable.
        """
        ...

    def render(self, decision: Decision) -> Document:
        """Render a decision as the provider's document."""
        ...


@runtime_checkable
class NumberInventory(Protocol):
    """Buying and releasing a provider's numbers over its REST API."""

    provider: str

    def search(
        self, country: str, *, area: str | None = None, kind: str = "local", limit: int = 20
    ) -> list[AvailableNumber]:
        """List numbers for sale in ``country`` (and ``area``) of ``kind``.

        Raises:
            ProviderAPIError: If the provider refuses.
        """
        ...

    def buy(self, number: str) -> str:
        """Buy ``number`` with the webhook URLs configured; return it in E.164.

        Raises:
            ProviderAPIError: If the provider refuses.
        """
        ...

    def release(self, number: str) -> None:
        """Give ``number`` back to the provider.

        Raises:
            ProviderAPIError: If the provider refuses.
        """
        ...


class Transaction(Protocol):
    """One unit of work on the storage: all its writes are kept, or none.

    Every method that chooses or writes must be safe against other transactions running at
    the same time in other threads, processes or machines: the storage, not the caller,
    keeps the invariants (a virtual number held by one active assignment, one call per
    provider call id, one response per vacancy and candidate, each event key claimed once).
    """

    # --- the pool --------------------------------------------------------------------
    def add_numbers(self, numbers: Sequence[PoolNumber]) -> int:
        """Add numbers that are not in the pool yet; return how many were added."""
        ...

    def get_number(self, number: str) -> PoolNumber | None:
        """Return a pool number, or ``None`` if it is not in the pool."""
        ...

    def claim_number(self, country: str, area: str | None, now: datetime) -> PoolNumber | None:
        """Choose a number and mark it assigned, or return ``None`` if none is available.

        The choice follows :func:`calltrack.domain.allocation.pick_number`: available at
        ``now`` (free, quarantine over), of ``country``, in ``area`` if any is, idle longest,
        then the smallest number. Two transactions never claim the same number.
        """
        ...

    def free_number(self, number: str, idle_since: datetime, available_from: datetime) -> None:
        """Mark an assigned number free again, resting until ``available_from``."""
        ...

    def remove_number(self, number: str) -> bool:
        """Take a free number out of the pool; return ``False`` if it is not there.

        Raises:
            StorageError: If the number is assigned.
        """
        ...

    def list_numbers(
        self, *, country: str | None = None, after: str | None = None, limit: int = 100
    ) -> list[PoolNumber]:
        """List pool numbers in number order, after ``after``, at most ``limit``."""
        ...

    def pool_counts(self, now: datetime, country: str | None = None) -> PoolCounts:
        """Count the pool's numbers (of ``country``) by state at ``now``."""
        ...

    # --- vacancies and assignments ---------------------------------------------------
    def save_vacancy(self, vacancy: Vacancy) -> None:
        """Insert or replace a vacancy."""
        ...

    def get_vacancy(self, vacancy_id: str) -> Vacancy | None:
        """Return a vacancy, or ``None``."""
        ...

    def active_assignments(self, vacancy_id: str) -> list[Assignment]:
        """Return the vacancy's active assignments, oldest first, then by real phone."""
        ...

    def add_assignment(self, assignment: Assignment) -> None:
        """Store a new active assignment.

        Raises:
            StorageError: If its virtual number is held by another active assignment, or
                its (vacancy, real phone) already has an active one.
        """
        ...

    def end_assignment(self, vacancy_id: str, real_number: str, at: datetime) -> None:
        """Mark the active assignment of (vacancy, real phone) released at ``at``."""
        ...

    def assignment_by_virtual(self, number: str) -> Assignment | None:
        """Return the active assignment of a virtual number, else its latest released one."""
        ...

    def routing_for(
        self, number: str, caller: str | None = None, since: datetime | None = None
    ) -> Routing | None:
        """Return what routing a call to a virtual number needs, in one read.

        That is :meth:`assignment_by_virtual` with the assignment's vacancy and, when
        ``caller`` and ``since`` are given, what :meth:`calls_from` would return for them;
        ``None`` if the number was never assigned. A storage that reads it all at once
        saves statements (round trips, on a server) on every inbound call.
        """
        ...

    # --- calls, events, responses, notifications -------------------------------------
    def add_call(self, call: Call) -> bool:
        """Store a new call; return ``False`` (and change nothing) if its id exists."""
        ...

    def get_call(self, call_id: str) -> Call | None:
        """Return a call, or ``None``."""
        ...

    def update_call(self, call: Call) -> None:
        """Replace a stored call with a newer version of it."""
        ...

    def calls_from(self, caller: str, since: datetime) -> list[tuple[datetime, str | None]]:
        """Return (started_at, vacancy_id) of the caller's calls that started after ``since``."""
        ...

    def call_page(
        self, vacancy_id: str, where: CallFilter, limit: int, after: Cursor | None
    ) -> CallPage:
        """Return one page of a vacancy's Calls folder, newest first, after ``after``."""
        ...

    def claim_event(self, key: str, at: datetime) -> bool:
        """Record that the effect named ``key`` happens; ``False`` if it already did."""
        ...

    def get_response(self, response_id: str) -> Response | None:
        """Return a response, or ``None``."""
        ...

    def add_response(self, response: Response) -> None:
        """Store a new response.

        Raises:
            StorageError: If (vacancy, candidate) already has one.
        """
        ...

    def update_response(self, response: Response) -> None:
        """Replace a stored response with a newer version of it."""
        ...

    def list_responses(
        self,
        *,
        vacancy_id: str | None = None,
        employer_id: str | None = None,
        status: ResponseStatus | None = None,
    ) -> list[Response]:
        """Return responses (of a vacancy, an employer, with a status), newest first."""
        ...

    def add_notification(self, notification: Notification) -> bool:
        """Queue a notification; ``False`` (and change nothing) if its id is queued already."""
        ...

    def pending_notifications(self, limit: int) -> list[Notification]:
        """Return notifications not sent yet, oldest first."""
        ...

    def set_notification_sent(self, notification_id: str, at: datetime | None) -> None:
        """Mark a notification sent at ``at``, or pending again with ``None``."""
        ...

    def list_notifications(self) -> list[Notification]:
        """Return every notification, oldest first."""
        ...

    def stats(self, *, vacancy_id: str | None = None, employer_id: str | None = None) -> CallStats:
        """Count the statistics of a vacancy or an employer (exactly one must be given)."""
        ...

    # --- analytics -------------------------------------------------------------------
    def call_analytics(self, scope: Scope, period: Period) -> CallAnalytics:
        """Count the statistics of ``scope`` over ``period``, in total and per local day.

        The result must equal :func:`calltrack.domain.analytics.compute_analytics` over
        every stored call and response (durations to within a millisecond). A storage
        counts with aggregates where it can, without loading each call.
        """
        ...

    def vacancy_metrics(self, employer_id: str, period: Period) -> dict[str, CallMetrics]:
        """Count the metrics of each of an employer's vacancies over ``period``.

        Keyed by vacancy id, for every vacancy with a call or a response in the period;
        each value must equal the ``total`` of :meth:`call_analytics` for that vacancy.
        """
        ...

    def scan_calls(
        self,
        scope: Scope,
        where: CallFilter,
        period: Period,
        limit: int,
        after: Cursor | None,
    ) -> CallPage:
        """Return one page of the scope's calls that started in ``period``, newest first.

        Ordered by (started_at, call_id) descending and continued after ``after`` (keyset
        paging), like :meth:`call_page`, but for a vacancy or a whole employer.
        """
        ...


class Storage(Protocol):
    """Where calltrack keeps its state."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Begin a unit of work: committed when the block ends, rolled back if it raises.

        Raises:
            StorageUnavailable: If the storage cannot be reached.
        """
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
