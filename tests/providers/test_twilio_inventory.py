"""TwilioInventory: search, buy and release over Twilio's REST API, mocked with ``responses``."""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from calltrack.errors import ConfigurationError, ProviderAPIError, ProviderNotInstalled
from calltrack.ports import AvailableNumber, NumberInventory
from calltrack.providers import load_inventory_class
from calltrack.providers.twilio import TwilioInventory

ACCOUNT = "AC" + "a" * 32
TOKEN = "inventory-test-token"  # noqa: S105 - a test fixture, not a credential
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"
BASE = "https://calls.example.com/hooks"


def _page(key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A list page shaped like Twilio's."""
    return {
        key: items,
        "uri": "/2010-04-01/x.json",
        "first_page_uri": "/2010-04-01/x.json",
        "next_page_uri": None,
        "previous_page_uri": None,
        "page": 0,
        "page_size": 50,
        "start": 0,
        "end": len(items) - 1,
    }


def _available(number: str, country: str = "US", locality: str = "San Francisco") -> dict[str, Any]:
    return {
        "friendly_name": number,
        "phone_number": number,
        "lata": "722",
        "locality": locality,
        "rate_center": "SNFC CA SN",
        "latitude": "37.77",
        "longitude": "-122.41",
        "region": "CA",
        "postal_code": "94110",
        "iso_country": country,
        "address_requirements": "none",
        "beta": False,
        "capabilities": {"voice": True, "SMS": True, "MMS": True, "fax": False},
    }


def _owned(number: str, sid: str) -> dict[str, Any]:
    return {
        "sid": sid,
        "account_sid": ACCOUNT,
        "phone_number": number,
        "friendly_name": number,
        "voice_url": f"{BASE}/twilio/voice",
        "voice_method": "POST",
        "status_callback": f"{BASE}/twilio/status",
        "status_callback_method": "POST",
        "capabilities": {"voice": True, "sms": True, "mms": True},
        "date_created": "Fri, 04 Dec 2026 09:00:00 +0000",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/{sid}.json",
    }


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@pytest.fixture
def inventory() -> TwilioInventory:
    return TwilioInventory(ACCOUNT, TOKEN, BASE)


@pytest.fixture
def api() -> Any:
    with responses.RequestsMock() as mock:
        yield mock


def _query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


class TestConstruction:
    """The inventory follows the convention every inventory follows."""

    def test_found_by_name_and_is_an_inventory(self, inventory: TwilioInventory) -> None:
        assert load_inventory_class("twilio") is TwilioInventory
        assert isinstance(inventory, NumberInventory)
        assert inventory.provider == "twilio"
        assert TOKEN not in repr(inventory)

    def test_from_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CALLTRACK_TWILIO_ACCOUNT_SID", ACCOUNT)
        monkeypatch.setenv("CALLTRACK_TWILIO_AUTH_TOKEN", TOKEN)
        made = TwilioInventory.from_env(BASE + "/")
        assert (made.account_sid, made.base_url) == (ACCOUNT, BASE)

    @pytest.mark.parametrize(
        "missing", ["CALLTRACK_TWILIO_ACCOUNT_SID", "CALLTRACK_TWILIO_AUTH_TOKEN"]
    )
    def test_from_env_names_the_missing_variable(
        self, monkeypatch: pytest.MonkeyPatch, missing: str
    ) -> None:
        monkeypatch.setenv("CALLTRACK_TWILIO_ACCOUNT_SID", ACCOUNT)
        monkeypatch.setenv("CALLTRACK_TWILIO_AUTH_TOKEN", TOKEN)
        monkeypatch.delenv(missing)
        with pytest.raises(ConfigurationError, match=missing):
            TwilioInventory.from_env(BASE)

    def test_needs_credentials(self) -> None:
        with pytest.raises(ConfigurationError, match="Account SID"):
            TwilioInventory("", TOKEN, BASE)

    def test_a_missing_sdk_names_the_extra(
        self, inventory: TwilioInventory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for name in [m for m in sys.modules if m == "twilio" or m.startswith("twilio.")]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.setitem(sys.modules, "twilio", None)
        with pytest.raises(ProviderNotInstalled, match=r"calltrack\[twilio\]"):
            inventory.search("US")


class TestSearch:
    """Search asks for voice numbers of a country, area and type."""

    def test_local_numbers_by_us_area_code(self, inventory: TwilioInventory, api: Any) -> None:
        api.get(
            f"{API}/AvailablePhoneNumbers/US/Local.json",
            json=_page(
                "available_phone_numbers", [_available("+14155550100"), _available("+14155550101")]
            ),
        )
        found = inventory.search("us", area="415", limit=2)
        assert found == [
            AvailableNumber("+14155550100", "twilio", "US", "415", "local"),
            AvailableNumber("+14155550101", "twilio", "US", "415", "local"),
        ]
        query = _query(api.calls[0])
        assert query["AreaCode"] == ["415"]
        assert query["VoiceEnabled"] == ["true"]
        assert query["PageSize"] == ["2"]

    def test_other_countries_search_by_prefix_and_keep_matches(
        self, inventory: TwilioInventory, api: Any
    ) -> None:
        api.get(
            f"{API}/AvailablePhoneNumbers/RU/Local.json",
            json=_page(
                "available_phone_numbers",
                [_available("+74951234567", "RU", "Moscow"), _available("+78121234567", "RU")],
            ),
        )
        found = inventory.search("RU", area="495")
        assert [n.number for n in found] == ["+74951234567"]
        assert found[0].area == "495"
        assert _query(api.calls[0])["Contains"] == ["7495"]

    @pytest.mark.parametrize(("kind", "path"), [("mobile", "Mobile"), ("tollfree", "TollFree")])
    def test_kinds(self, inventory: TwilioInventory, api: Any, kind: str, path: str) -> None:
        api.get(
            f"{API}/AvailablePhoneNumbers/GB/{path}.json",
            json=_page("available_phone_numbers", [_available("+447700900123", "GB", "")]),
        )
        (found,) = inventory.search("GB", kind=kind)
        assert found.kind == kind
        assert found.country == "GB"

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"kind": "fax"}, "kind"),
            ({"limit": 0}, "limit"),
            ({"area": "4x5"}, "area"),
        ],
    )
    def test_bad_arguments_ask_nothing(
        self, inventory: TwilioInventory, api: Any, kwargs: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(ValueError, match=message):
            inventory.search("US", **kwargs)
        assert len(api.calls) == 0

    def test_refusals_become_provider_errors(self, inventory: TwilioInventory, api: Any) -> None:
        api.get(
            f"{API}/AvailablePhoneNumbers/XX/Local.json",
            status=404,
            json=_error(404, 20404, "The requested resource was not found"),
        )
        with pytest.raises(ProviderAPIError) as caught:
            inventory.search("XX")
        assert caught.value.status == 404
        assert "not found" in caught.value.message

    def test_network_failures_become_provider_errors(
        self, inventory: TwilioInventory, api: Any
    ) -> None:
        with pytest.raises(ProviderAPIError) as caught:
            inventory.search("US")
        assert caught.value.status is None


class TestBuyAndRelease:
    """Buying configures the webhooks; releasing finds the number's SID and deletes it."""

    def test_buy_configures_the_webhooks(self, inventory: TwilioInventory, api: Any) -> None:
        api.post(f"{API}/IncomingPhoneNumbers.json", json=_owned("+14155550100", "PN1"))
        assert inventory.buy("+14155550100") == "+14155550100"
        form = parse_qs(api.calls[0].request.body)
        assert form == {
            "PhoneNumber": ["+14155550100"],
            "VoiceUrl": [f"{BASE}/twilio/voice"],
            "VoiceMethod": ["POST"],
            "StatusCallback": [f"{BASE}/twilio/status"],
            "StatusCallbackMethod": ["POST"],
        }

    def test_buy_needs_a_base_url(self, api: Any) -> None:
        with pytest.raises(ConfigurationError, match="base_url"):
            TwilioInventory(ACCOUNT, TOKEN, "").buy("+14155550100")
        assert len(api.calls) == 0

    def test_a_refused_purchase_is_a_provider_error(
        self, inventory: TwilioInventory, api: Any
    ) -> None:
        api.post(
            f"{API}/IncomingPhoneNumbers.json",
            status=400,
            json=_error(400, 21422, "PhoneNumber is not available"),
        )
        with pytest.raises(ProviderAPIError, match="not available") as caught:
            inventory.buy("+14155550100")
        assert caught.value.status == 400

    def test_release(self, inventory: TwilioInventory, api: Any) -> None:
        api.get(
            f"{API}/IncomingPhoneNumbers.json",
            json=_page("incoming_phone_numbers", [_owned("+14155550100", "PN1")]),
        )
        api.delete(f"{API}/IncomingPhoneNumbers/PN1.json", status=204)
        inventory.release("+14155550100")
        assert _query(api.calls[0])["PhoneNumber"] == ["+14155550100"]
        assert api.calls[1].request.method == "DELETE"

    def test_releasing_a_number_not_owned(self, inventory: TwilioInventory, api: Any) -> None:
        api.get(f"{API}/IncomingPhoneNumbers.json", json=_page("incoming_phone_numbers", []))
        with pytest.raises(ProviderAPIError, match="owns no") as caught:
            inventory.release("+14155550199")
        assert caught.value.status == 404
