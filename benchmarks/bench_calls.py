"""Whole simulated calls against the bare domain calls they make.

Run: python benchmarks/bench_calls.py [--quick]

A whole call goes through CallSimulator: four signed webhooks (inbound, whisper, dial result,
recording) verified, parsed, handled and rendered by FakeProvider and WebhookHandler. The
bare baseline hands the same four normalized events straight to `CallTracker.handle`. Both
run on MemoryStorage in the same process, in alternating rounds; the ratio is the cost of
the webhook path over the domain work.
"""

from __future__ import annotations

import argparse
import time

from calltrack import (
    CallTracker,
    DialResult,
    DialStatus,
    InboundCall,
    RecordingReady,
    Settings,
    SpamPolicy,
    WhisperRequest,
)
from calltrack.storage.memory import MemoryStorage
from calltrack.testing import CallSimulator, FakeClock, FakeDirectory

CALLERS = [f"+7903{i:07d}" for i in range(500)]


def make_tracker() -> tuple[CallTracker, str]:
    """A tracker with one tracked vacancy and callers with resumes; no spam limits."""
    directory = FakeDirectory()
    for i, caller in enumerate(CALLERS):
        directory.add(caller, f"Candidate {i}", resume_url=f"https://r.example.com/{i}")
    tracker = CallTracker(
        MemoryStorage(),
        directory=directory,
        clock=FakeClock(),
        settings=Settings(spam=SpamPolicy(max_calls=0, max_vacancies=0)),
    )
    tracker.add_numbers(["+74951200001"], provider="fake")
    (assignment,) = tracker.track("v1", ["+74955550101"], employer_id="e1", title="Driver")
    return tracker, assignment.virtual_number


def simulated(count: int, offset: int) -> float:
    """Seconds per whole call through the webhook path."""
    tracker, number = make_tracker()
    sim = CallSimulator(tracker)
    started = time.perf_counter()
    for i in range(count):
        sim.call(CALLERS[i % len(CALLERS)], number, call_id=f"S{offset}-{i}", talk_seconds=30)
    return (time.perf_counter() - started) / count


def bare(count: int, offset: int) -> float:
    """Seconds per call made of the same four events handed to the tracker directly."""
    tracker, number = make_tracker()
    started = time.perf_counter()
    for i in range(count):
        call_id = f"B{offset}-{i}"
        tracker.handle(InboundCall("fake", call_id, CALLERS[i % len(CALLERS)], number))
        tracker.handle(WhisperRequest("fake", call_id))
        tracker.handle(DialResult("fake", call_id, DialStatus.ANSWERED, 30, call_id + "-leg"))
        tracker.handle(RecordingReady("fake", call_id, call_id + "-rec", "https://r/x.mp3", 30))
    return (time.perf_counter() - started) / count


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls, for a smoke run")
    args = parser.parse_args()
    count = 300 if args.quick else 3_000
    rounds = 3 if args.quick else 5
    sims, bares = [], []
    for r in range(rounds):  # alternate, so that load from elsewhere falls on both
        sims.append(simulated(count, r))
        bares.append(bare(count, r))
    best_sim, best_bare = min(sims), min(bares)
    print(f"{'path':<28}{'per call (us)':>14}{'calls/s':>10}")
    print(f"{'bare domain (tracker.handle)':<28}{best_bare * 1e6:>14.1f}{1 / best_bare:>10.0f}")
    print(f"{'simulated (webhook path)':<28}{best_sim * 1e6:>14.1f}{1 / best_sim:>10.0f}")
    print(f"ratio simulated / bare: {best_sim / best_bare:.2f} (goal: at most 3)")


if __name__ == "__main__":
    main()
