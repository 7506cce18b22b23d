"""Benchmark (not a test): requests/s of the simulators' hot paths against their peers.

    .venv/bin/python bench/simulator_throughput.py [--seconds 8] [--connections 16]

Measured in one run, each with ``wrk`` (1 thread, 16 connections, over loopback HTTP):

- **registry read**: ``GET /municipalities/{lg}/residents/{宛名番号}`` of the resident-registry
  simulator, with a JWT access token verified on every request (ES256), the record read from
  SQLite and the read written to the hash-chained audit log;
- **mesh inquiry**: ``POST /v1/inquiries`` through the mesh simulator (符号 conversion,
  legal-basis check, art. 23 records) to the tax provider and back, a new record id each time;
- **bare Starlette**: the same paths answered with fixed JSON under the same uvicorn settings
  (uvloop, httptools): the practical limit of the stack; for the mesh inquiry also a **bare
  relay**, a bare route passing the body on to another bare server and answering with its
  answer (the same outgoing clients as the mesh): the practical limit of one hop;
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
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import wrk  # noqa: E402
from fixtures.population.generator import generate  # noqa: E402
from meshcert.load_systems import prepared, run_name  # noqa: E402
from meshcert.runner import free_port, on_free_ports  # noqa: E402
from simulators.authz.tokens import load_signing_key, mint_access_token  # noqa: E402
from simulators.common.storage import DEFAULT_SYNCHRONOUS  # noqa: E402
from simulators.common.topology import load_topology  # noqa: E402

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


def bare(relay_to: int | None = None) -> tuple[contextlib.AbstractContextManager[None], int]:
    """A bare server; with ``relay_to``, one passing inquiries on to the bare server there."""
    port = free_port()
    relay = {"MESHCERT_BENCH_RELAY": f"http://127.0.0.1:{relay_to}"} if relay_to else {}
    return process([sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--host",
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


def measure(label: str, url: str, script: str, seconds: float, connections: int
            ) -> dict[str, object]:
    wrk.run(url, script, 2, connections=connections)  # warm up: JITs, caches, connections
    result = wrk.run(url, script, seconds, connections=connections)
    bad = f", {result['non_2xx']} non-2xx" if result["non_2xx"] else ""
    print(f"  {label:<44} {result['rps']:>9,.0f} req/s{bad}", flush=True)
    return {"label": label, **result}


def registry_paths(count: int = 200) -> list[str]:
    return [f"/municipalities/{LG}/residents/{r['atena_number']}"
            for r in generate(LG, count, 1)]


def bench_registry(seconds: float, connections: int) -> dict[str, float]:
    """Our registry (embedded topology, plain HTTP, JWT) against bare and Prism."""
    paths = registry_paths()
    found: dict[str, float] = {}
    with on_free_ports(EMBEDDED, ["municipal", "authz"], run_name("bench")) as (topo_path, _):
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
        script = wrk.get_script(paths, {"Authorization": f"Bearer {token}"})
        found["ours"] = float(measure("registry read (JWT, SQLite, audit log)", base, script,
                                      seconds, connections)["rps"])
    server, port = bare()
    with server:
        found["bare"] = float(measure("bare Starlette, same path", f"http://127.0.0.1:{port}",
                                      wrk.get_script(paths, {}), seconds, connections)["rps"])
    server, port = prism(SPECS / "resident-registry.openapi.json")
    with server:
        found["prism"] = float(measure("Prism mock of resident-registry.openapi.json",
                                       f"http://127.0.0.1:{port}",
                                       wrk.get_script(paths, {"Authorization": "Bearer x"}),
                                       seconds, connections)["rps"])
    return found


def bench_mesh(seconds: float, connections: int) -> dict[str, float]:
    found: dict[str, float] = {}
    with prepared(MESH, run_name("bench"), duration_s=3600) as system:
        row = system.data["inquirers"]["tax"]
        script = wrk.inquiry_script(row, row["codes"], system.tokens["tax"])
        found["ours"] = float(measure("mesh inquiry (→ tax provider, art. 23 records)",
                                      system.base_url, script, seconds, connections)["rps"])
    server, port = bare()
    with server:
        found["bare"] = float(measure("bare Starlette, same path", f"http://127.0.0.1:{port}",
                                      script, seconds, connections)["rps"])
        relay, relay_port = bare(relay_to=port)
        with relay:
            found["bare relay"] = float(measure(
                "bare Starlette passing it on to bare Starlette", f"http://127.0.0.1:{relay_port}",
                script, seconds, connections)["rps"])
    server, port = prism(SPECS / "mesh.openapi.json")
    with server:
        found["prism"] = float(measure("Prism mock of mesh.openapi.json",
                                       f"http://127.0.0.1:{port}", script, seconds,
                                       connections)["rps"])
    return found


def verdict(name: str, found: dict[str, float]) -> None:
    vs_prism, vs_bare = found["ours"] / found["prism"], found["ours"] / found["bare"]
    relay = (f"; {found['ours'] / found['bare relay']:.0%} of a bare relay making the same hop"
             if "bare relay" in found else "")
    print(f"{name}: {vs_prism:.2f}× Prism (goal ≥ 5×: {'met' if vs_prism >= 5 else 'missed'}), "
          f"{vs_bare:.0%} of bare Starlette (goal ≥ 50 %: "
          f"{'met' if vs_bare >= 0.5 else 'missed'}){relay}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
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
    print(f"wrk -t{wrk.THREADS} -c{args.connections}, {args.seconds:g} s each, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, SQLite synchronous="
          f"{args.sqlite_synchronous}", flush=True)
    found: dict[str, dict[str, float]] = {}
    if args.only in (None, "registry"):
        print("resident registry, hot read:")
        found["registry read"] = bench_registry(args.seconds, args.connections)
    if args.only in (None, "mesh"):
        print("mesh, single inquiry:")
        found["mesh inquiry"] = bench_mesh(args.seconds, args.connections)
    for name, figures in found.items():
        verdict(name, figures)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
