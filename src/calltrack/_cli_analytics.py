"""``calltrack calls``, ``calltrack stats`` and ``calltrack report``: analytics on the command line.

Each reads the storage named by ``--db`` (see :mod:`calltrack._cli_storage`) for one vacancy
or one employer over an optional run of days, and writes to standard output or to a file.
A file is written whole or not at all: the output goes to a hidden file beside it that is
renamed when everything is written.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

from calltrack.analytics._queries import analytics, by_vacancy, check_scope, iter_calls
from calltrack.analytics.export import (
    ExportFormat,
    write_analytics,
    write_calls,
    write_vacancy_metrics,
)
from calltrack.domain.analytics import CallMetrics, Period, Scope
from calltrack.domain.folder import CallFilter
from calltrack.ports import Storage

__all__ = ["register"]

_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _offset(text: str) -> timedelta:
    if text.upper() in {"Z", "UTC"}:
        return timedelta(0)
    match = _OFFSET.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a UTC offset (+HH:MM): {text!r}")
    sign, hours, minutes = match.groups()
    value = timedelta(hours=int(hours), minutes=int(minutes))
    if int(minutes) >= 60 or value > timedelta(hours=18):  # noqa: PLR2004 - clock arithmetic
        raise argparse.ArgumentTypeError(f"not a UTC offset within ±18:00: {text!r}")
    return -value if sign == "-" else value


def _common(parser: argparse.ArgumentParser) -> None:
    whose = parser.add_mutually_exclusive_group(required=True)
    whose.add_argument("--vacancy", metavar="ID", help="one vacancy")
    whose.add_argument("--employer", metavar="ID", help="every vacancy of one employer")
    parser.add_argument("--from", dest="start", type=_day, metavar="DAY", help="first day")
    parser.add_argument("--to", dest="end", type=_day, metavar="DAY", help="last day")
    parser.add_argument(
        "--utc-offset",
        type=_offset,
        default=timedelta(0),
        metavar="+HH:MM",
        help="the local time days are counted in (default UTC)",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="the storage URL (default: $CALLTRACK_DATABASE_URL, else sqlite:///calltrack.db)",
    )
    parser.set_defaults(parser=parser)


def register(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    """Add the ``calls``, ``stats`` and ``report`` subcommands."""
    calls: argparse.ArgumentParser = commands.add_parser(
        "calls", help="export the Calls folder (CSV, JSON, JSON Lines)"
    )
    _common(calls)
    calls.add_argument("--missed", action="store_true", help="only missed calls")
    calls.add_argument("--with-resume", action="store_true", help="only callers with a resume")
    calls.add_argument("--include-spam", action="store_true", help="spam calls too")
    calls.add_argument(
        "--format", choices=[f.value for f in ExportFormat], default="csv", help="default csv"
    )
    calls.add_argument("-o", "--output", metavar="FILE", help="write here, not to stdout")
    calls.set_defaults(run=run_calls)

    stats: argparse.ArgumentParser = commands.add_parser(
        "stats", help="statistics per day and in total (table, CSV, JSON, JSON Lines)"
    )
    _common(stats)
    stats.add_argument(
        "--format",
        choices=["table", *(f.value for f in ExportFormat)],
        default="table",
        help="default table",
    )
    stats.add_argument(
        "--by-vacancy",
        action="store_true",
        help="with --employer: one row per vacancy over the period, busiest first",
    )
    stats.add_argument("-o", "--output", metavar="FILE", help="write here, not to stdout")
    stats.set_defaults(run=run_stats)

    report: argparse.ArgumentParser = commands.add_parser(
        "report", help="write a self-contained HTML report with charts"
    )
    _common(report)
    report.add_argument(
        "-o", "--output", metavar="FILE", required=True, help="the HTML file to write"
    )
    report.add_argument(
        "--calls", type=int, default=200, metavar="N", help="newest calls to list (default 200)"
    )
    report.set_defaults(run=run_report)


def _scope_and_period(args: argparse.Namespace) -> tuple[Scope, Period]:
    parser: argparse.ArgumentParser = args.parser
    try:
        scope = Scope(vacancy_id=args.vacancy, employer_id=args.employer)
        period = Period(args.start, args.end, args.utc_offset)
    except ValueError as exc:
        parser.error(str(exc))
    return scope, period


@contextlib.contextmanager
def _output(target: str | None) -> Iterator[TextIO]:
    """Standard output, or a file that appears only once it is written whole."""
    if target is None or target == "-":
        try:
            yield sys.stdout
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader stopped early (`calltrack calls | head`): that is not an error.
            # Point stdout at nothing so that the interpreter's last flush stays quiet.
            with contextlib.suppress(AttributeError, OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
        return
    path = Path(target)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            yield out
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _with_storage(args: argparse.Namespace, work: Callable[[Storage], int]) -> int:
    from calltrack._cli_storage import open_storage  # noqa: PLC0415 - SQL is imported lazily

    storage = open_storage(args.db)
    try:
        return work(storage)
    finally:
        storage.close()


def run_calls(args: argparse.Namespace) -> int:
    """Export the calls of a vacancy or an employer."""
    scope, period = _scope_and_period(args)
    where = CallFilter(
        missed=args.missed, with_resume=args.with_resume, include_spam=args.include_spam
    )

    def work(storage: Storage) -> int:
        check_scope(storage, scope)
        with _output(args.output) as out:
            write_calls(
                out,
                iter_calls(storage, scope, where=where, period=period),
                ExportFormat(args.format),
            )
        return 0

    return _with_storage(args, work)


def _table(out: TextIO, rows: list[tuple[str, CallMetrics]], first: tuple[str, int]) -> None:
    columns = [
        first,
        ("calls", 6),
        ("callers", 7),
        ("answered", 8),
        ("missed", 6),
        ("rate", 5),
        ("responses", 9),
        ("pending", 7),
        ("no resume", 9),
        ("spam", 5),
        ("closed", 6),
    ]
    out.write("  ".join(name.rjust(width) for name, width in columns) + "\n")
    for label, m in rows:
        rate = "-" if m.answer_rate is None else f"{m.answer_rate:.0%}"
        values = [
            label,
            m.calls,
            m.unique_callers,
            m.answered,
            m.missed,
            rate,
            m.responses,
            m.missed_pending,
            m.no_resume,
            m.spam_blocked,
            m.after_close,
        ]
        out.write(
            "  ".join(str(v).rjust(w) for v, (_, w) in zip(values, columns, strict=True)) + "\n"
        )


def run_stats(args: argparse.Namespace) -> int:
    """Print or export the statistics of a vacancy or an employer."""
    scope, period = _scope_and_period(args)
    if args.by_vacancy and scope.employer_id is None:
        args.parser.error("--by-vacancy needs --employer")

    def work(storage: Storage) -> int:
        check_scope(storage, scope)
        if args.by_vacancy:
            found = by_vacancy(storage, scope.key, period)
            with _output(args.output) as out:
                if args.format == "table":
                    width = max([7, *(len(v) for _, v, _ in found)])
                    _table(out, [(v, m) for _, v, m in found], ("vacancy", width))
                else:
                    write_vacancy_metrics(out, scope.key, found, ExportFormat(args.format))
            return 0
        report = analytics(storage, scope, period)
        with _output(args.output) as out:
            if args.format == "table":
                rows = [(d.day.isoformat(), d.metrics) for d in report.days]
                _table(out, [*rows, ("total", report.total)], ("day", 10))
            else:
                write_analytics(out, report, ExportFormat(args.format))
        return 0

    return _with_storage(args, work)


def run_report(args: argparse.Namespace) -> int:
    """Write the HTML report of a vacancy or an employer."""
    from calltrack.analytics.report import write_report  # noqa: PLC0415 - only this command

    scope, period = _scope_and_period(args)
    if not 0 <= args.calls <= 10_000:  # noqa: PLR2004 - the documented range
        args.parser.error(f"--calls must be between 0 and 10000, not {args.calls}")

    def work(storage: Storage) -> int:
        size = write_report(args.output, storage, scope, period, calls=args.calls)
        print(f"wrote {args.output} ({size:,} bytes)")  # noqa: T201 - the command's output
        return 0

    return _with_storage(args, work)
