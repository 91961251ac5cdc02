"""Phone numbers: parsed with phonenumbers, stored as E.164, shown to people formatted."""

from __future__ import annotations

import string
from unittest import mock

import phonenumbers
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from calltrack import InvalidPhoneNumber
from calltrack.domain.phones import (
    _build_e164,
    _parse,
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


# The fast path for "+digits" must agree with phonenumbers itself, called here as the
# reference: the same E.164 text, or the same refusal with the same reason.

_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_NO_REGION_REASON = "no country code, and no default region to read it in"
REGIONS = [None, "RU", "KZ", "US", "IT", "GB", "AR", "001", "ru"]
CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def reference(raw: str, region: str | None) -> str:
    """E.164 from phonenumbers, or ``"refused: <reason>"`` with the reason calltrack gives."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE and region is None:
            return f"refused: {_NO_REGION_REASON}"
        return f"refused: {_REASONS.get(exc.error_type, 'cannot be parsed')}"
    if not phonenumbers.is_possible_number(parsed):
        return "refused: wrong number of digits for its country"
    if not phonenumbers.is_valid_number(parsed):
        return "refused: not a valid number in its country"
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def outcome(raw: str, region: str | None) -> str:
    """What calltrack gives, in the shape of `reference`."""
    try:
        found = _parse(raw, region)
    except InvalidPhoneNumber as exc:
        return f"refused: {exc.reason}" if exc.raw == raw else f"refused {exc.raw!r} instead"
    return found


def reference_caller(raw: str, region: str | None) -> str | None:
    """`normalize_caller` as phonenumbers alone would answer it."""
    candidates = [raw] if raw.startswith("+") else ["+" + raw, raw]
    for candidate in candidates:
        found = reference(candidate, region)
        if not found.startswith("refused"):
            return found
    return None


def _examples() -> list[str]:
    """Example numbers of every region and type phonenumbers knows, and non-geographic ones."""
    found: set[str] = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in vars(PhoneNumberType).values():
            if not isinstance(kind, int):
                continue
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.add(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            found.add(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    return sorted(found)


EXAMPLES = _examples()
DIGITS = st.text(alphabet=string.digits, min_size=0, max_size=18)

any_plus_digits = st.text(alphabet=string.digits, min_size=1, max_size=20).map(lambda d: "+" + d)
code_and_national = st.builds(
    lambda code, national: f"+{code}{national}", st.sampled_from(CODES), DIGITS
)
zeros_first = st.builds(
    lambda code, zeros, rest: f"+{code}{'0' * zeros}{rest}",
    st.sampled_from(CODES),
    st.integers(min_value=1, max_value=18),
    st.text(alphabet=string.digits, max_size=10),
)


@st.composite
def altered_examples(draw: st.DrawFn) -> str:
    """A real example number with its tail redrawn, or a zero or digits put after the code."""
    number = draw(st.sampled_from(EXAMPLES))
    cut = draw(st.integers(min_value=2, max_value=len(number)))
    return number[:cut] + draw(DIGITS)


class TestE164FastPath:
    """ "+digits" is read without the full parse, and exactly as the full parse reads it."""

    @settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        raw=st.one_of(any_plus_digits, code_and_national, zeros_first, altered_examples()),
        region=st.sampled_from(REGIONS),
    )
    @example(raw="+390612345678", region=None)
    @example(raw="+3900000000", region=None)
    @example(raw="+2250712345678", region="RU")
    def test_agrees_with_phonenumbers(self, raw: str, region: str | None) -> None:
        built = _build_e164(raw)
        if built is not None:
            assert built == phonenumbers.parse(raw, region)
        assert outcome(raw, region) == reference(raw, region)

    @pytest.mark.parametrize("region", [None, "RU"])
    def test_every_example_number_agrees(self, region: str | None) -> None:
        wrong = [
            raw for raw in EXAMPLES if not outcome(raw, region) == reference(raw, region) == raw
        ]
        assert wrong == []

    def test_example_numbers_mostly_take_the_fast_path(self) -> None:
        fast = [raw for raw in EXAMPLES if _build_e164(raw) is not None]
        assert len(fast) > 0.9 * len(EXAMPLES)

    @pytest.mark.parametrize(
        ("raw", "expected", "fast"),
        [
            ("+390612345678", "+390612345678", True),  # Rome: the 0 belongs to the number
            ("+3900612345678", "refused: not a valid number in its country", True),
            ("+39000000", "refused: not a valid number in its country", True),
            ("+3906", "refused: wrong number of digits for its country", True),
            ("+2250712345678", "+2250712345678", True),  # Côte d'Ivoire mobile
            ("+2252721234567", "+2252721234567", True),  # Côte d'Ivoire landline
            ("+12015550123", "+12015550123", True),  # NANP
            ("+112015550123", "+12015550123", False),  # NANP with its national prefix 1
            ("+79031234567", "+79031234567", True),  # Russia
            ("+77012345678", "+77012345678", True),  # Kazakhstan shares +7
            ("+789031234567", "+79031234567", False),  # Russian national prefix 8
            ("+442079460018", "+442079460018", True),
            ("+4402079460018", "+442079460018", False),  # British national prefix 0
            ("+5491123456789", "+5491123456789", True),  # Argentina: its prefix is optional
            ("+54091123456789", "+5491123456789", False),
            ("+380441234567", "+380441234567", True),  # three-digit codes
            ("+998901234567", "+998901234567", True),
            ("+375291234567", "+375291234567", True),
            ("+80012345678", "+80012345678", True),  # non-geographic (freephone)
            ("+8081234567", "refused: wrong number of digits for its country", True),
            ("+9991234567", f"refused: {_NO_REGION_REASON}", False),  # no such code
            ("+0079031234567", f"refused: {_NO_REGION_REASON}", False),
            ("+", "refused: not a phone number", False),
            ("+7", "refused: not a phone number", False),
            ("+79", "refused: not a phone number", False),
            ("+790", "refused: wrong number of digits for its country", True),
            ("+7903123456", "refused: wrong number of digits for its country", True),
            ("+790312345678", "refused: wrong number of digits for its country", True),
            ("+7" + "9" * 18, "refused: too long", False),
            ("+7 903 123-45-67", "+79031234567", False),  # written by a person: full parse
            ("+7903123456\u0667", "+79031234567", False),  # a non-ASCII digit: full parse
        ],
    )
    def test_cases(self, raw: str, expected: str, fast: bool) -> None:
        _parse.cache_clear()
        assert (_build_e164(raw) is not None) is fast
        assert outcome(raw, None) == expected == reference(raw, None)

    def test_unknown_code_with_a_region_is_refused_as_unknown(self) -> None:
        assert outcome("+9991234567", "RU") == "refused: unknown country code"

    def test_the_fast_path_does_not_call_the_full_parse(self) -> None:
        _parse.cache_clear()
        with mock.patch.object(phonenumbers, "parse", side_effect=AssertionError("parsed")):
            assert parse_phone("+390612345678") == "+390612345678"
            assert normalize_caller("79161234567", "RU") == "+79161234567"
            with pytest.raises(InvalidPhoneNumber, match="not a valid number"):
                parse_phone("+70000000000")

    def test_results_stay_cached(self) -> None:
        _parse.cache_clear()
        parse_phone("+79031234567")
        parse_phone("+79031234567")
        assert _parse.cache_info().hits == 1


class TestCallerIdsAgreeWithPhonenumbers:
    """normalize_caller gives what phonenumbers gives, with or without the plus."""

    @settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        raw=st.one_of(any_plus_digits, code_and_national, zeros_first, altered_examples()).flatmap(
            lambda raw: st.sampled_from([raw, raw[1:]])
        ),
        region=st.sampled_from(REGIONS),
    )
    def test_caller_ids(self, raw: str, region: str | None) -> None:
        assert normalize_caller(raw, region) == reference_caller(raw, region)
