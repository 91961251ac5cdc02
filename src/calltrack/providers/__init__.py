"""Provider adapters, found by name.

Adapters are imported only when asked for, so that ``import calltrack`` loads no provider
code and no SDK. A third-party adapter registers itself with :func:`register_provider`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from calltrack.errors import ConfigurationError

__all__ = ["available_providers", "load_provider_class", "register_provider"]

_REGISTRY: dict[str, str] = {
    "fake": "calltrack.testing._provider:FakeProvider",
    "twilio": "calltrack.providers.twilio:TwilioProvider",
    "plivo": "calltrack.providers.plivo:PlivoProvider",
    "vonage": "calltrack.providers.vonage:VonageProvider",
}
_INVENTORIES: dict[str, str] = {
    "twilio": "calltrack.providers.twilio:TwilioInventory",
    "plivo": "calltrack.providers.plivo:PlivoInventory",
    "vonage": "calltrack.providers.vonage:VonageInventory",
}


def register_provider(name: str, adapter: str, inventory: str | None = None) -> None:
    """Make a provider adapter (and its number inventory) reachable by name.

    Args:
        name: The provider's name, also its webhook path segment.
        adapter: ``"package.module:ClassName"`` of the adapter.
        inventory: ``"package.module:ClassName"`` of its number inventory, if it has one.
    """
    _REGISTRY[name] = adapter
    if inventory is not None:
        _INVENTORIES[name] = inventory


def available_providers() -> Mapping[str, str]:
    """The registered provider names and where their adapters live."""
    return dict(_REGISTRY)


def _load(table: Mapping[str, str], name: str, what: str) -> Any:  # noqa: ANN401 - a class
    try:
        target = table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise ConfigurationError(f"no {what} named {name!r}; known: {known}") from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def load_provider_class(name: str) -> Any:  # noqa: ANN401 - a class
    """Import and return the adapter class registered as ``name``."""
    return _load(_REGISTRY, name, "provider")


def load_inventory_class(name: str) -> Any:  # noqa: ANN401 - a class
    """Import and return the number inventory class registered as ``name``."""
    return _load(_INVENTORIES, name, "number inventory")
