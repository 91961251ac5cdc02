"""Peak memory of exporting an employer's calls from SQLite: 1M calls against 10k.

Run: python benchmarks/bench_export.py [--quick] [--format csv|json|jsonl]

Each size gets a fresh SQLite file, filled with one executemany per chunk straight into the
calls table (the tracker would measure routing, not exporting). Each export then runs in a
fresh subprocess that reads the calls with ``iter_calls`` (keyset pages of 1000) and writes
them with ``write_calls``; the subprocess reports its peak RSS (``ru_maxrss``). A third
subprocess that opens the storage and reads one page is the floor: what Python, SQLAlchemy
and calltrack cost before any export. Ratios are against the smallest export, same run.
The last column is the time the storage takes to count the employer's statistics (one
``call_analytics`` over all days, by SQL aggregates).

The filling runs in a subprocess too, and this process imports neither calltrack nor
SQLAlchemy: Linux carries a parent's peak RSS over into a child's ``ru_maxrss`` across
fork and exec, so a parent that grew would hide the children's own peaks.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from itertools import islice
from pathlib import Path

T0 = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
CHUNK = 20_000


def fill(url: str, size: int) -> float:
    """Store ``size`` calls of employer e1 (over 50 vacancies); return the seconds it took."""
    from calltrack.domain.model import Call, CallRoute, Candidate, DialStatus, Mark  # noqa: PLC0415 - keeps the measuring parent lean
    from calltrack.storage import _schema  # noqa: PLC0415 - keeps the measuring parent lean
    from calltrack.storage.sql import SqlStorage, _values, upgrade  # noqa: PLC0415 - keeps the measuring parent lean

    upgrade(url)
    storage = SqlStorage(url)
    started = time.perf_counter()
    statuses = [DialStatus.ANSWERED, DialStatus.NO_ANSWER, DialStatus.ANSWERED, DialStatus.BUSY]
    with storage.engine.begin() as conn:
        for first in range(0, size, CHUNK):
            rows = []
            for i in range(first, min(first + CHUNK, size)):
                status = statuses[i % 4]
                resume = i % 3 != 0
                call = Call(
                    call_id=f"fake:B{i:09d}",
                    provider="fake",
                    provider_call_id=f"B{i:09d}",
                    virtual_number=f"+7495100{i % 50:04d}",
                    caller=f"+7903{i % 50_000:07d}",
                    started_at=T0 + timedelta(seconds=7 * i),
                    route=CallRoute.FORWARDED,
                    vacancy_id=f"v{i % 50}",
                    employer_id="e1",
                    real_number="+74952000001",
                    dial_status=status,
                    mark=(
                        (Mark.RESPONSE_BY_CALL if status.answered else Mark.MISSED_CALL)
                        if resume
                        else Mark.NO_RESUME
                    ),
                    talk_seconds=60 if status.answered else 0,
                    answered_at=T0 + timedelta(seconds=7 * i + 3) if status.answered else None,
                    candidate=Candidate(f"c{i % 50_000}", "Anna Petrova", "https://r/1")
                    if resume
                    else None,
                )
                rows.append(_values(call))
            conn.execute(_schema.calls.insert(), rows)
    storage.close()
    return time.perf_counter() - started


def child(url: str, fmt: str, out: str, mode: str) -> None:
    """Export (or read one page, or count the statistics); print peak RSS and seconds."""
    from calltrack.analytics import ExportFormat, Scope, analytics, iter_calls, write_calls  # noqa: PLC0415 - keeps the measuring parent lean
    from calltrack.storage.sql import SqlStorage  # noqa: PLC0415 - keeps the measuring parent lean

    storage = SqlStorage(url)
    started = time.perf_counter()
    written = 0
    if mode == "stats":
        written = analytics(storage, Scope.employer("e1")).total.calls
    elif mode == "floor":
        written = sum(1 for _ in islice(iter_calls(storage, Scope.employer("e1")), 1000))
    else:
        with Path(out).open("w", encoding="utf-8", newline="") as target:
            written = write_calls(
                target, iter_calls(storage, Scope.employer("e1")), ExportFormat(fmt)
            )
    seconds = time.perf_counter() - started
    storage.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hwm = Path("/proc/self/status")
    own_kib = None
    if hwm.exists():
        line = next(x for x in hwm.read_text().splitlines() if x.startswith("VmHWM"))
        own_kib = int(line.split()[1])
    print(json.dumps({"rows": written, "seconds": seconds, "peak_kib": peak_kib, "hwm": own_kib}))


def run_fill(url: str, size: int) -> float:
    """Run :func:`fill` in a fresh interpreter; return its seconds."""
    argv = [sys.executable, __file__, "--fill", url, "--size", str(size)]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)  # noqa: S603 - this script
    return float(done.stdout.strip().splitlines()[-1])


def run_child(url: str, fmt: str, out: Path, mode: str = "export") -> dict[str, float]:
    """Run :func:`child` in a fresh interpreter and read its report."""
    argv = [sys.executable, __file__, "--child", url, "--format", fmt, "--out", str(out)]
    argv += ["--mode", mode]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)  # noqa: S603 - this script
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k and 100k calls, for a smoke run")
    parser.add_argument("--format", choices=["csv", "json", "jsonl"], default="csv")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="export", help=argparse.SUPPRESS)
    parser.add_argument("--fill", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill:
        print(fill(args.fill, args.size))
        return
    if args.child:
        child(args.child, args.format, args.out, args.mode)
        return
    sizes = [10_000, 100_000] if args.quick else [10_000, 1_000_000]
    with tempfile.TemporaryDirectory() as tmp:
        results: dict[int, dict[str, float]] = {}
        floor: dict[str, float] = {}
        for size in sizes:
            url = f"sqlite:///{tmp}/calls-{size}.db"
            filled = run_fill(url, size)
            print(f"filled {size:,} calls in {filled:.1f} s", flush=True)
            if not floor:
                floor = run_child(url, args.format, Path(tmp) / "floor.out", "floor")
            out = Path(tmp) / f"export-{size}.{args.format}"
            results[size] = run_child(url, args.format, out)
            results[size]["bytes"] = out.stat().st_size
            assert results[size]["rows"] == size
            counted = run_child(url, args.format, out, "stats")
            assert counted["rows"] == size
            results[size]["stats_seconds"] = counted["seconds"]
            out.unlink()
            Path(f"{tmp}/calls-{size}.db").unlink()
    base = results[sizes[0]]
    print(f"\nexport of employer e1's calls from SQLite as {args.format}, each in a fresh process")
    print(
        f"{'calls':>10}  {'peak RSS (MiB)':>14}  {'RSS ratio':>9}  {'seconds':>8}  "
        f"{'us/call':>8}  {'statistics (s)':>14}"
    )
    print(f"{'floor':>10}  {floor['peak_kib'] / 1024:>14.1f}")
    for size in sizes:
        got = results[size]
        print(
            f"{size:>10,}  {got['peak_kib'] / 1024:>14.1f}  "
            f"{got['peak_kib'] / base['peak_kib']:>9.2f}  {got['seconds']:>8.1f}  "
            f"{got['seconds'] / size * 1e6:>8.1f}  {got['stats_seconds']:>14.2f}"
        )
    print(f"goal: {sizes[-1]:,} calls export within 1.5x the peak RSS of {sizes[0]:,}")


if __name__ == "__main__":
    main()
