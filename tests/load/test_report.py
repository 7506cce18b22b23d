"""load.html is one self-contained page whose charts a browser draws: throughput over time,
latency per request over time with the catalog target, and the capacity curve."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from meshcert.load.capacity import render as render_capacity
from meshcert.load.report import write_load_report

READ = "GET /municipalities/{lg_code}/residents/{atena_number}"
BLUE, RED = (0x25, 0x63, 0xEB), (0xDC, 0x26, 0x26)  # p95 / achieved series; target line


def load_data() -> dict[str, Any]:
    points = [{"t": t, "users": 4, "rps": 30.0 + t, "fail_rps": 0.0, "p50_ms": 5.0,
               "p95_ms": 20.0 + t, "p99_ms": 60.0, "max_ms": 90.0, "requests": 30 * t}
              for t in range(1, 21)]
    endpoint = {"method": "GET", "name": READ, "label": READ, "requests": 600, "failures": 1,
                "failure_ratio": 1 / 600, "rps": 30.0, "mean_ms": 9.0, "min_ms": 1.0,
                "p50_ms": 5.0, "p95_ms": 30.0, "p99_ms": 60.0, "max_ms": 90.0}
    return {
        "format": "meshcert-load/1", "run": "load-test",
        "scenario": {"name": "moving-season", "title": "Moving season (March/April)",
                     "summary": "online move-outs and registry reads", "curve": "March → April"},
        "target": {"file": "t.yaml", "kind": "registry", "name": "reference <registry>",
                   "base_url": "https://127.0.0.1:1", "simulators": {}},
        "load": {"peak_rate": 40.0, "natural_peak_rate": 3.4, "users": 8, "per_user_rate": 5.0,
                 "duration_s": 20, "mix": {"read": 1.0}, "weights": {"read": 1},
                 "offered": [[10, 20.0], [20, 40.0]], "stages": [[10, 4], [20, 8]],
                 "scale": {"municipalities": 1741, "residents": 125_000_000, "window_s": None}},
        "assumptions": ["moves: 5,300,000/year [S]"],
        "locust": {"processes": None, "master": False, "exit_code": 0, "wall_s": 24.0},
        "endpoints": [endpoint], "overall": {**endpoint, "name": "Aggregated",
                                             "label": "Aggregated", "method": ""},
        "history": {READ: points, "Aggregated": points},
        "failures": [{"method": "GET", "name": READ, "kind": "HTTP 503 urn:x", "count": 1}],
        "checks": [{"requirement": "PERF-READ-001", "level": "MUST", "request": READ,
                    "percentile": 95, "threshold_ms": 200.0, "observed_ms": 30.0,
                    "how": "exact", "met": True, "failures": 1, "requests": 600}],
        "passed": False,
    }


@pytest.fixture
def page(tmp_path: Path) -> Path:
    return write_load_report(tmp_path, load_data())


def test_the_page_is_self_contained_and_escapes_what_it_shows(page: Path):
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html
    assert "reference &lt;registry&gt;" in html
    assert html.count("<svg") == 3  # throughput, users, one request
    assert "target p95 ≤ 200 ms" in html and "HTTP 503 urn:x" in html
    assert (page.parent / "load.json").is_file()


def test_the_verdict_names_the_target_and_the_failed_requests(page: Path):
    html = page.read_text(encoding="utf-8")
    assert 'class="banner fail"' in html  # a target met, but a request failed
    assert "PERF-READ-001 p95 30.0 ms" in html


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or \
        shutil.which("google-chrome")


def screenshot(page: Path, height: int = 1400) -> list[list[tuple[int, int, int]]]:
    browser = chromium()
    if browser is None:
        if os.environ.get("MESHCERT_REQUIRE_BROWSER") == "1":
            pytest.fail("MESHCERT_REQUIRE_BROWSER=1 but no chromium on PATH")
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    shot = page.parent / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             f"--user-data-dir={profile}", f"--window-size=1400,{height}",
             f"--screenshot={shot}", page.as_uri()],
            capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    return decode_png(shot.read_bytes())


def decode_png(data: bytes) -> list[list[tuple[int, int, int]]]:
    """Pixels of an 8-bit RGB/RGBA PNG (what Chromium writes), enough to look for colours."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 3
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc
                                      else corner)) & 255
        rows.append(line)
        previous = line
    return [[tuple(row[x * channels:x * channels + 3]) for x in range(width)]  # type: ignore[misc]
            for row in rows]


def count(pixels: list[list[tuple[int, int, int]]], colour: tuple[int, int, int]) -> int:
    return sum(1 for row in pixels for p in row
               if all(abs(a - b) <= 24 for a, b in zip(p, colour, strict=True)))


@pytest.mark.slow
def test_in_a_browser_the_charts_are_drawn(page: Path):
    pixels = screenshot(page)
    assert count(pixels, BLUE) > 300, "no series drawn in the charts"
    assert count(pixels, RED) > 100, "the latency target line is not drawn"


@pytest.mark.slow
def test_in_a_browser_the_capacity_curve_and_its_knee_are_drawn(tmp_path: Path):
    steps = [{"step": i + 1, "offered_rps": r, "achieved_rps": min(r, 150.0),
              "observed_ms": 10.0 * (i + 1) ** 2, "error_ratio": 0.0, "requests": 100,
              "failed": 0, "sustained": i < 3} for i, r in enumerate([20, 40, 80, 160])]
    data = {"scenario": {"name": "s", "title": "S"}, "target": {"name": "ref"},
            "judged": {"request": READ, "percentile": 95, "threshold_ms": 100.0,
                       "source": "PERF-READ-001", "max_error_ratio": 0.01, "min_achieved": 0.9},
            "steps": steps, "knee": steps[2],
            "projection": {"national_peak_rps": 1446.8, "scaled_peak_rps": 1446.8,
                           "instances_national": 18, "instances_scaled": 18, "headroom": 0.7,
                           "assumptions": ["a"]}}
    page = tmp_path / "capacity.html"
    page.write_text(render_capacity(data), encoding="utf-8")
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and 'class="mark"' in html and "knee 80" in html
    pixels = screenshot(page)
    assert count(pixels, BLUE) > 300 and count(pixels, RED) > 100
