"""``calltrack calls``, ``stats`` and ``report`` on the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from calltrack import _cli_analytics, _cli_storage
from calltrack.analytics import Scope, analytics, iter_calls
from calltrack.cli import main
from calltrack.ports import Storage
from calltrack.storage.memory import MemoryStorage


@pytest.fixture
def db(demo_storage: MemoryStorage, monkeypatch: pytest.MonkeyPatch) -> MemoryStorage:
    """Make every --db URL open the demo's storage."""
    opened: list[str | None] = []

    def fake_open(url: str | None) -> Storage:
        opened.append(url)
        return demo_storage

    monkeypatch.setattr(_cli_storage, "open_storage", fake_open)
    return demo_storage


class TestCalls:
    """calltrack calls streams the folder to stdout or writes a file whole."""

    def test_jsonl_to_stdout(self, db: MemoryStorage, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["calls", "--employer", "northwind", "--format", "jsonl"]) == 0
        lines = capsys.readouterr().out.splitlines()
        expected = list(iter_calls(db, Scope.employer("northwind")))
        assert [json.loads(x)["call_id"] for x in lines] == [c.call_id for c in expected]

    def test_filters_and_file(self, db: MemoryStorage, tmp_path: Path) -> None:
        target = tmp_path / "missed.csv"
        argv = ["calls", "--vacancy", "driver", "--missed", "-o", str(target), "--db", "x://"]
        assert main(argv) == 0
        rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
        assert rows
        assert all(r["dial_status"] not in {"", "answered"} for r in rows)
        assert [p.name for p in tmp_path.iterdir()] == ["missed.csv"]

    def test_spam_is_left_out_unless_asked(
        self, db: MemoryStorage, capsys: pytest.CaptureFixture[str]
    ) -> None:
        main(["calls", "--vacancy", "warehouse", "--format", "json"])
        without = json.loads(capsys.readouterr().out)
        main(["calls", "--vacancy", "warehouse", "--format", "json", "--include-spam"])
        with_spam = json.loads(capsys.readouterr().out)
        assert {r["route"] for r in without} == {"forwarded"}
        assert "spam" in {r["route"] for r in with_spam}

    def test_a_reader_that_stops_early_is_not_an_error(
        self, db: MemoryStorage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def reader_gone(*args: object, **kwargs: object) -> int:
            raise BrokenPipeError

        monkeypatch.setattr(_cli_analytics, "write_calls", reader_gone)
        assert main(["calls", "--employer", "northwind"]) == 0


class TestStats:
    """calltrack stats prints a table or exports the figures."""

    def test_table(self, db: MemoryStorage, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["stats", "--employer", "northwind"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[0].split()[:3] == ["day", "calls", "callers"]
        total = analytics(db, Scope.employer("northwind")).total
        assert out[-1].split()[:2] == ["total", str(total.calls)]
        assert out[1].split()[0] == "2026-01-05"

    def test_json_with_a_period_and_offset(
        self, db: MemoryStorage, capsys: pytest.CaptureFixture[str]
    ) -> None:
        argv = ["stats", "--vacancy", "driver", "--format", "json", "--utc-offset", "+03:00"]
        argv += ["--from", "2026-01-04", "--to", "2026-01-06"]
        assert main(argv) == 0
        document = json.loads(capsys.readouterr().out)
        assert document["period"]["utc_offset_minutes"] == 180
        assert [d["day"] for d in document["days"]] == ["2026-01-04", "2026-01-05", "2026-01-06"]
        assert document["days"][1]["calls"] == document["total"]["calls"] > 0

    def test_by_vacancy(self, db: MemoryStorage, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["stats", "--employer", "northwind", "--by-vacancy"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [line.split()[0] for line in lines] == ["vacancy", "warehouse", "driver", "courier"]
        assert main(["stats", "--employer", "northwind", "--by-vacancy", "--format", "json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert (rows[0]["vacancy_id"], rows[0]["title"]) == ("warehouse", "Warehouse manager")
        for row in rows:
            expected = analytics(db, Scope.vacancy(row["vacancy_id"])).total
            assert (row["calls"], row["answered"]) == (expected.calls, expected.answered)


class TestReport:
    """calltrack report writes one HTML file and says where."""

    def test_writes_the_file(
        self, db: MemoryStorage, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        target = tmp_path / "northwind.html"
        assert main(["report", "--employer", "northwind", "-o", str(target)]) == 0
        assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        assert f"wrote {target}" in capsys.readouterr().out

    def test_on_an_empty_memory_storage(self, tmp_path: Path) -> None:
        target = tmp_path / "empty.html"
        assert main(["report", "--employer", "e", "-o", str(target), "--db", "memory://"]) == 0
        assert "no calls yet" in target.read_text(encoding="utf-8")


class TestBadInput:
    """Bad arguments fail with a precise message and leave no file."""

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["calls", "--employer", "e", "--from", "2026-02-30"], "not a date"),
            (["stats", "--employer", "e", "--utc-offset", "+25:00"], "within ±18:00"),
            (["stats", "--employer", "e", "--utc-offset", "3h"], "not a UTC offset"),
            (["calls", "--employer", "e", "--from", "2026-03-02", "--to", "2026-03-01"], "after"),
            (["calls", "--employer", ""], "must not be empty"),
            (["stats"], "one of the arguments --vacancy --employer is required"),
            (["report", "--employer", "e", "-o", "x.html", "--calls", "-1"], "--calls"),
            (["stats", "--vacancy", "driver", "--by-vacancy"], "--by-vacancy needs --employer"),
        ],
    )
    @pytest.mark.usefixtures("db")
    def test_refused_by_the_parser(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        argv: list[str],
        message: str,
    ) -> None:
        monkeypatch.chdir(tmp_path)
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize("command", ["calls", "stats", "report"])
    def test_unknown_vacancy(
        self,
        db: MemoryStorage,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        command: str,
    ) -> None:
        target = tmp_path / "out"
        assert main([command, "--vacancy", "nobody", "-o", str(target)]) == 2
        assert "vacancy 'nobody' is not tracked" in capsys.readouterr().err
        assert list(tmp_path.iterdir()) == []

    def test_a_failed_export_leaves_no_file(
        self, db: MemoryStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(*args: object, **kwargs: object) -> int:
            raise OSError("disk full")

        monkeypatch.setattr(_cli_analytics, "write_calls", broken)
        target = tmp_path / "calls.csv"
        with pytest.raises(OSError, match="disk full"):
            main(["calls", "--employer", "northwind", "-o", str(target)])
        assert list(tmp_path.iterdir()) == []
