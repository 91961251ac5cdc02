"""CallSimulator: plays whole calls through the webhook path, as a provider would."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from typing import Any

import attrs

from calltrack.domain.model import DialStatus
from calltrack.testing._fakes import FakeClock
from calltrack.testing._provider import DIAL_STATUS_WORDS, FakeProvider
from calltrack.tracker import CallTracker
from calltrack.webhooks import WebhookHandler, WebhookResponse

__all__ = ["CallOutcome", "CallSimulator", "SimulatedCall"]


class CallOutcome(enum.Enum):
    """How a simulated call goes once the real phone rings."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CALLER_HANGS_UP = "caller_hangs_up"
    """The caller gives up while the real phone still rings."""


_STATUS = {
    CallOutcome.ANSWERED: DialStatus.ANSWERED,
    CallOutcome.NO_ANSWER: DialStatus.NO_ANSWER,
    CallOutcome.BUSY: DialStatus.BUSY,
    CallOutcome.FAILED: DialStatus.FAILED,
    CallOutcome.CALLER_HANGS_UP: DialStatus.CANCELED,
}


@attrs.define
class SimulatedCall:
    """What happened on one simulated call.

    Attributes:
        call_id: The provider's id of the caller's leg.
        caller_heard: Everything said to the caller, in order.
        recruiter_heard: Everything said to the recruiter, in order.
        rejected: The call was refused without being answered (spam).
        forwarded_to: The real phone that was dialled, if any.
        caller_id_shown: The number the recruiter's phone showed.
        bridged: The caller and the recruiter talked.
        recorded: A recording was made and reported.
        statuses: The HTTP status of every webhook of the call, in order.
    """

    call_id: str
    caller_heard: list[str] = attrs.field(factory=list)
    recruiter_heard: list[str] = attrs.field(factory=list)
    rejected: bool = False
    forwarded_to: str | None = None
    caller_id_shown: str | None = None
    bridged: bool = False
    recorded: bool = False
    statuses: list[int] = attrs.field(factory=list)


class CallSimulator:
    """Drives whole calls against a tracker through :class:`~calltrack.webhooks.WebhookHandler`.

    Args:
        tracker: The tracker under test.
        provider: The fake provider to speak as; a new one by default.
        handler: The webhook handler to send through; one over ``provider`` by default.
    """

    def __init__(
        self,
        tracker: CallTracker,
        provider: FakeProvider | None = None,
        handler: WebhookHandler | None = None,
    ) -> None:
        """Set up the simulator."""
        self.tracker = tracker
        self.provider = provider or FakeProvider()
        self.handler = handler or WebhookHandler(tracker, [self.provider])
        self._count = 0

    def __repr__(self) -> str:
        """Show how many calls were played."""
        return f"<CallSimulator calls={self._count}>"

    def send(self, event: str, payload: dict[str, Any]) -> WebhookResponse:
        """Send one signed webhook and return the response."""
        request = self.provider.request(event, payload)
        return self.handler.handle(f"/{self.provider.name}/{event}", request)

    def call(  # noqa: C901, PLR0912 - a call is a script of steps
        self,
        caller: str,
        to: str,
        *,
        outcome: CallOutcome = CallOutcome.ANSWERED,
        talk_seconds: int = 60,
        ring_seconds: int = 8,
        press: str | None = None,
        recording: bool = True,
        call_id: str | None = None,
    ) -> SimulatedCall:
        """Play one call from ``caller`` to the virtual number ``to``.

        Args:
            caller: The caller id the provider reports (``""`` or ``"anonymous"`` if withheld).
            to: The virtual number dialled.
            outcome: What the real phone does.
            talk_seconds: How long they talk, if answered.
            ring_seconds: How long the real phone rings before it is answered or given up
                (the tracker's clock moves by it, if it is a FakeClock).
            press: What the recruiter presses when asked to accept (the accept key if None).
            recording: Whether the provider reports a recording after an answered call.
            call_id: The provider's call id; a fresh one by default.
        """
        self._count += 1
        sim = SimulatedCall(call_id or f"FAKE{self._count:08d}")
        clock = self.tracker.clock
        voice = self.send("voice", {"call_id": sim.call_id, "from": caller, "to": to})
        sim.statuses.append(voice.status)
        if voice.status != 200:
            return sim
        actions = _actions(voice)
        dial: dict[str, Any] | None = None
        for action in actions:
            if "say" in action:
                sim.caller_heard.append(action["say"])
            elif "reject" in action:
                sim.rejected = True
            elif "dial" in action:
                dial = action
        if dial is None:
            return sim
        sim.forwarded_to = dial["dial"]
        sim.caller_id_shown = dial["caller_id"]
        status = _STATUS[outcome]
        if isinstance(clock, FakeClock):
            clock.advance(seconds=ring_seconds)
        if outcome is CallOutcome.ANSWERED:
            whisper = self.send("whisper", {"call_id": sim.call_id})
            sim.statuses.append(whisper.status)
            gather = None
            for action in _actions(whisper):
                if "say" in action:
                    sim.recruiter_heard.append(action["say"])
                elif "gather" in action:
                    gather = action
            if gather is not None:
                digits = gather["gather"] if press is None else press
                accepted = self.send("accept", {"call_id": sim.call_id, "digits": digits})
                sim.statuses.append(accepted.status)
                if any("hangup" in a for a in _actions(accepted)):
                    status = DialStatus.NOT_ACCEPTED
        sim.bridged = status is DialStatus.ANSWERED
        if isinstance(clock, FakeClock):
            clock.advance(seconds=talk_seconds if sim.bridged else 0)
        result: dict[str, Any] = {
            "call_id": sim.call_id,
            "status": DIAL_STATUS_WORDS[status],
            "dial_call_id": sim.call_id + "-leg",
        }
        if sim.bridged:
            result["duration"] = talk_seconds
        done = self.send("dial", result)
        sim.statuses.append(done.status)
        sim.caller_heard += [a["say"] for a in _actions(done) if "say" in a]
        if recording and sim.bridged and any("record" in a for a in actions):
            ready = self.send(
                "recording",
                {
                    "call_id": sim.call_id,
                    "recording_id": sim.call_id + "-rec",
                    "url": f"https://recordings.example.com/{sim.call_id}.mp3",
                    "duration": talk_seconds,
                },
            )
            sim.statuses.append(ready.status)
            sim.recorded = ready.status == 200
        if isinstance(clock, FakeClock):
            clock.advance(seconds=1)
        return sim

    def burst(self, caller: str, numbers: Sequence[str], **kwargs: Any) -> list[SimulatedCall]:  # noqa: ANN401
        """Play one call from ``caller`` to each of ``numbers``, back to back."""
        return [self.call(caller, number, **kwargs) for number in numbers]


def _actions(response: WebhookResponse) -> list[dict[str, Any]]:
    if not response.body:
        return []
    actions: list[dict[str, Any]] = json.loads(response.body)["actions"]
    return actions
