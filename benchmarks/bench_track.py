"""How one `track` costs as the pool grows: 10k, 100k and 1M numbers, on MemoryStorage.

Run: python benchmarks/bench_track.py [--quick]

The pool is loaded straight through a transaction (parsing a million numbers would measure
phonenumbers, not allocation). Each size then tracks fresh vacancies, one phone each, and
reports the median cost of one `track`; the sizes are timed in alternating rounds, and the
ratio is against the smallest pool, measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from datetime import datetime, timezone

from calltrack import CallTracker, PoolNumber
from calltrack.storage.memory import MemoryStorage
from calltrack.testing import FakeClock

T0 = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
PHONES = [f"+7495555{i:04d}" for i in range(200)]


def make_tracker(size: int) -> CallTracker:
    """A tracker whose pool holds ``size`` Moscow numbers, idle since various times."""
    storage = MemoryStorage()
    numbers = [PoolNumber(f"+7495{i:07d}", "fake", "RU", "495", T0, T0) for i in range(size)]
    with storage.transaction() as tx:
        tx.add_numbers(numbers)
    return CallTracker(storage, clock=FakeClock(T0))


def time_tracks(tracker: CallTracker, count: int, label: str) -> list[float]:
    """Seconds per `track` of ``count`` fresh vacancies (ids start with ``label``)."""
    costs = []
    for i in range(count):
        phone = PHONES[i % len(PHONES)]
        started = time.perf_counter()
        tracker.track(f"{label}-{i}", [phone], employer_id=f"emp-{i % 50}", title="Driver")
        costs.append(time.perf_counter() - started)
    return costs


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller pools, for a smoke run")
    args = parser.parse_args()
    sizes = [1_000, 10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    tracks = 500 if args.quick else 3_000
    trackers = {size: make_tracker(size) for size in sizes}
    costs: dict[int, list[float]] = {size: [] for size in sizes}
    for tracker in trackers.values():
        time_tracks(tracker, 200, "warm")  # warm the caches
    gc.collect()
    rounds = 6
    for r in range(rounds):  # alternate sizes, so that load from elsewhere falls on each
        for size, tracker in trackers.items():
            costs[size] += time_tracks(tracker, tracks // rounds, f"r{r}")
    medians = {size: statistics.median(found) for size, found in costs.items()}
    base = medians[sizes[0]]
    print(f"{'pool size':>10}  {'median track (us)':>18}  {'ratio':>6}")
    for size in sizes:
        print(f"{size:>10,}  {medians[size] * 1e6:>18.1f}  {medians[size] / base:>6.2f}")
    print(f"goal: the largest pool within 1.5x of {sizes[0]:,} numbers")


if __name__ == "__main__":
    main()
