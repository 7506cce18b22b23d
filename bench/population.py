"""Benchmark of the synthetic population generator (not a test): speed and memory.

    .venv/bin/python bench/population.py [--persons 100000] [--small 10000] [--repeat 3]

Each measurement runs in a fresh child process (cold caches, its own peak-RSS counter): it
generates the population into a temporary JSONL file and reports wall time, CPU time and the
growth of peak RSS over the RSS after imports. Two sizes (``--small`` and ``--persons``) show
whether memory stays flat as the count grows. The goal is 50,000 persons/s; the best of
``--repeat`` runs is reported, since other work on the machine only ever slows a run down.
Always exits 0: the verdict is printed, not enforced.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 50_000  # persons/s


def measure(persons: int, path: str, lg_code: str, seed: int, mode: str) -> dict[str, float]:
    """Generate ``persons`` into ``path`` in this process; timings and RSS figures."""
    sys.path.insert(0, str(ROOT))
    from meshcert_simulators.common.population import generate, generate_jsonl, write_jsonl

    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # peak so far = after imports
    wall, cpu = time.perf_counter(), time.process_time()
    if mode == "lines":
        written = write_jsonl(generate_jsonl(lg_code, persons, seed), path)
    else:
        written = write_jsonl(generate(lg_code, persons, seed), path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"persons": written, "wall": wall, "cpu": cpu, "bytes": os.path.getsize(path),
            "rss_growth_mib": (peak_kib - base_kib) / 1024}


def run_child(persons: int, lg_code: str, seed: int, mode: str) -> dict[str, float]:
    """One measurement in a fresh interpreter."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "population.jsonl"
        command = [sys.executable, __file__, "--child", "--persons", str(persons),
                   "--lg-code", lg_code, "--seed", str(seed), "--mode", mode, "--out", str(out)]
        result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(result.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000, help="large size (default 100k)")
    parser.add_argument("--small", type=int, default=10_000, help="small size (default 10k)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; best is shown")
    parser.add_argument("--lg-code", default="131016")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mode", choices=("lines", "dicts"), default="lines")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(measure(args.persons, args.out, args.lg_code, args.seed, args.mode)))
        return 0

    rows = []
    cases = [("lines", args.small), ("lines", args.persons), ("dicts", args.persons)]
    for mode, persons in cases:
        runs = [run_child(persons, args.lg_code, args.seed, mode) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["wall"])
        rows.append((mode, best, max(r["rss_growth_mib"] for r in runs)))

    path = {"lines": "write_jsonl(generate_jsonl())", "dicts": "write_jsonl(generate())"}
    print(f"population generator, municipality {args.lg_code}, seed {args.seed}, "
          f"best of {args.repeat} fresh-process runs, goal {GOAL:,} persons/s")
    header = (f"{'path':30} {'persons':>9} {'wall s':>7} {'cpu s':>7} {'persons/s':>10} "
              f"{'x goal':>7} {'file MiB/1k':>11} {'peak RSS +MiB':>14}")
    print(header)
    print("-" * len(header))
    for mode, r, rss in rows:
        rate = r["persons"] / r["wall"]
        per_thousand = r["bytes"] / 2**20 / r["persons"] * 1000
        print(f"{path[mode]:30} {r['persons']:>9,} {r['wall']:>7.2f} {r['cpu']:>7.2f} "
              f"{rate:>10,.0f} {rate / GOAL:>7.2f} {per_thousand:>11.2f} {rss:>14.1f}")
    small, large = rows[0][2], rows[1][2]
    fast = rows[1][1]["persons"] / rows[1][1]["wall"]
    print(f"\nspeed: {fast:,.0f} persons/s = {fast / GOAL:.2f} x goal "
          f"({'met' if fast >= GOAL else 'NOT met'}; CPU-time rate "
          f"{rows[1][1]['persons'] / rows[1][1]['cpu']:,.0f}/s)")
    print(f"memory: peak RSS growth {small:.1f} MiB for {args.small:,} persons vs {large:.1f} MiB "
          f"for {args.persons:,} ({'flat' if large <= small + 16 else 'GROWS'}: bounded caches "
          "of names and days, not of persons)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
