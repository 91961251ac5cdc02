"""Decisions: what the tracker wants done with a call, for a provider adapter to render.

A provider adapter turns each decision into its own document (TwiML, Plivo XML, NCCO).
Decisions carry no URLs: the adapter knows where its own callbacks live.
"""

from __future__ import annotations

import attrs

__all__ = [
    "Acknowledge",
    "Announce",
    "Bridge",
    "Decision",
    "Forward",
    "Hangup",
    "Prompt",
    "Reject",
    "Whisper",
]


@attrs.frozen
class Prompt:
    """A sentence to speak to someone on the call.

    Attributes:
        text: The words; may contain text typed by users (a vacancy title), so renderers
            must escape it.
        language: A BCP 47 language tag for text-to-speech (``"ru-RU"``).
        voice: A provider voice name, if one was configured.
    """

    text: str
    language: str
    voice: str | None = None


@attrs.frozen
class Forward:
    """Greet the caller and forward the call to the real phone at once.

    Attributes:
        call_id: The provider's id of the inbound leg.
        greeting: Said to the caller first.
        real_number: The real phone to dial, E.164.
        caller_id: The number the recruiter's phone shows, E.164.
        ring_timeout: Seconds to ring the real phone before giving up.
        record: Whether to record the conversation (two channels, from answer).
        whisper: Said to the recruiter after they pick up, before the legs are bridged.
        accept_key: If set, the recruiter must press this key to take the call, so that
            voicemail does not count as answered.
        accept_prompt: Asks the recruiter to press the key, after the whisper.
    """

    call_id: str
    greeting: Prompt
    real_number: str
    caller_id: str
    ring_timeout: int
    record: bool
    whisper: Prompt
    accept_key: str | None = None
    accept_prompt: Prompt | None = None


@attrs.frozen
class Whisper:
    """The document run on the recruiter's leg after they pick up.

    Attributes:
        prompt: "A call from a candidate from {brand}".
        accept_key: If set, wait for this key; without it, hang up the recruiter's leg.
        accept_prompt: Asks for the key.
        accept_timeout: Seconds to wait for the key.
        call_id: The provider's id of the inbound (caller's) leg, for providers whose
            accept callback would not otherwise name it (Vonage).
    """

    prompt: Prompt
    accept_key: str | None = None
    accept_prompt: Prompt | None = None
    accept_timeout: int = 5
    call_id: str | None = None


@attrs.frozen
class Reject:
    """Refuse the call without answering it, where the provider allows that.

    Attributes:
        reason: Why, for the logs: ``"spam"``.
        busy: Play a busy tone rather than "not in service", where the provider can.
    """

    reason: str
    busy: bool = True


@attrs.frozen
class Announce:
    """Say something and hang up (number not in service; the vacancy no longer takes calls)."""

    prompt: Prompt


@attrs.frozen
class Hangup:
    """End the caller's leg after the forwarded leg ended, optionally saying something first."""

    prompt: Prompt | None = None


@attrs.frozen
class Bridge:
    """The recruiter accepted: let the legs be bridged.

    Attributes:
        call_id: The provider's id of the inbound (caller's) leg, for providers that must
            report the acceptance back to calltrack themselves (Vonage).
    """

    call_id: str | None = None


@attrs.frozen
class Acknowledge:
    """Nothing to do: answer the webhook with an empty document."""


Decision = Forward | Whisper | Reject | Announce | Hangup | Bridge | Acknowledge
"""Any decision a provider adapter must render."""
