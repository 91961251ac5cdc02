"""Fakes of the small ports: a clock that moves when told, a directory, a notifier."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from calltrack.domain.model import Candidate, Notification
from calltrack.domain.phones import parse_phone

__all__ = ["FakeClock", "FakeDirectory", "RecordingNotifier"]


class FakeClock:
    """A clock that stands still until a test moves it.

    Args:
        start: The first time it shows (UTC); 2026-01-05 09:00 by default.
    """

    def __init__(self, start: datetime | None = None) -> None:
        """Set the clock."""
        self.current = start or datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
        if self.current.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")

    def __repr__(self) -> str:
        """Show the time."""
        return f"<FakeClock {self.current.isoformat()}>"

    def now(self) -> datetime:
        """Return the time the clock shows."""
        return self.current

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move the clock forward (``advance(minutes=5)``) and return the new time."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("a FakeClock never goes back")
        self.current += step
        return self.current


class FakeDirectory:
    """A candidate directory in a dict: who calls from which number.

    Args:
        region: The region to read national numbers in when adding candidates.
    """

    def __init__(self, region: str | None = "RU") -> None:
        """Make an empty directory."""
        self.region = region
        self.by_phone: dict[str, Candidate] = {}
        self.lookups: list[str] = []

    def __repr__(self) -> str:
        """Show the size."""
        return f"<FakeDirectory candidates={len(self.by_phone)}>"

    def add(
        self,
        phone: str,
        name: str,
        *,
        resume_url: str | None = None,
        candidate_id: str | None = None,
    ) -> Candidate:
        """Add a candidate who calls from ``phone``; without ``resume_url`` they have no resume."""
        e164 = parse_phone(phone, self.region)
        candidate = Candidate(candidate_id or f"cand-{e164.lstrip('+')}", name, resume_url)
        self.by_phone[e164] = candidate
        return candidate

    def lookup(self, phone: str) -> Candidate | None:
        """Return the candidate behind ``phone`` (E.164), recording the look-up."""
        self.lookups.append(phone)
        return self.by_phone.get(phone)


class RecordingNotifier:
    """A notifier that keeps what it was asked to send, so that tests can read it.

    Args:
        fail_times: Raise this many times before accepting, to test retries.
    """

    def __init__(self, fail_times: int = 0) -> None:
        """Start with nothing sent."""
        self.sent: list[Notification] = []
        self.fail_times = fail_times

    def __repr__(self) -> str:
        """Show how many were sent."""
        return f"<RecordingNotifier sent={len(self.sent)}>"

    def notify(self, notification: Notification) -> None:
        """Keep the notification (or fail, while ``fail_times`` lasts)."""
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("the notifier is down (RecordingNotifier.fail_times)")
        self.sent.append(notification)

    def texts(self) -> list[str]:
        """The texts sent, in order."""
        return [n.text for n in self.sent]

    def extend(self, notifications: Iterable[Notification]) -> None:
        """Add notifications as if they had been sent (for fixtures)."""
        self.sent.extend(notifications)
