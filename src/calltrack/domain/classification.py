"""Classification: the mark of a forwarded call and what it does to the caller's response."""

from __future__ import annotations

from datetime import datetime

import attrs

from calltrack.domain.model import (
    Call,
    Candidate,
    DialStatus,
    Mark,
    Response,
    ResponseStatus,
)

__all__ = ["classify", "merge_dial_status", "merge_response", "new_response"]


def merge_dial_status(current: DialStatus | None, reported: DialStatus) -> DialStatus:
    """Combine what is known of a forwarded leg with a new report of it.

    An answered leg stays answered whatever arrives after it (providers send a failure
    reason after ``completed``, and events arrive out of order); otherwise the newer
    report wins, except that a known status is not replaced by :attr:`DialStatus.UNKNOWN`.
    """
    if current is DialStatus.ANSWERED:
        return current
    if reported is DialStatus.UNKNOWN and current is not None:
        return current
    return reported


def classify(status: DialStatus, candidate: Candidate | None) -> Mark:
    """Return the mark of a call in the Calls folder.

    A caller without a resume (or unknown to the directory) gets "No resume" whatever
    happened to the call; otherwise an answered call is a "Response by call" and every
    other ending is a "Missed call".
    """
    if candidate is None or not candidate.has_resume:
        return Mark.NO_RESUME
    return Mark.RESPONSE_BY_CALL if status.answered else Mark.MISSED_CALL


def new_response(call: Call, candidate: Candidate, mark: Mark, now: datetime) -> Response:
    """Make the response a caller's first call to a vacancy creates.

    A missed-call response is ``PENDING`` until the employer processes it; an answered one
    has been dealt with on the phone and starts ``PROCESSED``.
    """
    assert call.vacancy_id is not None
    assert call.employer_id is not None
    assert call.caller is not None
    return Response(
        response_id=Response.make_id(call.vacancy_id, candidate.candidate_id),
        vacancy_id=call.vacancy_id,
        employer_id=call.employer_id,
        candidate=candidate,
        phone=call.caller,
        mark=mark,
        status=ResponseStatus.PROCESSED
        if mark is Mark.RESPONSE_BY_CALL
        else ResponseStatus.PENDING,
        created_at=now,
        updated_at=now,
    )


def merge_response(response: Response, mark: Mark, now: datetime, *, new_call: bool) -> Response:
    """Attach a later call's outcome to an existing response.

    An answered call upgrades a missed mark (and so processes the response); a missed call
    never downgrades an answered one.
    """
    calls = response.calls + 1 if new_call else response.calls
    if mark is Mark.RESPONSE_BY_CALL and response.mark is not Mark.RESPONSE_BY_CALL:
        return attrs.evolve(
            response,
            mark=Mark.RESPONSE_BY_CALL,
            status=ResponseStatus.PROCESSED,
            updated_at=now,
            calls=calls,
        )
    return attrs.evolve(response, updated_at=now, calls=calls)
