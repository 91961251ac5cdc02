"""`calltrack serve` on a real socket, `calltrack simulate` against it, and clean stops."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from calltrack._cli_serve import DEFAULT_PORT
from calltrack.cli import main

SRC = str(Path(__file__).resolve().parents[2] / "src")


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "calltrack", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC, **(env or {})},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    found = re.search(r"serving on (http://127\.0\.0\.1:\d+)", first)
    if found is None:
        process.kill()
        pytest.fail(
            f"serve did not start: {first!r} {process.stderr.read() if process.stderr else ''}"
        )
    banner = [first]
    while not banner[-1].startswith("Press Ctrl-C") and banner[-1]:
        banner.append(process.stdout.readline())
    BANNERS[process.pid] = "".join(banner)
    return process, found.group(1)


BANNERS: dict[int, str] = {}


def stop(process: subprocess.Popen[str], signum: int) -> str:
    """Send the signal; return everything serve printed."""
    process.send_signal(signum)
    out, _ = process.communicate(timeout=15)
    assert process.returncode == 0, out
    return BANNERS.pop(process.pid) + out


class TestServe:
    """serve answers concurrently, prints the webhook URLs, and stops on SIGINT or SIGTERM."""

    @pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
    def test_demo_simulate_and_stop(self, signum: int) -> None:
        """simulate's calls over HTTP are all answered 200; the signal stops serve cleanly."""
        process, url = start("--demo", "--db", "memory://")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as answer:  # noqa: S310 - loopback
                assert answer.status == 200
            done = subprocess.run(  # noqa: S603
                [sys.executable, "-m", "calltrack", "simulate", "--url", url],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
                env={**os.environ, "PYTHONPATH": SRC},
            )
        finally:
            out = stop(process, signum)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "expect Response by call" in done.stdout
        assert "[200,200,200,200]" in done.stdout
        assert "no longer takes calls" in done.stdout
        assert "(refused)" in done.stdout
        assert "/fake/voice" in out
        assert f"stopped (signal {int(signum)})" in out

    def test_configured_providers(self) -> None:
        """With a secret in the environment, the configured public URL is printed."""
        process, _ = start(
            "--db",
            "memory://",
            env={
                "CALLTRACK_FAKE_SECRET": "s",
                "CALLTRACK_PUBLIC_URL": "https://hooks.example.com/ct",
            },
        )
        out = stop(process, signal.SIGTERM)
        assert "https://hooks.example.com/ct/fake/voice" in out

    def test_no_provider_is_an_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without any provider secret, serve exits 2 naming the variables."""
        for name in ("CALLTRACK_TWILIO_AUTH_TOKEN", "CALLTRACK_FAKE_SECRET", "CALLTRACK_CONFIG"):
            assert name not in os.environ
        assert main(["serve", "--port", "0", "--db", "memory://"]) == 2
        assert "CALLTRACK_TWILIO_AUTH_TOKEN" in capsys.readouterr().err

    def test_bad_port(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A port out of range is refused before anything is opened."""
        assert main(["serve", "--port", "70000"]) == 2
        assert "--port" in capsys.readouterr().err
        assert DEFAULT_PORT == 8080

    def test_simulate_without_server(self, capsys: pytest.CaptureFixture[str]) -> None:
        """simulate against nothing says it cannot reach the server."""
        assert main(["simulate", "--url", "http://127.0.0.1:9"]) == 2
        assert "cannot reach" in capsys.readouterr().err
