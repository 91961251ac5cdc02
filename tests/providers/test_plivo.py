"""The Plivo adapter: the provider contract, Plivo's own formats, and the SDK as an oracle."""

from __future__ import annotations

import pytest

from calltrack.testing.plivo import PlivoHarness
from calltrack.testing.provider_contract import ProviderContract, ProviderHarness


class TestPlivoProvider(ProviderContract):
    """PlivoProvider keeps the provider contract."""

    @pytest.fixture
    def harness(self) -> ProviderHarness:
        return PlivoHarness()
