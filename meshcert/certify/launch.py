"""The simulators a certification runs against: a bundled reference and its issuer on free
ports in a run folder of its own, or the harness topology's simulators on their fixed ports,
shared by the runs that use them (see meshcert.certify.run)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from meshcert.backends import processes
from meshcert.backends.ports import backend_module, on_free_ports
from meshcert.certify.plan import Plan
from meshcert.errors import ConfigError, HarnessError
from meshcert_simulators.common.tls import trust_for
from meshcert_simulators.common.topology import TopologyError, load_topology


@dataclass
class Simulators:
    topology_path: Path     # what the harness uses (a derived copy for a launched reference)
    target_path: Path       # the target file pytest gets (derived for a launched reference)
    run_dir: Path
    base_url: str
    urls: dict[str, str]


@contextlib.contextmanager
def simulators_for(plan: Plan, keep_running: bool) -> Iterator[Simulators]:
    if plan.target.launch is not None:
        with _launched(plan, keep_running) as sims:
            yield sims
    else:
        with _shared(plan, keep_running) as sims:
            yield sims


@contextlib.contextmanager
def _launched(plan: Plan, keep_running: bool) -> Iterator[Simulators]:
    """The bundled reference and its issuer on free ports, in a run folder of their own."""
    assert plan.target.launch is not None
    launch = plan.target.launch
    profile = plan.catalog.profiles[plan.target.profile]
    names = list(dict.fromkeys([*profile.simulators, launch.simulator]))
    with on_free_ports(plan.topology_path, names, f"certify-{plan.run_id}", keep_running,
                       defects={launch.simulator: plan.defect} if plan.defect else None,
                       logs_to=plan.report_dir / "logs", backend=plan.backend
                       ) as (topology_path, run_dir):
        topo = load_topology(topology_path)
        target_path = run_dir / "target.yaml"
        base_url = topo.url(launch.simulator)
        target_path.write_text(derived_target(plan.target_path, plan.base, base_url,
                                              topology_path, plan.defect), encoding="utf-8")
        yield Simulators(topology_path, target_path, run_dir, base_url,
                          {n: topo.url(n) for n in names})


def derived_target(target_path: Path, base: Path, base_url: str, topology_path: Path,
                   defect: str | None = None) -> str:
    """The target file as the suites must see it: the reference's URL on this run's port, and
    its relative paths made absolute (the copy lives in the run folder)."""
    raw = yaml.safe_load(target_path.read_text(encoding="utf-8"))
    raw["base_url"] = base_url
    tls = raw.get("tls") or {}
    if tls.get("ca_file") not in (None, "run"):
        tls["ca_file"] = str((base / tls["ca_file"]).resolve())
    seeding = raw.get("seeding") or {}
    if seeding.get("file"):
        seeding["file"] = str((base / seeding["file"]).resolve())
    party = raw.get("relying_party") or {}
    if party.get("public_jwk"):
        party["public_jwk"] = str((base / party["public_jwk"]).resolve())
    launch = raw.get("launch") or {}
    launch["topology"] = str(topology_path)
    if defect:
        launch["defect"] = defect
    return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


@contextlib.contextmanager
def _shared(plan: Plan, keep_running: bool) -> Iterator[Simulators]:
    """A vendor target: the harness topology's simulators on their fixed ports (the vendor's
    system trusts the issuer there), shared by every run that uses the same run folder; the
    last run to finish stops what a run started."""
    topo = load_topology(plan.topology_path)
    run_dir = processes.default_run_dir(topo).resolve()
    names = list(plan.catalog.profiles[plan.target.profile].simulators)
    for name in names:
        try:
            topo.simulator(name)
        except TopologyError as exc:
            raise ConfigError(f"profile {plan.target.profile} needs {name!r}: {exc}") from None
    with _users(run_dir) as others:
        try:
            launched = backend_module(plan.backend).up(plan.topology_path, run_dir, names)
        except processes.Conflict as exc:
            raise ConfigError(str(exc)) from None
        except (processes.ProcessError, TopologyError) as exc:
            raise HarnessError(str(exc)) from None
        verify = trust_for(processes.tls_dir(run_dir))
        for item in launched:
            healthy, why = processes.check_health(item.url, item.name, verify=verify)
            if not healthy:
                raise HarnessError(f"{item.name} (pid {item.pid}, {item.url}) runs but is not "
                                   f"healthy: {why}; restart it (meshcert sim down/up)")
        started = [item.name for item in launched if not item.already_running]
        try:
            yield Simulators(plan.topology_path, plan.target_path.resolve(), run_dir,
                              plan.target.base_url, {n: topo.url(n) for n in names})
        finally:
            if not keep_running and started and not others():
                backend_module(plan.backend).down(run_dir, started)


@contextlib.contextmanager
def _users(run_dir: Path) -> Iterator[Callable[[], bool]]:
    """Registers this process as a user of a shared run folder; yields a function telling
    whether other live certify processes use it too (then nothing is stopped)."""
    users = run_dir / "certify-users"
    users.mkdir(parents=True, exist_ok=True)
    mine = users / str(os.getpid())
    mine.touch()

    def others() -> bool:
        with (run_dir / ".certify-users.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            alive = [p for p in users.iterdir() if p != mine and _pid_alive(p.name)]
            return bool(alive)

    try:
        yield others
    finally:
        mine.unlink(missing_ok=True)


def _pid_alive(name: str) -> bool:
    try:
        os.kill(int(name), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
