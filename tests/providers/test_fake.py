"""FakeProvider passes the provider contract that every adapter passes."""

from __future__ import annotations

import pytest

from calltrack.ports import WebhookRequest
from calltrack.testing import FakeProvider
from calltrack.testing.fake import FakeHarness
from calltrack.testing.provider_contract import ProviderContract, ProviderHarness


class TestFakeProvider(ProviderContract):
    """FakeProvider keeps the provider contract."""

    @pytest.fixture
    def harness(self) -> ProviderHarness:
        return FakeHarness()


class TestFakeProviderFormat:
    """FakeProvider's own promises beyond the contract."""

    def test_turning_verification_off_warns(self) -> None:
        with pytest.warns(RuntimeWarning, match="verification is off"):
            provider = FakeProvider(verify_signatures=False)
        provider.verify(WebhookRequest("POST", "https://x/fake/voice", {}, b"{}"))

    def test_a_rotated_out_secret_still_verifies_while_listed(self) -> None:
        old = FakeProvider(("old",))
        both = FakeProvider(("new", "old"))
        both.verify(old.request("voice", {"call_id": "c", "to": "+74951234567"}))
