"""The demo over HTTP: ``calltrack serve --demo`` sets the scene, ``calltrack simulate`` calls.

The scene is the demo's job board: two vacancies (one with two phones), a third whose
vacancy closed, three candidates in the directory. The pool is filled and the vacancies
tracked only while the pool is empty, so that on a fresh storage the numbers come out the
same every time and ``simulate`` knows which to dial without asking the server.
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from calltrack.domain.model import DialStatus
from calltrack.domain.prompts import Prompts
from calltrack.domain.settings import Settings
from calltrack.domain.spam import SpamPolicy
from calltrack.testing._fakes import FakeDirectory
from calltrack.tracker import CallTracker

__all__ = ["DEMO_POOL", "SCRIPT", "DemoCall", "demo_directory", "demo_prompts", "demo_settings"]

DEMO_POOL = tuple(f"+7495120{i:04d}" for i in range(1, 13))
DRIVER_1, DRIVER_2, WAREHOUSE, COURIER = DEMO_POOL[:4]
UNUSED = DEMO_POOL[-1]
EMPLOYER = "northwind"


@attrs.frozen
class DemoCall:
    """One call of the script: who calls which number, how it ends, and what it shows."""

    caller: str | None
    virtual: str
    outcome: DialStatus
    shows: str
    talk_seconds: int = 60


SCRIPT = (
    DemoCall("+79031000001", DRIVER_1, DialStatus.ANSWERED, "Response by call", 184),
    DemoCall("+79031000002", DRIVER_2, DialStatus.NO_ANSWER, "Missed call"),
    DemoCall("+79031000003", WAREHOUSE, DialStatus.ANSWERED, "No resume", 45),
    DemoCall("+79039999999", WAREHOUSE, DialStatus.CANCELED, "Missed call"),
    DemoCall("+79039999999", WAREHOUSE, DialStatus.CANCELED, "Missed call"),
    DemoCall("+79039999999", WAREHOUSE, DialStatus.CANCELED, "Spam (too many calls)"),
    DemoCall(None, DRIVER_1, DialStatus.ANSWERED, "Spam (withheld number)"),
    DemoCall("+79031000002", COURIER, DialStatus.ANSWERED, "After close"),
    DemoCall("+79031000001", UNUSED, DialStatus.ANSWERED, "Not in service"),
)
"""The calls ``calltrack simulate`` makes, in order."""


def demo_settings() -> Settings:
    """The demo's settings: a caller may call twice an hour."""
    return Settings(spam=SpamPolicy(max_calls=2, calls_window=timedelta(hours=1)))


def demo_prompts() -> Prompts:
    """The demo's prompts."""
    return Prompts(brand="Jobs Board", locale="en")


def demo_directory() -> FakeDirectory:
    """The demo's candidates: two with a resume, one without."""
    directory = FakeDirectory()
    directory.add("+79031000001", "Anna Petrova", resume_url="https://jobs.example.com/r/anna")
    directory.add("+79031000002", "Oleg Ivanov", resume_url="https://jobs.example.com/r/oleg")
    directory.add("+79031000003", "Ivan Sidorov")
    return directory


def seed(tracker: CallTracker, provider: str) -> bool:
    """Fill the pool and track the demo's vacancies, if the pool is empty.

    Returns:
        Whether anything was added.
    """
    if tracker.pool_counts().total:
        return False
    tracker.add_numbers(DEMO_POOL, provider=provider)
    tracker.track(
        "driver", ["+74955550101", "+79165550102"], employer_id=EMPLOYER, title="Truck driver"
    )
    tracker.track("warehouse", ["+74955550201"], employer_id=EMPLOYER, title="Warehouse manager")
    tracker.track("courier", ["+74955550301"], employer_id=EMPLOYER, title="Courier")
    tracker.untrack("courier")
    return True
