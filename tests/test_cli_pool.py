"""``calltrack pool``: buy into the pool, list it, release from it; Twilio's API mocked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import responses

from calltrack import _cli_pool
from calltrack.cli import main
from calltrack.ports import AvailableNumber
from calltrack.providers import _INVENTORIES, _REGISTRY, register_provider
from calltrack.storage.memory import MemoryStorage
from calltrack.testing._fakes import FakeClock
from calltrack.tracker import CallTracker

ACCOUNT = "AC" + "c" * 32
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"
BASE = "https://calls.example.com/hooks"
OFFERED = ["+74951110001", "+74951110002", "+74951110003"]


@pytest.fixture
def storage(monkeypatch: pytest.MonkeyPatch) -> MemoryStorage:
    """One storage shared by every command of a test, as a database file would be."""
    shared = MemoryStorage()
    monkeypatch.setattr(_cli_pool, "open_storage", lambda url: shared)
    return shared


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLTRACK_TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("CALLTRACK_TWILIO_AUTH_TOKEN", "cli-test-token")
    monkeypatch.setenv("CALLTRACK_BASE_URL", BASE)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _page(key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: items, "uri": "/x.json", "next_page_uri": None, "page": 0, "page_size": 50}


def _offer(api: responses.RequestsMock, numbers: list[str]) -> None:
    items = [
        {"phone_number": n, "iso_country": "RU", "locality": "Moscow", "capabilities": {}}
        for n in numbers
    ]
    api.get(
        f"{API}/AvailablePhoneNumbers/RU/Local.json",
        json=_page("available_phone_numbers", items),
    )


def _sell(api: responses.RequestsMock, number: str, status: int = 201) -> None:
    if status >= 400:
        body = {"code": 21422, "message": "PhoneNumber is not available", "status": status}
    else:
        body = {"sid": "PN" + number[-4:], "phone_number": number, "account_sid": ACCOUNT}
    api.post(f"{API}/IncomingPhoneNumbers.json", json=body, status=status)


def _pool(storage: MemoryStorage) -> list[str]:
    return [n.number for n in CallTracker(storage).pool_numbers()]


class TestBuy:
    """buy searches, buys each number with the webhooks set, and adds it to the pool."""

    def test_buys_and_adds_to_the_pool(
        self,
        storage: MemoryStorage,
        api: responses.RequestsMock,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        _offer(api, OFFERED)
        for number in OFFERED[:2]:
            _sell(api, number)
        status = main(["pool", "buy", "--provider", "twilio", "--country", "RU", "--count", "2"])
        assert status == 0
        assert _pool(storage) == OFFERED[:2]
        out, err = capsys.readouterr()
        assert out.split() == OFFERED[:2]
        assert "2/2" in err
        bought = [c for c in api.calls if c.request.method == "POST"]
        assert len(bought) == 2
        assert f"VoiceUrl={BASE.replace(':', '%3A').replace('/', '%2F')}" in str(
            bought[0].request.body
        )
        (pooled, _) = CallTracker(storage).pool_numbers()
        assert (pooled.provider, pooled.country, pooled.area) == ("twilio", "RU", "495")

    def test_area_and_type_reach_the_search(
        self, storage: MemoryStorage, api: responses.RequestsMock
    ) -> None:
        api.get(
            f"{API}/AvailablePhoneNumbers/RU/Mobile.json",
            json=_page("available_phone_numbers", []),
        )
        argv = ["pool", "buy", "--provider", "twilio", "--country", "RU", "--count", "1"]
        status = main([*argv, "--area", "495", "--type", "mobile"])
        assert status == 1
        assert "Contains=7495" in str(api.calls[0].request.url)
        assert _pool(storage) == []

    def test_fewer_for_sale_than_asked(
        self,
        storage: MemoryStorage,
        api: responses.RequestsMock,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        _offer(api, OFFERED[:1])
        _sell(api, OFFERED[0])
        status = main(["pool", "buy", "--provider", "twilio", "--country", "RU", "--count", "5"])
        assert status == 1
        assert _pool(storage) == OFFERED[:1]
        assert "only 1 of 5" in capsys.readouterr().err

    def test_a_refused_purchase_keeps_what_was_bought(
        self,
        storage: MemoryStorage,
        api: responses.RequestsMock,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        _offer(api, OFFERED)
        _sell(api, OFFERED[0])
        _sell(api, OFFERED[1], status=400)
        status = main(["pool", "buy", "--provider", "twilio", "--country", "RU", "--count", "3"])
        assert status == 2
        assert _pool(storage) == OFFERED[:1]
        assert "not available" in capsys.readouterr().err

    @pytest.mark.parametrize("unset", ["CALLTRACK_BASE_URL", "CALLTRACK_TWILIO_AUTH_TOKEN"])
    def test_missing_settings_are_named_and_nothing_is_bought(
        self,
        storage: MemoryStorage,
        api: responses.RequestsMock,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        unset: str,
    ) -> None:
        monkeypatch.delenv(unset)
        status = main(["pool", "buy", "--provider", "twilio", "--country", "RU", "--count", "1"])
        assert status == 2
        assert unset in capsys.readouterr().err
        assert len(api.calls) == 0

    def test_count_must_be_positive(
        self, storage: MemoryStorage, capsys: pytest.CaptureFixture[str]
    ) -> None:
        status = main(["pool", "buy", "--provider", "twilio", "--country", "RU", "--count", "0"])
        assert status == 2
        assert "--count" in capsys.readouterr().err

    def test_an_unknown_provider(
        self, storage: MemoryStorage, capsys: pytest.CaptureFixture[str]
    ) -> None:
        status = main(["pool", "buy", "--provider", "acme", "--country", "RU", "--count", "1"])
        assert status == 2
        assert "no number inventory named 'acme'" in capsys.readouterr().err


class _ListedInventory:
    """A third-party inventory following the convention: from_env(base_url), provider."""

    provider = "acme"
    released: list[str] = []  # noqa: RUF012 - shared on purpose: the CLI makes its own instance

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    @classmethod
    def from_env(cls, base_url: str) -> _ListedInventory:
        return cls(base_url)

    def search(
        self, country: str, *, area: str | None = None, kind: str = "local", limit: int = 20
    ) -> list[AvailableNumber]:
        return [AvailableNumber("+74951119999", self.provider, country, area, kind)][:limit]

    def buy(self, number: str) -> str:
        return number

    def release(self, number: str) -> None:
        self.released.append(number)


class TestAnyInventory:
    """Any registered inventory works through the same commands."""

    def test_a_registered_inventory_buys_and_releases(
        self, storage: MemoryStorage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(_INVENTORIES, "acme", "")
        monkeypatch.setitem(_REGISTRY, "acme", "")
        register_provider("acme", "x:Y", inventory=f"{__name__}:_ListedInventory")
        _ListedInventory.released.clear()
        argv = ["pool", "buy", "--provider", "acme", "--country", "RU", "--count", "1"]
        assert main(argv) == 0
        assert _pool(storage) == ["+74951119999"]
        assert main(["pool", "release", "+7 495 111-99-99"]) == 0
        assert _ListedInventory.released == ["+74951119999"]
        assert _pool(storage) == []


class TestListAndRelease:
    """list shows each number's state; release frees only free numbers, and only if released."""

    @pytest.fixture
    def tracker(self, storage: MemoryStorage) -> CallTracker:
        clock = FakeClock(datetime.now(timezone.utc) - timedelta(days=1))
        tracker = CallTracker(storage, clock=clock)
        tracker.add_numbers(["+74951110001", "+74951110002", "+74951110003"], provider="twilio")
        tracker.add_numbers(["+14155550100"], provider="twilio")
        tracker.track("vac-1", ["+79161234567"], employer_id="emp-1", title="Driver")
        tracker.track("vac-2", ["+79161234568"], employer_id="emp-1", title="Cook")
        tracker.untrack("vac-2")
        return tracker

    def test_list_shows_states(
        self, tracker: CallTracker, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["pool", "list", "--country", "ru"]) == 0
        out = capsys.readouterr().out
        rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("+")}
        assert set(rows) == {"+74951110001", "+74951110002", "+74951110003"}
        assert rows["+74951110001"].endswith("assigned")
        assert "quarantined until" in rows["+74951110002"]
        assert rows["+74951110003"].endswith("free")
        assert "3 numbers: 1 assigned, 1 quarantined, 1 free" in out

    def test_list_pages_through_a_large_pool(
        self, storage: MemoryStorage, capsys: pytest.CaptureFixture[str]
    ) -> None:
        numbers = [f"+7495{n:07d}" for n in range(1_200_000, 1_201_100)]
        CallTracker(storage).add_numbers(numbers, provider="twilio")
        assert main(["pool", "list"]) == 0
        out = capsys.readouterr().out
        assert sum(1 for line in out.splitlines() if line.startswith("+")) == 1100

    def test_release(
        self,
        tracker: CallTracker,
        storage: MemoryStorage,
        api: responses.RequestsMock,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        api.get(
            f"{API}/IncomingPhoneNumbers.json",
            json=_page("incoming_phone_numbers", [{"sid": "PN3", "phone_number": "+74951110003"}]),
        )
        api.delete(f"{API}/IncomingPhoneNumbers/PN3.json", status=204)
        assert main(["pool", "release", "+74951110003"]) == 0
        assert "+74951110003" not in _pool(storage)
        assert "released +74951110003" in capsys.readouterr().out
        assert api.calls[-1].request.method == "DELETE"

    def test_assigned_and_unknown_numbers_are_kept(
        self,
        tracker: CallTracker,
        storage: MemoryStorage,
        api: responses.RequestsMock,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        before = _pool(storage)
        assert main(["pool", "release", "+74951110001", "+74959999999"]) == 1
        err = capsys.readouterr().err
        assert "+74951110001 is assigned" in err
        assert "+74959999999 is not in the pool" in err
        assert _pool(storage) == before
        assert len(api.calls) == 0

    def test_a_refused_release_puts_the_number_back_as_it_was(
        self,
        tracker: CallTracker,
        storage: MemoryStorage,
        api: responses.RequestsMock,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        (quarantined,) = [n for n in tracker.pool_numbers() if n.number == "+74951110002"]
        api.get(f"{API}/IncomingPhoneNumbers.json", json=_page("incoming_phone_numbers", []))
        assert main(["pool", "release", "+74951110002"]) == 1
        assert "stays in the pool" in capsys.readouterr().err
        (kept,) = [n for n in tracker.pool_numbers() if n.number == "+74951110002"]
        assert kept == quarantined
        assert kept.available_from - kept.idle_since == timedelta(days=60)

    def test_an_invalid_number_changes_nothing(
        self, tracker: CallTracker, storage: MemoryStorage, capsys: pytest.CaptureFixture[str]
    ) -> None:
        before = _pool(storage)
        assert main(["pool", "release", "+74951110003", "not-a-number"]) == 2
        assert "not-a-number" in capsys.readouterr().err
        assert _pool(storage) == before
