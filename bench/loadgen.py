"""Benchmark (not a test): how much of the machine the load generator itself eats.

    .venv/bin/python bench/loadgen.py [--seconds 8] [--users 32]

Locust (``FastHttpUser``, one process, the generator of ``meshcert load``) and ``wrk`` (Debian
package, C) each read the same bare Starlette endpoint (bench/bare_app.py) as fast as they can.
For each: requests/s, the CPU time of the generator process alone (``getrusage`` of the child),
and requests per CPU-second — so the ratio does not depend on how fast the server is. Always
exits 0.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHORT_S = 3.0
sys.path.insert(0, str(ROOT))

from bench import wrk  # noqa: E402
from bench.simulator_throughput import LG, bare  # noqa: E402


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_locust(url: str, seconds: float, users: int) -> tuple[int, float, float]:
    with tempfile.TemporaryDirectory() as work:
        prefix = Path(work) / "bench"
        cpu, wall = child_cpu(), time.perf_counter()
        subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench" /
                                                                   "locustfile_bare.py"),
                        "--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds:g}s",
                        "--host", url, "--csv", str(prefix), "--only-summary",
                        "--skip-log-setup"], cwd=ROOT, check=True, capture_output=True,
                       timeout=seconds + 60)
        cpu, wall = child_cpu() - cpu, time.perf_counter() - wall
        with open(f"{prefix}_stats.csv", encoding="utf-8", newline="") as handle:
            total = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    return int(total["Request Count"]), float(total["Requests/s"]), cpu


def run_wrk(url: str, seconds: float, users: int) -> tuple[int, float, float]:
    cpu = child_cpu()
    result = wrk.run(url, wrk.get_script([f"/municipalities/{LG}/residents/0633853568"], {}),
                     seconds, connections=users)
    return int(result["requests"]), float(result["rps"]), child_cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=32, help="Locust users / wrk connections")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; bare Starlette "
          f"endpoint; {args.users} users/connections, {args.seconds:g} s each", flush=True)
    server, port = bare()
    url = f"http://127.0.0.1:{port}"
    figures = {}
    with server:
        run_wrk(url, 2, args.users)  # warm up the server
        for name, runner in (("locust FastHttpUser", run_locust), ("wrk -t1", run_wrk)):
            # Two runs, short and long: their difference leaves out start-up and shut-down
            # (Locust's imports alone take a CPU-second).
            short_requests, _, short_cpu = runner(url, SHORT_S, args.users)
            requests, rps, cpu = runner(url, args.seconds, args.users)
            figures[name] = (requests - short_requests) / (cpu - short_cpu)
            print(f"  {name:<20} {rps:>9,.0f} req/s  {cpu:6.2f} CPU-s in {args.seconds:g} s  "
                  f"{figures[name]:>9,.0f} requests per CPU-second (steady state)", flush=True)
    locust, plain = figures["locust FastHttpUser"], figures["wrk -t1"]
    print(f"Locust makes {locust:,.0f} requests per core-second, wrk {plain:,.0f}: wrk is "
          f"{plain / locust:.1f}× as frugal. At a target rate R, Locust itself needs about "
          f"R / {locust:,.0f} cores (plan --processes accordingly).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
