"""The spam policy: which calls are refused before anyone answers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import attrs

from calltrack.domain.model import SpamReason

__all__ = ["CallerHistory", "SpamPolicy"]


def _numbers(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _prefixes(values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        return (values,)
    return tuple(values)


@attrs.frozen
class CallerHistory:
    """The calls one caller made recently: (when, to which vacancy), oldest first or any order."""

    calls: Sequence[tuple[datetime, str | None]] = ()


@attrs.frozen
class SpamPolicy:
    """Settings of the spam filter; each rule can be switched off.

    Attributes:
        blocked_numbers: Callers (E.164) that are always refused.
        blocked_prefixes: E.164 prefixes that are always refused (``"+7800"``).
        block_withheld: Refuse callers whose number is withheld or not a valid number.
        max_calls: Refuse a caller's call if they already made this many in ``calls_window``
            (0 switches the rule off).
        calls_window: The window of ``max_calls``.
        max_vacancies: Refuse a caller's call if, counting it, they dialled more than this many
            distinct vacancies in ``vacancies_window`` (0 switches the rule off).
        vacancies_window: The window of ``max_vacancies``.
    """

    blocked_numbers: frozenset[str] = attrs.field(default=frozenset(), converter=_numbers)
    blocked_prefixes: tuple[str, ...] = attrs.field(default=(), converter=_prefixes)
    block_withheld: bool = True
    max_calls: int = 10
    calls_window: timedelta = timedelta(hours=1)
    max_vacancies: int = 5
    vacancies_window: timedelta = timedelta(minutes=10)

    @property
    def history_window(self) -> timedelta:
        """How far back the tracker must look into a caller's calls for this policy."""
        return max(self.calls_window, self.vacancies_window)

    def check(
        self,
        caller: str | None,
        vacancy_id: str | None,
        now: datetime,
        history: CallerHistory,
    ) -> SpamReason | None:
        """Return why a call is spam, or ``None`` if it may go through.

        Args:
            caller: The caller's E.164 number, ``None`` when withheld or invalid.
            vacancy_id: The vacancy the dialled number stands for.
            now: When the call arrived.
            history: The caller's earlier calls (not counting this one).
        """
        if caller is None:
            return SpamReason.WITHHELD_CALLER_ID if self.block_withheld else None
        if caller in self.blocked_numbers or caller.startswith(self.blocked_prefixes):
            return SpamReason.BLOCKLISTED
        if self.max_calls > 0:
            since = now - self.calls_window
            recent = sum(1 for at, _ in history.calls if at > since)
            if recent >= self.max_calls:
                return SpamReason.TOO_MANY_CALLS
        if self.max_vacancies > 0 and vacancy_id is not None:
            since = now - self.vacancies_window
            vacancies = {v for at, v in history.calls if at > since and v is not None}
            vacancies.add(vacancy_id)
            if len(vacancies) > self.max_vacancies:
                return SpamReason.TOO_MANY_VACANCIES
        return None
