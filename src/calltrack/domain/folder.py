"""The Calls folder of a vacancy: filters, pages and cursors."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime

import attrs

from calltrack.domain.model import Call, CallRoute

__all__ = ["CallFilter", "CallPage", "Cursor"]


@attrs.frozen
class Cursor:
    """Where a page of the Calls folder ended: the last call shown (newest-first order).

    Its text form (:meth:`encode`) is opaque to users and safe in a URL.
    """

    started_at: datetime
    call_id: str

    def encode(self) -> str:
        """Return the cursor as URL-safe text."""
        raw = f"{self.started_at.isoformat()}|{self.call_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Read a cursor made by :meth:`encode`.

        Raises:
            ValueError: If the text is not such a cursor.
        """
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            when, call_id = raw.split("|", 1)
            started_at = datetime.fromisoformat(when)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ValueError(f"not a Calls folder cursor: {text!r}") from None
        if started_at.tzinfo is None:
            raise ValueError(f"not a Calls folder cursor: {text!r}")
        return cls(started_at, call_id)

    def sort_key(self) -> tuple[datetime, str]:
        """The key calls are ordered by (descending)."""
        return (self.started_at, self.call_id)


@attrs.frozen
class CallFilter:
    """Which calls of a vacancy to show.

    Attributes:
        missed: Only forwarded calls nobody answered.
        with_resume: Only calls from candidates with a resume.
        include_spam: Show spam calls too (hidden by default).
    """

    missed: bool = False
    with_resume: bool = False
    include_spam: bool = False

    def matches(self, call: Call) -> bool:
        """Whether ``call`` belongs in the filtered folder."""
        if call.route is CallRoute.SPAM and not self.include_spam:
            return False
        if self.missed and not call.missed:
            return False
        return not (self.with_resume and not call.has_resume)


@attrs.frozen
class CallPage:
    """One page of the Calls folder, newest first.

    Attributes:
        calls: The calls on the page.
        next_cursor: Pass it to get the next page; ``None`` on the last page.
    """

    calls: Sequence[Call]
    next_cursor: Cursor | None
