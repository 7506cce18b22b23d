"""Benchmark (not a test): wall time of a certification of each profile's bundled reference
(every fixtures/vendors/*.yaml with a ``launch`` section), and optionally of ``make test``.

    .venv/bin/python bench/certify_time.py [--make-test]

Goal: under 60 s per certification, so one fits a CI gate. Each runs as ``meshcert certify``
would in CI (its own process, a fresh report folder). Always exits 0.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 60.0


def references() -> list[Path]:
    found = []
    for path in sorted((ROOT / "fixtures" / "vendors").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(raw, dict) and raw.get("launch"):
            found.append(path)
    return found


def timed(command: list[str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done.returncode, done.stdout + done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--make-test", action="store_true", help="also time `make test`")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    meshcert = str(Path(sys.executable).with_name("meshcert"))
    for target in references():
        with tempfile.TemporaryDirectory() as out:
            wall, code, output = timed([meshcert, "certify", "--target", str(target),
                                        "--out", str(Path(out) / "report")])
        verdict = {0: "certified", 1: "not certified"}.get(code, f"harness error {code}")
        tests = next((line.strip() for line in output.splitlines()
                      if line.strip().startswith("tests:")), "")
        print(f"  {target.name:<32} {wall:6.1f} s  {verdict:<14} {tests}  "
              f"(goal < {GOAL_S:.0f} s: {'met' if wall < GOAL_S else 'missed'})", flush=True)
    if args.make_test:
        wall, code, _ = timed(["make", "test"])
        print(f"  make test                        {wall:6.1f} s  exit {code}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
