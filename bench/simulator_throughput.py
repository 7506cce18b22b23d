"""Benchmark (not a test): requests/s of the simulators' hot paths against their peers.

    .venv/bin/python bench/simulator_throughput.py [--only registry|mesh] [--rounds 3]
        [--seconds 5] [--connections 16] [--sqlite-synchronous NORMAL|FULL]

Measured in one run, each with ``wrk`` (1 thread, 16 connections, over loopback HTTP), the
contenders running side by side and measured in turn, several rounds (medians kept):

- **registry read**: ``GET /municipalities/{lg}/residents/{宛名番号}`` of the resident-registry
  simulator, with a JWT access token checked on every request (ES256; verified once, then
  remembered until its ``exp``), the record read from SQLite and the read written to the
  hash-chained audit log, durable (committed) before the answer;
- **mesh inquiry**: ``POST /v1/inquiries`` through the mesh simulator (符号 conversion,
  legal-basis check, art. 23 records) to the tax provider and back, a new record id each time;
- **bare Starlette**: the same paths answered with fixed JSON under the same uvicorn settings
  (uvloop, httptools): the practical limit of the stack; for the mesh inquiry also a **bare
  relay**, a bare route passing the body on to another bare server and answering with its
  answer (the mesh's outgoing transport, meshcert_simulators/common/http1_transport.py): the
  practical
  limit of one hop; for the registry read also **bare state** (bench/bare_state_app.py), a
  bare route doing only the read's state work with the project's storage: the practical limit
  with real state;
- **Prism** (``@stoplight/prism-cli`` from npm, installed into .meshcert/bench-tools/ by
  ``npm install --prefix .meshcert/bench-tools @stoplight/prism-cli``) mocking the same
  canonical contracts (fixtures/specs/): what a user would pick instead.

Goal: ≥ 5× Prism and ≥ 50 % of the bare limit. Prints the ratios; always exits 0 (the verdict
is printed, not enforced). Numbers move with whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import wrk  # noqa: E402
from meshcert.backends.ports import free_port, on_free_ports  # noqa: E402
from meshcert.load.systems import prepared, run_name  # noqa: E402
from meshcert_simulators.authz.tokens import load_signing_key, mint_access_token  # noqa: E402
from meshcert_simulators.common.population import generate  # noqa: E402
from meshcert_simulators.common.storage import DEFAULT_SYNCHRONOUS  # noqa: E402
from meshcert_simulators.common.topology import load_topology  # noqa: E402

PRISM = ROOT / ".meshcert" / "bench-tools" / "node_modules" / ".bin" / "prism"
SPECS = ROOT / "fixtures" / "specs"
EMBEDDED = ROOT / "fixtures" / "topologies" / "embedded.yaml"
MESH = ROOT / "fixtures" / "topologies" / "mesh.yaml"
LG = "131016"


def wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, timeout=1.0)
            return
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:g} s")


@contextlib.contextmanager
def process(command: list[str], ready_url: str, env: dict[str, str] | None = None
            ) -> Iterator[None]:
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                             env={**os.environ, **(env or {})})
    try:
        wait_for(ready_url)
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


def bare(relay_to: int | None = None, app: str = "bench.bare_app:app"
         ) -> tuple[contextlib.AbstractContextManager[None], int]:
    """A bare server; with ``relay_to``, one passing inquiries on to the bare server there."""
    port = free_port()
    relay = {"MESHCERT_BENCH_RELAY": f"http://127.0.0.1:{relay_to}"} if relay_to else {}
    return process([sys.executable, "-m", "uvicorn", app, "--host",
                    "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http",
                    "httptools", "--log-level", "warning", "--no-access-log"],
                   f"http://127.0.0.1:{port}/municipalities/{LG}/residents/1", relay), port


def prism(spec: Path) -> tuple[contextlib.AbstractContextManager[None], int]:
    if not PRISM.exists():
        raise SystemExit(f"Prism is not installed: npm install --prefix "
                         f"{PRISM.parents[2]} @stoplight/prism-cli")
    port = free_port()
    return process([str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
                   f"http://127.0.0.1:{port}/"), port


@dataclass(frozen=True)
class Contender:
    key: str  # "ours", "bare", "bare relay", "prism"
    label: str
    url: str
    script: str


def compare(contenders: list[Contender], seconds: float, connections: int, rounds: int
            ) -> dict[str, float]:
    """Requests/s of each contender, all running side by side, measured in turn ``rounds``
    times (ours, bare, …, ours, bare, …) so drifts of the machine reach them all alike; the
    median of each is kept."""
    for c in contenders:  # warm up: caches, connections, Prism's JIT
        wrk.run(c.url, c.script, 2, connections=connections)
    samples: dict[str, list[dict[str, Any]]] = {c.key: [] for c in contenders}
    for _ in range(rounds):
        for c in contenders:
            samples[c.key].append(wrk.run(c.url, c.script, seconds, connections=connections))
    found: dict[str, float] = {}
    for c in contenders:
        rates = sorted(r["rps"] for r in samples[c.key])
        found[c.key] = statistics.median(rates)
        bad = sum(r["non_2xx"] for r in samples[c.key])
        spread = f" ({rates[0]:,.0f}–{rates[-1]:,.0f})" if len(rates) > 1 else ""
        print(f"  {c.label:<48} {found[c.key]:>9,.0f} req/s{spread}"
              f"{f', {bad} non-2xx' if bad else ''}", flush=True)
    return found


def registry_paths(count: int = 200) -> list[str]:
    return [f"/municipalities/{LG}/residents/{r['atena_number']}"
            for r in generate(LG, count, 1)]


def bench_registry(seconds: float, connections: int, rounds: int) -> dict[str, float]:
    """Our registry (embedded topology, plain HTTP, JWT) against bare and Prism."""
    paths = registry_paths()
    with contextlib.ExitStack() as running:
        topo_path, _ = running.enter_context(
            on_free_ports(EMBEDDED, ["municipal", "authz"], run_name("bench")))
        topo = load_topology(topo_path)
        base = topo.url("municipal")
        admin = {"Authorization": f"Bearer {topo.admin_token}"}
        seeded = httpx.post(f"{base}/admin/seed", headers=admin, timeout=60, json={
            "lg_code": LG, "reset": True, "residents": list(generate(LG, 200, 1))})
        seeded.raise_for_status()
        key = topo.simulator("authz").signing_key
        assert key is not None
        token = mint_access_token(load_signing_key(Path(key)), issuer=str(topo.issuer_url()),
                                  audience="urn:meshcert:municipal", subject="bench",
                                  scopes=["registry:read"], lifetime=3600)
        bare_port = started(running, bare())
        state_port = started(running, bare(app="bench.bare_state_app:app"))
        prism_port = started(running, prism(SPECS / "resident-registry.openapi.json"))
        return compare([
            Contender("ours", "registry read (JWT, SQLite, audit log)", base,
                      wrk.get_script(paths, {"Authorization": f"Bearer {token}"})),
            Contender("bare", "bare Starlette, same path", f"http://127.0.0.1:{bare_port}",
                      wrk.get_script(paths, {})),
            Contender("bare state", "bare Starlette doing the read's state work",
                      f"http://127.0.0.1:{state_port}", wrk.get_script(paths, {})),
            Contender("prism", "Prism mock of resident-registry.openapi.json",
                      f"http://127.0.0.1:{prism_port}",
                      wrk.get_script(paths, {"Authorization": "Bearer x"})),
        ], seconds, connections, rounds)


def bench_mesh(seconds: float, connections: int, rounds: int) -> dict[str, float]:
    with contextlib.ExitStack() as running:
        system = running.enter_context(prepared(MESH, run_name("bench"), duration_s=3600))
        row = system.data["inquirers"]["tax"]
        script = wrk.inquiry_script(row, row["codes"], system.tokens["tax"])
        bare_port = started(running, bare())
        relay_port = started(running, bare(relay_to=bare_port))
        prism_port = started(running, prism(SPECS / "mesh.openapi.json"))
        return compare([
            Contender("ours", "mesh inquiry (→ tax provider, art. 23 records)",
                      system.base_url, script),
            Contender("bare", "bare Starlette, same path", f"http://127.0.0.1:{bare_port}",
                      script),
            Contender("bare relay", "bare Starlette passing it on to bare Starlette",
                      f"http://127.0.0.1:{relay_port}", script),
            Contender("prism", "Prism mock of mesh.openapi.json",
                      f"http://127.0.0.1:{prism_port}", script),
        ], seconds, connections, rounds)


def started(running: contextlib.ExitStack,
            server: tuple[contextlib.AbstractContextManager[None], int]) -> int:
    """Start ``server`` for the rest of ``running``; its port."""
    running.enter_context(server[0])
    return server[1]


def verdict(name: str, found: dict[str, float]) -> None:
    vs_prism, vs_bare = found["ours"] / found["prism"], found["ours"] / found["bare"]
    relay = (f"; {found['ours'] / found['bare relay']:.0%} of a bare relay making the same hop"
             if "bare relay" in found else "")
    if "bare state" in found:
        relay = (f"; bare Starlette doing the same state work reaches "
                 f"{found['bare state'] / found['bare']:.0%} of bare, ours "
                 f"{found['ours'] / found['bare state']:.0%} of it")
    print(f"{name}: {vs_prism:.2f}× Prism (goal ≥ 5×: {'met' if vs_prism >= 5 else 'missed'}), "
          f"{vs_bare:.0%} of bare Starlette (goal ≥ 50 %: "
          f"{'met' if vs_bare >= 0.5 else 'missed'}){relay}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measurements of each contender, taken in turn (median kept)")
    parser.add_argument("--connections", type=int, default=wrk.CONNECTIONS)
    parser.add_argument("--sqlite-synchronous", choices=("FULL", "NORMAL"),
                        default=DEFAULT_SYNCHRONOUS,
                        help="SQLite durability of the simulators: NORMAL (their default; WAL: "
                             "a commit survives a crash or restart of the simulator, not of the "
                             "machine) or FULL (also a power loss: an fsync per commit)")
    parser.add_argument("--only", choices=("registry", "mesh"),
                        help="measure one of the two (default: both)")
    args = parser.parse_args()
    os.chdir(ROOT)
    os.environ["MESHCERT_SQLITE_SYNCHRONOUS"] = args.sqlite_synchronous  # inherited by them
    print(f"wrk -t{wrk.THREADS} -c{args.connections}, {args.rounds} × {args.seconds:g} s each "
          "(in turn; medians), "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, SQLite synchronous="
          f"{args.sqlite_synchronous}", flush=True)
    found: dict[str, dict[str, float]] = {}
    if args.only in (None, "registry"):
        print("resident registry, hot read:")
        found["registry read"] = bench_registry(args.seconds, args.connections, args.rounds)
    if args.only in (None, "mesh"):
        print("mesh, single inquiry:")
        found["mesh inquiry"] = bench_mesh(args.seconds, args.connections, args.rounds)
    for name, figures in found.items():
        verdict(name, figures)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
