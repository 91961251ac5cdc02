"""The settings of a tracker."""

from __future__ import annotations

import enum
from datetime import timedelta

import attrs

from calltrack.domain.spam import SpamPolicy
from calltrack.errors import ConfigurationError

__all__ = ["CallerIdPolicy", "Settings"]


class CallerIdPolicy(enum.Enum):
    """Which number the recruiter's phone shows for a forwarded call."""

    CALLER = "caller"
    """The caller's own number (the default), so the recruiter can call back."""
    VIRTUAL = "virtual"
    """The virtual number, so the recruiter sees the call came through the board."""


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    del instance
    if value <= 0:
        raise ConfigurationError(f"Settings.{attribute.name} must be positive, not {value}")


@attrs.frozen
class Settings:
    """How a tracker behaves; every field has a default that suits a job board.

    Attributes:
        default_region: The region national numbers are read in (``"RU"``).
        quarantine: How long a released number rests before it is handed out again.
        ring_timeout: Seconds the real phone rings before the call counts as missed.
        record_calls: Record conversations (the greeting says they may be recorded).
        caller_id: Which number the recruiter sees.
        accept_key: If set (``"1"``), the recruiter must press it after the whisper, so
            that voicemail does not count as answered.
        spam: The spam policy.
        show_spam: Show spam calls in the Calls folder without being asked.
    """

    default_region: str | None = "RU"
    quarantine: timedelta = timedelta(days=60)
    ring_timeout: int = attrs.field(default=20, validator=_positive)
    record_calls: bool = True
    caller_id: CallerIdPolicy = CallerIdPolicy.CALLER
    accept_key: str | None = None
    spam: SpamPolicy = attrs.field(factory=SpamPolicy)
    show_spam: bool = False

    def __attrs_post_init__(self) -> None:
        """Refuse settings that would break the domain rules."""
        if self.quarantine < timedelta(0):
            raise ConfigurationError("Settings.quarantine must not be negative")
        if self.accept_key is not None and (
            len(self.accept_key) != 1 or self.accept_key not in "0123456789*#"
        ):
            raise ConfigurationError(
                f"Settings.accept_key must be one key of the phone pad, not {self.accept_key!r}"
            )
