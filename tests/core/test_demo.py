"""The demo plays the seed's story end to end and prints what an employer sees."""

from __future__ import annotations

import io

from calltrack import CallRoute, Mark
from calltrack.demo import play


class TestDemo:
    """`calltrack demo` tells the whole story with no configuration."""

    def test_the_story(self) -> None:
        out = io.StringIO()
        tracker = play(out=out)
        card = tracker.contact_card("driver")
        numbers = [e.virtual_number for e in card.entries]
        numbers += [e.virtual_number for e in tracker.contact_card("warehouse").entries]
        assert len(set(numbers)) == 3
        driver = tracker.calls("driver", include_spam=True).calls
        assert {c.mark for c in driver if c.mark} == {Mark.RESPONSE_BY_CALL, Mark.MISSED_CALL}
        warehouse = tracker.calls("warehouse", include_spam=True).calls
        assert sum(c.route is CallRoute.SPAM for c in warehouse) == 2
        assert [c.route for c in tracker.calls("courier").calls] == [CallRoute.VACANCY_CLOSED]
        assert len(tracker.responses(employer_id="northwind")) == 2
        text = out.getvalue()
        for heading in (
            "Calls folder: Truck driver",
            "Truck driver, filter: missed calls",
            "Truck driver, filter: with a resume",
            'Responses in "Unsorted"',
            "Notifications sent to candidates",
            "Statistics",
        ):
            assert heading in text
        assert "No resume" in text
        assert "Missed call" in text
        assert "Response by call" in text
