"""Phone numbers: parsed with phonenumbers, stored and compared as E.164."""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import (
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberFormat,
)

from calltrack.errors import InvalidPhoneNumber

__all__ = [
    "area_of",
    "format_international",
    "format_national",
    "normalize_caller",
    "parse_phone",
    "region_of",
]

_WITHHELD = frozenset(
    {"", "anonymous", "restricted", "unknown", "private", "unavailable", "withheld", "blocked"}
)


def parse_phone(raw: str, region: str | None = None) -> str:
    """Parse a phone number written by a person and return it in E.164.

    Args:
        raw: The number as written: ``"+7 916 123-45-67"``, ``"8 (916) 123-45-67"``.
        region: The ISO 3166 region to read national numbers in (``"RU"``); without it
            the number must start with ``+``.

    Raises:
        InvalidPhoneNumber: With the text and the reason it was refused.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhoneNumber(str(raw), "empty")
    return _parse(raw.strip(), region)


@functools.lru_cache(maxsize=65536)
def _parse(raw: str, region: str | None) -> str:
    parsed = _build_e164(raw)
    if parsed is None:
        parsed = _parse_any(raw, region)
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber(raw, "wrong number of digits for its country")
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(raw, "not a valid number in its country")
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def _parse_any(raw: str, region: str | None) -> PhoneNumber:
    """Parse any written form with phonenumbers, turning its errors into ours."""
    try:
        return phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        reason = {
            phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: (
                "no country code, and no default region to read it in"
                if region is None
                else "unknown country code"
            ),
            phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
            phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
            phonenumbers.NumberParseException.TOO_LONG: "too long",
        }.get(exc.error_type, "cannot be parsed")
        raise InvalidPhoneNumber(raw, reason) from None


# What phonenumbers.parse does with "+" and ASCII digits, and how the fast path follows it:
# - the digits after "+" start with the country calling code, the first of their prefixes of
#   one to three digits that is a known code (codes are prefix-free, so at most one is);
# - the rest is the national number, unless the national prefix of the code's main region
#   matches its start: then parse may strip it (+44 020... is read as +44 20...), and the
#   fast path leaves such text to parse. A match that takes no digits and captures nothing
#   (Argentina's prefix is all optional) strips nothing. The default region never changes
#   this: parse reads the number with it only when it is the main region itself, or "001"
#   that has no metadata and so strips nothing;
# - parse refuses fewer than 3 digits after "+", a national number of fewer than 2 or more
#   than 17 digits, and unknown codes: those go to parse too, for its exact error;
# - zeros that lead the national number are kept as italian_leading_zero and
#   number_of_leading_zeros (+39 06..., +225 07...), exactly as parse sets them.
_MAX_CODE_DIGITS = 3
_MIN_NATIONAL_DIGITS = 2
_MAX_NATIONAL_DIGITS = 17
_CODE_TO_REGIONS = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
_ANY_DIGIT = re.compile(r"\d")


def _build_e164(raw: str) -> PhoneNumber | None:
    """Build the number phonenumbers.parse would give for ``+`` and digits, or ``None``.

    The default region plays no part in reading such text. ``None`` means the text is not
    of that shape, or is a case this path leaves to parse (errors, a national prefix to
    strip); the caller then parses it the full way.
    """
    digits = raw[1:]
    if raw[:1] != "+" or not (digits.isascii() and digits.isdigit()) or digits[0] == "0":
        return None
    for length in range(1, _MAX_CODE_DIGITS + 1):
        code = int(digits[:length])
        if code in _CODE_TO_REGIONS:
            national = digits[length:]
            break
    else:
        return None
    if not _MIN_NATIONAL_DIGITS <= len(national) <= _MAX_NATIONAL_DIGITS:
        return None
    prefix = _national_prefix(code, _CODE_TO_REGIONS[code][0])
    if prefix is not None:
        found = prefix.match(national)
        if found is not None and (found.end() > 0 or any(g is not None for g in found.groups())):
            return None
    number = PhoneNumber(country_code=code, national_number=int(national))
    if national[0] == "0":
        number.italian_leading_zero = True
        zeros = len(national) - len(national.lstrip("0"))
        zeros = min(zeros, len(national) - 1)  # parse always leaves one digit to the number
        if zeros != 1:
            number.number_of_leading_zeros = zeros
    return number


@functools.cache
def _national_prefix(code: int, main_region: str) -> re.Pattern[str] | None:
    """The pattern phonenumbers strips as a national prefix from numbers of ``code``."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, main_region)
    if metadata is None:
        return _ANY_DIGIT  # no metadata to follow: it matches, so every number goes to parse
    pattern = metadata.national_prefix_for_parsing
    return re.compile(pattern) if pattern else None


def normalize_caller(raw: str | None, region: str | None = None) -> str | None:
    """Return a caller id as E.164, or ``None`` when it is withheld or not a valid number.

    Providers send the caller id in several shapes: ``+79031234567``, ``79031234567``
    (international digits without the plus), ``anonymous``. A caller id is never a reason
    to fail a call, so this never raises.
    """
    if raw is None:
        return None
    text = raw.strip()
    if text.lower() in _WITHHELD:
        return None
    candidates = [text] if text.startswith("+") else ["+" + text, text]
    for candidate in candidates:
        try:
            return _parse(candidate, region)
        except InvalidPhoneNumber:
            continue
    return None


@functools.lru_cache(maxsize=65536)
def region_of(e164: str) -> str:
    """Return the ISO 3166 region of an E.164 number (``"RU"``), or ``"ZZ"`` if unknown."""
    parsed = phonenumbers.parse(e164, None)
    return phonenumbers.region_code_for_number(parsed) or "ZZ"


@functools.lru_cache(maxsize=65536)
def area_of(e164: str) -> str | None:
    """Return the area (geographic destination) code of an E.164 number, if it has one.

    Mobile and non-geographic numbers have none: ``area_of("+74951234567") == "495"``,
    ``area_of("+79161234567") is None``.
    """
    parsed = phonenumbers.parse(e164, None)
    length = phonenumbers.length_of_geographical_area_code(parsed)
    if length <= 0:
        return None
    return phonenumbers.national_significant_number(parsed)[:length]


def format_national(e164: str) -> str:
    """Format an E.164 number the way people of its country write it."""
    return phonenumbers.format_number(phonenumbers.parse(e164, None), PhoneNumberFormat.NATIONAL)


def format_international(e164: str) -> str:
    """Format an E.164 number for people abroad: ``+7 495 123-45-67``."""
    return phonenumbers.format_number(
        phonenumbers.parse(e164, None), PhoneNumberFormat.INTERNATIONAL
    )
