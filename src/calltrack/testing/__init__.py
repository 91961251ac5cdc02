"""Test helpers for calltrack and for applications that use it.

``FakeProvider`` and ``CallSimulator`` play whole calls without a telephony account;
``FakeDirectory``, ``RecordingNotifier`` and ``FakeClock`` stand in for the other ports.
The contract suites every adapter must pass live in
:mod:`calltrack.testing.storage_contract` and :mod:`calltrack.testing.provider_contract`
(they import pytest, so they are not imported here).
"""

from calltrack.testing._fakes import FakeClock, FakeDirectory, RecordingNotifier
from calltrack.testing._provider import FakeProvider
from calltrack.testing._simulator import CallOutcome, CallSimulator, SimulatedCall

__all__ = [
    "CallOutcome",
    "CallSimulator",
    "FakeClock",
    "FakeDirectory",
    "FakeProvider",
    "RecordingNotifier",
    "SimulatedCall",
]
