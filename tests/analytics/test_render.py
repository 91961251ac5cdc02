"""The report as a browser draws it: headless Chromium takes a screenshot, pixels are read.

Skipped where no Chromium is installed, except under ``CI=true``, where that fails.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections import Counter
from pathlib import Path

import attrs
import pytest

from calltrack.analytics import Scope, analytics
from calltrack.analytics.charts import ANSWER_RATE_COLOUR, SERIES_COLOURS
from calltrack.analytics.report import write_report
from calltrack.storage.memory import MemoryStorage

Pixel = tuple[int, int, int]


@attrs.frozen
class Image:
    """A decoded screenshot."""

    width: int
    height: int
    pixels: list[Pixel]

    def at(self, x: int, y: int) -> Pixel:
        return self.pixels[y * self.width + x]


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(data: bytes) -> Image:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, interlace) == (8, 0)
            channels = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    pixels: list[Pixel] = []
    for y in range(height):
        start = y * (stride + 1)
        method, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            line[i] = (
                line[i] + (0, left, up, (left + up) // 2, _paeth(left, up, corner))[method]
            ) & 0xFF
        pixels += [(line[i], line[i + 1], line[i + 2]) for i in range(0, stride, channels)]
        previous = line
    return Image(width, height, pixels)


def _chromium() -> str:
    found = next(
        (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None
    )
    if found is None:
        reason = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI=true the render tests must run")
        pytest.skip(reason)
    return found


def screenshot(html: Path, width: int, height: int) -> Image:
    """Render ``html`` in headless Chromium at a window size and decode the PNG."""
    browser = _chromium()
    with tempfile.TemporaryDirectory() as profile:
        shot = Path(profile) / "shot.png"
        subprocess.run(  # noqa: S603 - a fixed command line
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                f"--user-data-dir={profile}/data",
                f"--screenshot={shot}",
                f"--window-size={width},{height}",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return read_png(shot.read_bytes())


def _rgb(colour: str) -> Pixel:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def _count(image: Image, colour: str) -> int:
    want = _rgb(colour)
    return sum(
        n
        for px, n in Counter(image.pixels).items()
        if max(abs(a - b) for a, b in zip(px, want, strict=True)) <= 6
    )


@pytest.fixture
def demo_report(demo_storage: MemoryStorage, tmp_path: Path) -> Path:
    """The demo employer's report, without the Calls folder (whose mark pills share colours)."""
    target = tmp_path / "northwind.html"
    write_report(target, demo_storage, Scope.employer("northwind"), calls=0)
    return target


def _series_counts(storage: MemoryStorage, scope: Scope) -> dict[str, int]:
    total = analytics(storage, scope).total
    shown = {
        "Response by call": total.response_by_call,
        "Missed call": total.missed_call,
        "No resume": total.no_resume,
        "Spam blocked": total.spam_blocked,
        "After close": total.after_close,
    }
    shown["Not classified"] = total.calls - sum(shown.values())
    return shown


class TestRendered:
    """Chromium draws the page at the asked size, with every bar and the rate line."""

    LEGEND_SWATCH = 150  # a 10 by 10 swatch, with room for anti-aliasing

    def test_demo_report_draws_its_charts(
        self, demo_storage: MemoryStorage, demo_report: Path
    ) -> None:
        image = screenshot(demo_report, 1280, 1400)
        assert (image.width, image.height) == (1280, 1400)
        assert image.at(5, 5) == (255, 255, 255)
        counts = _series_counts(demo_storage, Scope.employer("northwind"))
        drawn = {name: _count(image, SERIES_COLOURS[name]) for name in counts}
        per_call = {}
        for name, count in counts.items():
            if count:
                assert drawn[name] > self.LEGEND_SWATCH + 200 * count, (name, drawn)
                per_call[name] = (drawn[name] - 100) / count
            else:
                assert drawn[name] <= self.LEGEND_SWATCH, (name, drawn)
        assert max(per_call.values()) < 1.3 * min(per_call.values()), per_call
        assert _count(image, ANSWER_RATE_COLOUR) > 20

    def test_phone_width_keeps_the_charts(self, fortnight: MemoryStorage, tmp_path: Path) -> None:
        target = tmp_path / "acme.html"
        write_report(target, fortnight, Scope.employer("acme"), calls=0)
        image = screenshot(target, 390, 2400)
        assert (image.width, image.height) == (390, 2400)
        counts = _series_counts(fortnight, Scope.employer("acme"))
        for name in ("Response by call", "Missed call"):
            assert counts[name]
            assert _count(image, SERIES_COLOURS[name]) > self.LEGEND_SWATCH + 20 * counts[name]
        assert _count(image, ANSWER_RATE_COLOUR) > 200
        right_edge = {image.at(389, y) for y in range(0, 2400, 4)}
        assert right_edge <= {(255, 255, 255)}, "the page must not run off a phone's screen"
