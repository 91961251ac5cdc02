"""Normalized provider events: what a provider adapter parses a webhook into.

Every event keeps the provider's raw payload (``raw``) and says which call it belongs to.
:attr:`idempotency_key` names the effect the event has, so that a webhook delivered twice,
or two events that mean the same thing, have that effect once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from calltrack.domain.model import DialStatus

__all__ = [
    "AcceptKey",
    "CallProgress",
    "DialResult",
    "InboundCall",
    "ProviderEvent",
    "RecordingReady",
    "WhisperRequest",
]

_EMPTY: Mapping[str, Any] = {}


@attrs.frozen
class InboundCall:
    """A caller dialled a virtual number; the provider waits for a document to run.

    Attributes:
        provider: The provider's name.
        call_id: The provider's id of the inbound leg.
        caller: The caller id as sent (``None`` if absent); normalized by the tracker.
        virtual_number: The number dialled, as sent.
    """

    provider: str
    call_id: str
    caller: str | None
    virtual_number: str
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)

    @property
    def idempotency_key(self) -> str:
        """The key of this event's effect: the call record."""
        return f"{self.provider}:{self.call_id}:inbound"


@attrs.frozen
class DialResult:
    """The forwarded leg to the real phone ended (or reached a state that decides the mark).

    A provider may report one leg in several events (Vonage sends ``answered`` and then
    ``completed``); the tracker merges them: an answered status is never downgraded,
    and talk time only grows.

    Attributes:
        provider: The provider's name.
        call_id: The provider's id of the *inbound* (caller's) leg.
        status: How the leg ended.
        talk_seconds: Talk time of the bridged conversation, when the event carries it.
        dial_call_id: The provider's id of the forwarded leg, when sent.
        recording_url: Link to a recording, for providers that send it with the result.
        final: Whether the caller's leg waits for a document after this event (the
            Dial ``action`` callbacks do) or the event is a notification only.
    """

    provider: str
    call_id: str
    status: DialStatus
    talk_seconds: int | None = None
    dial_call_id: str | None = None
    recording_url: str | None = None
    final: bool = True
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)

    @property
    def idempotency_key(self) -> str:
        """The key of this event's effect: one status (and talk time) of one forwarded leg.

        The talk time is part of it because one status may come twice with different
        news: Vonage reports ``answered`` and then ``completed`` with the duration, both
        answered, and the second must not be swallowed as a repeat of the first.
        """
        key = f"{self.provider}:{self.call_id}:dial:{self.dial_call_id or ''}:{self.status.value}"
        return key if self.talk_seconds is None else f"{key}:{self.talk_seconds}s"


@attrs.frozen
class RecordingReady:
    """The recording of a call can be fetched.

    Attributes:
        provider: The provider's name.
        call_id: The provider's id of the inbound leg.
        recording_id: The provider's id of the recording.
        url: Where to fetch it.
        duration_seconds: Its length, when sent.
    """

    provider: str
    call_id: str
    recording_id: str
    url: str
    duration_seconds: int | None = None
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)

    @property
    def idempotency_key(self) -> str:
        """The key of this event's effect: the recording attached to its call."""
        return f"{self.provider}:{self.call_id}:recording:{self.recording_id}"


@attrs.frozen
class WhisperRequest:
    """The recruiter picked up; the provider asks what to play them before bridging.

    Attributes:
        provider: The provider's name.
        call_id: The provider's id of the inbound (caller's) leg.
    """

    provider: str
    call_id: str
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)

    @property
    def idempotency_key(self) -> str:
        """Whispers have no effect; the key is given for completeness."""
        return f"{self.provider}:{self.call_id}:whisper"


@attrs.frozen
class AcceptKey:
    """The recruiter pressed keys (or none) after the whisper asked them to accept.

    Attributes:
        provider: The provider's name.
        call_id: The provider's id of the inbound (caller's) leg.
        digits: What was pressed; empty if nothing.
    """

    provider: str
    call_id: str
    digits: str
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)

    @property
    def idempotency_key(self) -> str:
        """Accepting has no stored effect; the key is given for completeness."""
        return f"{self.provider}:{self.call_id}:accept:{self.digits}"


@attrs.frozen
class CallProgress:
    """A status the tracker acknowledges and ignores (ringing, started, a child leg's progress).

    Attributes:
        provider: The provider's name.
        call_id: The call it concerns, if the payload names one.
        status: The provider's own status word.
    """

    provider: str
    call_id: str | None
    status: str
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)

    @property
    def idempotency_key(self) -> str:
        """Progress has no effect; the key is given for completeness."""
        return f"{self.provider}:{self.call_id}:progress:{self.status}"


ProviderEvent = (
    InboundCall | DialResult | RecordingReady | WhisperRequest | AcceptKey | CallProgress
)
"""Any event a provider adapter may parse a webhook into."""
