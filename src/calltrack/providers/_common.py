"""Helpers the provider adapters share: XML documents, fields, signatures."""

from __future__ import annotations

import hmac
import math
import warnings
from collections.abc import Iterable, Mapping

from calltrack.errors import MalformedWebhook

__all__ = [
    "any_matches",
    "element",
    "optional_field",
    "require_field",
    "seconds_field",
    "warn_unverified",
    "xml_document",
]


def element(
    name: str,
    attributes: Iterable[tuple[str, object]] = (),
    content: str | None = None,
    *,
    text: str | None = None,
) -> str:
    """Write one XML element.

    Args:
        name: The tag.
        attributes: ``(name, value)`` pairs in the order to write them; ``None`` values are
            left out, booleans are written ``true``/``false``.
        content: Child elements, already XML.
        text: Text content, escaped here (the two exclude each other).
    """
    # Imported here: xml.sax.saxutils loads urllib.request (about 18 ms), which adapters
    # that write their documents otherwise never need.
    from xml.sax.saxutils import escape, quoteattr  # noqa: PLC0415 - see above

    parts = [name]
    for key, value in attributes:
        if value is None:
            continue
        shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
        parts.append(f"{key}={quoteattr(shown)}")
    head = " ".join(parts)
    inner = escape(text) if text is not None else content
    if inner is None:
        return f"<{head}/>"
    return f"<{head}>{inner}</{name}>"


def xml_document(root: str, *children: str, declaration: bool = False) -> str:
    """Wrap children in a root element, with an XML declaration if asked."""
    body = element(root, content="".join(children)) if children else f"<{root}/>"
    if declaration:
        return '<?xml version="1.0" encoding="UTF-8"?>' + body
    return body


def require_field(params: Mapping[str, str], field: str) -> str:
    """Return a field that must be present and non-empty.

    Raises:
        MalformedWebhook: Naming the field.
    """
    value = params.get(field)
    if value is None or value == "":
        raise MalformedWebhook(f"the field {field!r} is missing", field=field)
    return value


def optional_field(params: Mapping[str, str], field: str) -> str | None:
    """Return a field, or ``None`` if it is absent or empty."""
    value = params.get(field)
    return value or None


def seconds_field(params: Mapping[str, str], field: str) -> int | None:
    """Return a field of whole seconds (``"42"``, also ``"42.0"``), or ``None`` if absent.

    Raises:
        MalformedWebhook: If it is present but not a non-negative number.
    """
    value = params.get(field)
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise MalformedWebhook(f"the field {field!r} is not a number", field=field) from None
    if not math.isfinite(seconds) or seconds < 0:
        raise MalformedWebhook(f"the field {field!r} is not a duration", field=field)
    return int(seconds)


def any_matches(given: str, expected: Iterable[str]) -> bool:
    """Whether ``given`` equals any of ``expected``, each compared in constant time."""
    found = False
    for candidate in expected:
        found |= hmac.compare_digest(given.encode(), candidate.encode())
    return found


def warn_unverified(provider: str) -> None:
    """Warn that a provider adapter was made with signature verification switched off."""
    warnings.warn(
        f"{provider} webhook signature verification is switched off; anyone who can reach "
        "the webhook URLs can forge calls",
        RuntimeWarning,
        stacklevel=3,
    )
