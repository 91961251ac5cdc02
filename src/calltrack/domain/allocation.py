"""Allocation: which real phones of a vacancy need a virtual number, and which let theirs go."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import attrs

from calltrack.domain.model import Assignment, PoolNumber
from calltrack.domain.phones import area_of, parse_phone, region_of

__all__ = ["TrackPlan", "normalize_phones", "pick_number", "plan_track", "quarantine_end"]


@attrs.frozen
class TrackPlan:
    """What ``track`` must do to make a vacancy's assignments match its phone list.

    Attributes:
        keep: Active assignments whose phone is still listed; they keep their numbers.
        add: Listed phones (E.164) that have no number yet, in the order listed.
        release: Active assignments whose phone is no longer listed.
    """

    keep: tuple[Assignment, ...]
    add: tuple[str, ...]
    release: tuple[Assignment, ...]


def normalize_phones(phones: Iterable[str], region: str | None) -> tuple[str, ...]:
    """Parse every phone to E.164 and drop repeats, keeping the order.

    Raises:
        InvalidPhoneNumber: For the first phone that is not valid, naming it and why.
    """
    seen: dict[str, None] = {}
    for raw in phones:
        seen.setdefault(parse_phone(raw, region), None)
    return tuple(seen)


def plan_track(active: Sequence[Assignment], phones: Sequence[str]) -> TrackPlan:
    """Plan the change from a vacancy's active assignments to a new list of real phones.

    Args:
        active: The vacancy's active assignments.
        phones: The real phones it lists now, E.164, without repeats.
    """
    by_phone = {a.real_number: a for a in active}
    wanted = set(phones)
    return TrackPlan(
        keep=tuple(a for a in active if a.real_number in wanted),
        add=tuple(p for p in phones if p not in by_phone),
        release=tuple(a for a in active if a.real_number not in wanted),
    )


def quarantine_end(released_at: datetime, quarantine: timedelta) -> datetime:
    """When a number released at ``released_at`` may be handed out again."""
    return released_at + quarantine


def wanted_place(real_number: str) -> tuple[str, str | None]:
    """The (country, area) a virtual number for ``real_number`` should have."""
    return region_of(real_number), area_of(real_number)


def pick_number(
    numbers: Iterable[PoolNumber], country: str, area: str | None, now: datetime
) -> PoolNumber | None:
    """Choose a number the way every storage must: the reference rule, written plainly.

    Among the numbers available at ``now`` in ``country``, prefer those in ``area``; among
    those, the one idle longest; ties go to the smaller number. Storages implement the same
    rule with indexes; the contract tests compare them with this function.
    """
    best: tuple[bool, datetime, str] | None = None
    chosen: PoolNumber | None = None
    for number in numbers:
        if number.country != country or not number.is_available(now):
            continue
        rank = (
            number.area != area if area is not None else False,
            number.idle_since,
            number.number,
        )
        if best is None or rank < best:
            best, chosen = rank, number
    return chosen
