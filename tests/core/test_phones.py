"""Phone numbers: parsed with phonenumbers, stored as E.164, shown to people formatted."""

from __future__ import annotations

import pytest

from calltrack import InvalidPhoneNumber
from calltrack.domain.phones import (
    area_of,
    format_international,
    format_national,
    normalize_caller,
    parse_phone,
    region_of,
)


class TestParsing:
    """Numbers are parsed in the default region and stored as E.164."""

    @pytest.mark.parametrize(
        "written",
        ["+7 495 123-45-67", "8 (495) 123-45-67", "+74951234567", " 84951234567 "],
    )
    def test_national_and_international_forms_give_one_e164(self, written: str) -> None:
        assert parse_phone(written, "RU") == "+74951234567"

    def test_the_default_region_decides_how_national_numbers_read(self) -> None:
        assert parse_phone("020 7946 0018", "GB") == "+442079460018"
        with pytest.raises(InvalidPhoneNumber):
            parse_phone("020 7946 0018", "RU")

    @pytest.mark.parametrize(
        ("written", "reason"),
        [
            ("", "empty"),
            ("hello", "not a phone number"),
            ("+7 495 123", "wrong number of digits"),
            ("+7 000 000-00-00", "not a valid number"),
            ("4951234567", "no country code"),
        ],
    )
    def test_invalid_numbers_are_refused_with_the_reason(self, written: str, reason: str) -> None:
        region = None if written == "4951234567" else "RU"
        with pytest.raises(InvalidPhoneNumber, match=reason) as caught:
            parse_phone(written, region)
        assert caught.value.raw == written.strip()
        assert isinstance(caught.value, ValueError)


class TestCallerIds:
    """Caller ids never fail a call: withheld or invalid ones become None."""

    @pytest.mark.parametrize("raw", [None, "", "anonymous", "Restricted", "UNKNOWN", "12"])
    def test_withheld_or_invalid_caller_ids_are_none(self, raw: str | None) -> None:
        assert normalize_caller(raw, "RU") is None

    @pytest.mark.parametrize("raw", ["+79031234567", "79031234567", "89031234567"])
    def test_provider_shapes_of_a_number_normalize(self, raw: str) -> None:
        assert normalize_caller(raw, "RU") == "+79031234567"


class TestPlacesAndDisplay:
    """Country and area come from the number; people see it formatted."""

    def test_country_and_area(self) -> None:
        assert region_of("+74951234567") == "RU"
        assert area_of("+74951234567") == "495"
        assert area_of("+79161234567") is None
        assert region_of("+442079460018") == "GB"

    def test_display_formats(self) -> None:
        assert format_national("+74951234567") == "8 (495) 123-45-67"
        assert format_international("+74951234567") == "+7 495 123-45-67"
