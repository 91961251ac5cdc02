"""What `normalize_caller` costs for a caller never seen before, with and without the fast path.

Run: python benchmarks/bench_phones.py [--quick]

Each set holds distinct valid numbers, and the parse cache is cleared before every pass, so
every call is a new caller's. The fast path is switched off by replacing the function that
builds the number from "+digits" with one that always declines, which leaves exactly the full
phonenumbers parse. Both ways are timed in alternating rounds of the same run; the table gives
the median microseconds per number and the ratio slow / fast.

Sets: Russian mobiles as providers send them (+7...), the same without the plus, mobiles of
23 regions (E.164), and numbers written by a person
("+7 903 123-45-67"), which both ways parse in full and so show what the shape check costs.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

from calltrack.domain import phones


def _valid(e164: str) -> bool:
    number = phonenumbers.parse(e164, None)
    return phonenumbers.is_possible_number(number) and phonenumbers.is_valid_number(number)


def russian_mobiles(count: int) -> list[str]:
    """Distinct valid Russian mobile numbers in E.164, across the 9xx operator codes."""
    candidates = (f"+79{i % 100:02d}{i:07d}" for i in range(count * 10))
    found = [number for number in candidates if _valid(number)][:count]
    assert len(found) == count
    return found


# Regions that callers of a Russian-speaking job board come from, and some beyond.
REGIONS = [
    "RU", "KZ", "BY", "UA", "UZ", "KG", "TJ", "AM", "AZ", "GE", "MD", "TR",
    "US", "GB", "DE", "FR", "IT", "ES", "CN", "IN", "BR", "AR", "CI",
]  # fmt: skip


def many_countries(count: int) -> list[str]:
    """Distinct valid mobiles of `REGIONS`: example numbers with their tails renumbered."""
    bases = []
    for region in REGIONS:
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        assert example is not None
        bases.append(phonenumbers.format_number(example, PhoneNumberFormat.E164))
    found: list[str] = []
    for tail in range(10_000):
        found += [f"{base[:-4]}{tail:04d}" for base in bases if _valid(f"{base[:-4]}{tail:04d}")]
        if len(found) >= count:
            break
    return found[:count]


def written(e164s: list[str]) -> list[str]:
    """The numbers as a person writes them: +7 903 123-45-67."""
    return [
        phonenumbers.format_number(phonenumbers.parse(n, None), PhoneNumberFormat.INTERNATIONAL)
        for n in e164s
    ]


def _declined(raw: str) -> PhoneNumber | None:
    del raw
    return None


@contextmanager
def slow_path() -> Iterator[None]:
    """Run with the fast path switched off: every number is parsed in full."""
    fast = phones._build_e164  # noqa: SLF001 - the benchmark compares the module's own paths
    phones._build_e164 = _declined  # noqa: SLF001 - ditto
    try:
        yield
    finally:
        phones._build_e164 = fast  # noqa: SLF001 - ditto


def time_pass(
    numbers: list[str], normalize: Callable[[str | None, str | None], str | None]
) -> float:
    """Microseconds per number for one pass over numbers nobody has called from yet."""
    phones._parse.cache_clear()  # noqa: SLF001 - every caller must be new
    gc.collect()
    started = time.perf_counter()
    for raw in numbers:
        normalize(raw, "RU")
    return (time.perf_counter() - started) / len(numbers) * 1e6


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer numbers, for a smoke run")
    args = parser.parse_args()
    count = 1_000 if args.quick else 5_000
    rounds = 4 if args.quick else 8
    ru = russian_mobiles(count)
    sets = {
        "RU mobiles, E.164": ru,
        "RU mobiles, no plus": [n[1:] for n in ru],
        "mobiles of 23 regions": many_countries(count),
        "written by a person": written(ru),
    }
    for numbers in sets.values():  # both ways must agree, and metadata gets loaded
        fast = [phones.normalize_caller(n, "RU") for n in numbers]
        with slow_path():
            phones._parse.cache_clear()  # noqa: SLF001 - a fresh cache for the slow path
            slow = [phones.normalize_caller(n, "RU") for n in numbers]
        assert fast == slow
        assert None not in fast
    costs: dict[tuple[str, str], list[float]] = {}
    # Alternate the ways, so that load from elsewhere falls on both; each way goes first in
    # half the rounds, as the set timed before leaves the regex cache warm for other patterns.
    for r in range(rounds):
        ways = ["fast", "slow"] if r % 2 == 0 else ["slow", "fast"]
        for name, numbers in sets.items():
            for way in ways:
                with slow_path() if way == "slow" else nullcontext():
                    cost = time_pass(numbers, phones.normalize_caller)
                costs.setdefault((name, way), []).append(cost)
    print(f"{len(ru):,} distinct numbers per set, {rounds} alternating rounds, medians")
    print(f"{'set':<22} {'slow (us)':>10} {'fast (us)':>10} {'slow/fast':>10}")
    for name in sets:
        slow_us = statistics.median(costs[name, "slow"])
        fast_us = statistics.median(costs[name, "fast"])
        print(f"{name:<22} {slow_us:>10.2f} {fast_us:>10.2f} {slow_us / fast_us:>10.2f}")


if __name__ == "__main__":
    main()
