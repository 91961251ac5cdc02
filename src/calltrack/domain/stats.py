"""Statistics of a vacancy or an employer: how well the listing works."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from calltrack.domain.model import Call, CallRoute, Mark, Response, ResponseStatus

__all__ = ["CallStats", "compute_stats"]


@attrs.frozen
class CallStats:
    """Counts over the calls of a vacancy or an employer.

    Attributes:
        calls: Calls that were forwarded or refused as spam or closed (every logged call).
        unique_callers: Distinct caller numbers among them (withheld callers not counted).
        answered: Forwarded calls the recruiter answered.
        missed: Forwarded calls nobody answered.
        missed_pending: Missed-call responses the employer has not processed yet.
        responses: Responses created by calls.
        no_resume: Calls marked "No resume".
        spam_blocked: Calls refused as spam.
        after_close: Calls to a number whose vacancy no longer took calls.
    """

    calls: int = 0
    unique_callers: int = 0
    answered: int = 0
    missed: int = 0
    missed_pending: int = 0
    responses: int = 0
    no_resume: int = 0
    spam_blocked: int = 0
    after_close: int = 0

    @property
    def answer_rate(self) -> float | None:
        """Answered over answered plus missed; ``None`` before any forwarded call ended."""
        ended = self.answered + self.missed
        return self.answered / ended if ended else None


def compute_stats(calls: Iterable[Call], responses: Iterable[Response]) -> CallStats:
    """Count statistics the plain way, one call at a time.

    This is the reference every storage's aggregate queries must agree with.
    """
    total = answered = missed = no_resume = spam = after_close = 0
    callers: set[str] = set()
    for call in calls:
        total += 1
        if call.caller is not None:
            callers.add(call.caller)
        if call.route is CallRoute.SPAM:
            spam += 1
        elif call.route is CallRoute.VACANCY_CLOSED:
            after_close += 1
        if call.answered:
            answered += 1
        elif call.missed:
            missed += 1
        if call.mark is Mark.NO_RESUME:
            no_resume += 1
    made = pending = 0
    for response in responses:
        made += 1
        if response.mark is Mark.MISSED_CALL and response.status is ResponseStatus.PENDING:
            pending += 1
    return CallStats(
        calls=total,
        unique_callers=len(callers),
        answered=answered,
        missed=missed,
        missed_pending=pending,
        responses=made,
        no_resume=no_resume,
        spam_blocked=spam,
        after_close=after_close,
    )
