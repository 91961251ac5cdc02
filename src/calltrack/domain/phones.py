"""Phone numbers: parsed with phonenumbers, stored and compared as E.164."""

from __future__ import annotations

import functools

import phonenumbers
from phonenumbers import PhoneNumberFormat

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
    try:
        parsed = phonenumbers.parse(raw, region)
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
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber(raw, "wrong number of digits for its country")
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(raw, "not a valid number in its country")
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


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
