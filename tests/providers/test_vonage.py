"""The Vonage adapter: contract, SDK oracles, fixtures, inventory, whole calls."""

from __future__ import annotations

import pytest

from calltrack.testing.provider_contract import ProviderContract, ProviderHarness
from calltrack.testing.vonage import VonageHarness


class TestVonageProvider(ProviderContract):
    """The Vonage adapter passes the contract every provider adapter passes."""

    @pytest.fixture
    def harness(self) -> ProviderHarness:
        return VonageHarness()
