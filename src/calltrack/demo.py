"""The demo: a job board's day of calls, played on the fake provider and printed as tables.

``calltrack demo`` runs :func:`play`. It needs no configuration and no telephony account.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import TextIO

from calltrack.domain.model import Call, CallRoute, DialStatus, Mark
from calltrack.domain.phones import format_international
from calltrack.domain.prompts import Prompts
from calltrack.domain.settings import Settings
from calltrack.domain.spam import SpamPolicy
from calltrack.domain.stats import CallStats
from calltrack.ports import Storage
from calltrack.storage.memory import MemoryStorage
from calltrack.testing import (
    CallOutcome,
    CallSimulator,
    FakeClock,
    FakeDirectory,
    RecordingNotifier,
)
from calltrack.tracker import CallTracker

__all__ = ["play"]

EMPLOYER = "northwind"
POOL = [f"+7495120{i:04d}" for i in range(1, 13)]
MARKS = {
    Mark.RESPONSE_BY_CALL: "Response by call",
    Mark.MISSED_CALL: "Missed call",
    Mark.NO_RESUME: "No resume",
}
ROUTES = {
    CallRoute.SPAM: "blocked as spam",
    CallRoute.VACANCY_CLOSED: "vacancy closed",
    CallRoute.UNKNOWN_NUMBER: "not in service",
}


def table(out: TextIO, title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print rows under a header as an aligned text table."""
    out.write(f"\n{title}\n")
    if not rows:
        out.write("  (empty)\n")
        return
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  " + "  ".join("-" * w for w in widths) + "\n"
    out.write("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + "\n")
    out.write(line)
    out.writelines(
        "  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + "\n"
        for row in rows
    )


OUTCOMES = {
    DialStatus.ANSWERED: "answered",
    DialStatus.NO_ANSWER: "no answer",
    DialStatus.BUSY: "busy",
    DialStatus.FAILED: "failed",
    DialStatus.CANCELED: "caller hung up",
    DialStatus.NOT_ACCEPTED: "not accepted",
    DialStatus.UNKNOWN: "unknown",
}


def _call_row(call: Call) -> list[str]:
    who = call.candidate
    if call.route is CallRoute.FORWARDED:
        mark = MARKS[call.mark] if call.mark else "-"
        outcome = OUTCOMES[call.dial_status] if call.dial_status else "ringing"
    else:
        mark, outcome = "-", ROUTES[call.route]
        if call.spam_reason is not None:
            outcome += f": {call.spam_reason.value.replace('_', ' ')}"
    return [
        call.started_at.strftime("%Y-%m-%d %H:%M"),
        format_international(call.caller) if call.caller else "withheld",
        who.name if who else "-",
        (who.resume_url or "No resume") if who else "No resume",
        mark,
        outcome,
        f"{call.talk_seconds} s" if call.answered else "-",
    ]


def _stats_row(name: str, stats: CallStats) -> list[str]:
    rate = stats.answer_rate
    return [
        name,
        str(stats.calls),
        str(stats.unique_callers),
        str(stats.answered),
        str(stats.missed),
        str(stats.missed_pending),
        str(stats.responses),
        str(stats.no_resume),
        str(stats.spam_blocked),
        f"{rate:.0%}" if rate is not None else "-",
    ]


def play(storage: Storage | None = None, out: TextIO | None = None) -> CallTracker:
    """Play the seed's story end to end and print what an employer would see.

    A company with two vacancies, one of them with two phones, gets an answered call from
    a candidate with a resume, a missed call from another, a call from someone without a
    resume, a spam burst, and a call to the number of a vacancy that closed.

    Args:
        storage: Where to keep the state; a fresh :class:`MemoryStorage` by default.
        out: Where to print; standard output by default.

    Returns:
        The tracker, for a caller that wants to look further.
    """
    out = out or sys.stdout
    clock = FakeClock()
    directory = FakeDirectory()
    notifier = RecordingNotifier()
    settings = Settings(
        spam=SpamPolicy(max_calls=2, calls_window=timedelta(hours=1)),
        quarantine=timedelta(days=60),
    )
    tracker = CallTracker(
        storage or MemoryStorage(),
        directory=directory,
        notifier=notifier,
        clock=clock,
        settings=settings,
        prompts=Prompts(brand="Jobs Board", locale="en"),
    )
    tracker.add_numbers(POOL, provider="fake")
    anna = directory.add(
        "+7 903 100-00-01", "Anna Petrova", resume_url="https://jobs.example.com/resume/anna"
    )
    oleg = directory.add(
        "+7 903 100-00-02", "Oleg Ivanov", resume_url="https://jobs.example.com/resume/oleg"
    )
    directory.add("+7 903 100-00-03", "Ivan Sidorov")

    driver = tracker.track(
        "driver",
        ["+7 495 555-01-01", "+7 916 555-01-02"],
        employer_id=EMPLOYER,
        title="Truck driver",
    )
    warehouse = tracker.track(
        "warehouse", ["+7 495 555-02-01"], employer_id=EMPLOYER, title="Warehouse manager"
    )
    courier = tracker.track("courier", ["+7 495 555-03-01"], employer_id=EMPLOYER, title="Courier")
    clock.advance(hours=1)
    tracker.untrack("courier")

    card = tracker.contact_card("driver")
    out.write(f"Contact card of «{card.title}»: {card.notice}\n")
    for entry in card.entries:
        out.write(
            f"  {entry.display}   (stands in for {format_international(entry.real_number)})\n"
        )

    sim = CallSimulator(tracker)
    clock.advance(minutes=5)
    answered = sim.call("+79031000001", driver[0].virtual_number, talk_seconds=184)
    clock.advance(minutes=7)
    sim.call("+79031000002", driver[1].virtual_number, outcome=CallOutcome.NO_ANSWER)
    clock.advance(minutes=3)
    sim.call("+79031000003", warehouse[0].virtual_number, talk_seconds=45)
    clock.advance(minutes=2)
    for _ in range(4):
        sim.call("+79039999999", warehouse[0].virtual_number, outcome=CallOutcome.CALLER_HANGS_UP)
    sim.call("anonymous", driver[0].virtual_number)
    clock.advance(minutes=10)
    closed = sim.call("+79031000002", courier[0].virtual_number)
    unknown = sim.call("+79031000001", POOL[-1])

    out.write("\nWhat the first caller heard:   " + " / ".join(answered.caller_heard) + "\n")
    out.write("What the recruiter heard:      " + " / ".join(answered.recruiter_heard) + "\n")
    out.write("A caller of the closed vacancy: " + " / ".join(closed.caller_heard) + "\n")
    out.write("A caller of an unused number:  " + " / ".join(unknown.caller_heard) + "\n")

    header = ["When", "Caller", "Name", "Resume", "Mark", "Outcome", "Talk"]
    for vacancy_id, title in (
        ("driver", "Truck driver"),
        ("warehouse", "Warehouse manager"),
        ("courier", "Courier"),
    ):
        table(
            out,
            f"Calls folder: {title}",
            header,
            [_call_row(c) for c in tracker.calls(vacancy_id).calls],
        )
    table(
        out,
        "Truck driver, filter: missed calls",
        header,
        [_call_row(c) for c in tracker.calls("driver", missed=True).calls],
    )
    table(
        out,
        "Truck driver, filter: with a resume",
        header,
        [_call_row(c) for c in tracker.calls("driver", with_resume=True).calls],
    )
    table(
        out,
        "Warehouse manager, spam shown",
        header,
        [_call_row(c) for c in tracker.calls("warehouse", include_spam=True).calls],
    )

    table(
        out,
        'Responses in "Unsorted"',
        ["Vacancy", "Candidate", "Resume", "Mark", "Status", "Calls"],
        [
            [
                r.vacancy_id,
                r.candidate.name,
                r.candidate.resume_url or "-",
                MARKS[r.mark],
                r.status.value,
                str(r.calls),
            ]
            for r in tracker.responses(employer_id=EMPLOYER)
        ],
    )
    table(
        out,
        "Notifications sent to candidates",
        ["To", "Message"],
        [[format_international(n.phone), n.text] for n in notifier.sent],
    )
    stats_header = [
        "",
        "Calls",
        "Callers",
        "Answered",
        "Missed",
        "Pending",
        "Responses",
        "No resume",
        "Spam",
        "Answer rate",
    ]
    table(
        out,
        "Statistics",
        stats_header,
        [
            *(
                _stats_row(v, tracker.stats(vacancy_id=v))
                for v in ("driver", "warehouse", "courier")
            ),
            _stats_row(f"employer {EMPLOYER}", tracker.stats(employer_id=EMPLOYER)),
        ],
    )
    pool = tracker.pool_counts()
    out.write(
        f"\nPool: {pool.total} numbers, {pool.assigned} assigned, "
        f"{pool.quarantined} in quarantine, {pool.free} free\n"
    )
    del anna, oleg
    return tracker
