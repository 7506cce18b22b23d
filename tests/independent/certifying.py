"""Certifying a system meshcert did not write, as a vendor does (tests/independent/test_*.py):
the published harness topology copied onto free ports under a name of its own
(:func:`vendor_topology`), the system's target file with the port it got and no ``launch``
(:func:`vendor_target`, :func:`independent_relying_party`), ``meshcert certify`` as a process of
its own (:func:`certify`), the verdicts read back from the certificate (:class:`Certification`),
and the two judgements such tests make (:func:`assert_certified`, :func:`assert_fails_only`)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from meshcert.backends.ports import free_port
from tests.integration.topologies import copy_on_free_ports

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Certification:
    status: int               # the exit status of ``meshcert certify``
    verdicts: dict[str, str]  # requirement id → verdict, from certificate.json
    output: str               # the end of its stdout and stderr, for assertion messages

    @property
    def failed(self) -> set[str]:
        return {rid for rid, verdict in self.verdicts.items() if verdict != "pass"}


@dataclass(frozen=True)
class VendorTopology:
    path: Path
    data: dict[str, Any]

    def url(self, simulator: str) -> str:
        spec = self.data["simulators"][simulator]
        return f"http://{spec.get('host', '127.0.0.1')}:{spec['port']}"


def vendor_topology(published: Path, folder: Path, prefix: str) -> VendorTopology:
    """``published`` copied to ``folder``/topology.yaml on free ports, named ``prefix``-<random>
    (so such certifications run side by side)."""
    path = folder / "topology.yaml"
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return VendorTopology(path, copy_on_free_ports(published, path,
                                                   change=lambda data: data.update(name=name)))


def vendor_target(source: Path, folder: Path, port: int,
                  change: Callable[[dict[str, Any]], None] | None = None
                  ) -> tuple[dict[str, Any], Path]:
    """The target file ``source`` with ``base_url`` on ``port`` (``change`` may alter it
    further), written to ``folder``/target.yaml; (its content, its path)."""
    target = yaml.safe_load(source.read_text(encoding="utf-8"))
    target["base_url"] = f"http://127.0.0.1:{port}"
    if change is not None:
        change(target)
    path = folder / "target.yaml"
    path.write_text(yaml.safe_dump(target, allow_unicode=True), encoding="utf-8")
    return target, path


def independent_relying_party(package: str, keys: str, folder: Path, topology: VendorTopology,
                              peer: str, *extra: str) -> tuple[list[str], dict[str, Any], Path]:
    """A relying party of tests/independent/``package``/ on a free port: the command that starts
    it (the topology's ``idp`` its provider, its ``peer`` simulator, its private key
    ``keys``.private.jwk.json; ``extra`` options), its target file with its public key; (the
    command, the target, the target's path)."""
    here = ROOT / "tests" / "independent" / package
    port = free_port()

    def with_public_key(target: dict[str, Any]) -> None:
        target["relying_party"]["public_jwk"] = str(here / f"{keys}.public.jwk.json")

    target, path = vendor_target(here / "target.yaml", folder, port, change=with_public_key)
    relying_party = target["relying_party"]
    command = [sys.executable, "-m", f"tests.independent.{package}", "--port", str(port),
               "--issuer", topology.url("idp"), f"--{peer}", topology.url(peer),
               "--client-id", relying_party["client_id"],
               "--key", str(here / f"{keys}.private.jwk.json"),
               "--redirect-uri", f"{target['base_url']}{relying_party['redirect_uri']}", *extra]
    return command, target, path


def certify(target: Path, topology: Path | str, out: Path, *extra: str, cwd: Path,
            timeout_s: float = 600, signing_key: Path | None = None) -> Certification:
    """``meshcert certify`` of ``target`` against ``topology`` (``extra``: more options), run
    in ``cwd``, signing with ``signing_key`` (else the default key); the certificate must have
    been written to ``out``."""
    env = {**os.environ, "COLUMNS": "200"}
    if signing_key is not None:
        env["MESHCERT_SIGNING_KEY"] = str(signing_key)
    run = subprocess.run(
        [sys.executable, "-m", "meshcert.cli", "certify", "--target", str(target),
         "--topology", str(topology), "--out", str(out), *extra],
        cwd=cwd, capture_output=True, text=True, timeout=timeout_s, env=env)
    return certification(run, out)


def certification(run: subprocess.CompletedProcess[str], out: Path) -> Certification:
    """The verdicts of the certificate ``run`` wrote to ``out`` (which must be there)."""
    output = run.stdout[-4000:] + run.stderr[-2000:]
    certificate = out / "certificate.json"
    assert certificate.is_file(), (
        f"no certificate was written (exit {run.returncode}):\n{output}")
    requirements = json.loads(certificate.read_text(encoding="utf-8"))["requirements"]
    return Certification(run.returncode, {r["id"]: r["verdict"] for r in requirements}, output)


def assert_certified(run: Certification) -> None:
    """Exit 0 and every requirement judged passed."""
    assert run.status == 0 and set(run.verdicts.values()) == {"pass"}, (run.verdicts, run.output)


def assert_fails_only(run: Certification, broken: str, requirement: str) -> None:
    """The system broken in ``broken``: exit 1, ``requirement`` failed and nothing else."""
    assert run.status == 1 and run.failed == {requirement}, (
        f"broken {broken!r} must fail {requirement} only; failed {sorted(run.failed)}\n"
        f"{run.output}")


@contextmanager
def taking_turns(lock_name: str) -> Iterator[None]:
    """Held by one pytest-xdist worker at a time: for certifications against fixed ports
    (a harness on the published ports would read another certification's exchanges)."""
    run_dir = ROOT / ".meshcert" / "run"
    lock_path = run_dir / f"{lock_name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
