"""A certification run: validate, start the counterparts, run the suites, write a signed report.

Programmatic API (what ``meshcert certify`` and ``meshcert selftest`` call)::

    from meshcert.runner import certify, ConfigError

    result = certify("fixtures/vendors/reference-registry.yaml",
                     requirements=None,      # or ["ERR-REQID-001", ...]: only their tests
                     defect=None,            # a defect id: overrides launch.defect (bundled
                                             # reference targets only)
                     seed=None,              # Hypothesis seed; random when None
                     out_dir=None,           # default reports/out/<run id>/
                     baseline=None,          # a baseline file (meshcert/baseline.py)
                     progress=None)          # callable(event: dict), see below
    result.exit_code      # 0 every MUST passed (after the baseline), 1 one failed, 3 the
                          # harness could not judge some requirement (meshcert/verdicts.py)
    result.verdicts       # {"SEC-TLS-001": "pass" | "fail" | "error" | "not-tested" |
                          #  "expected-fail"}
    result.report_dir     # reports/out/<run id>/ with certificate.json, index.html, ...
    result.certified, result.unexpected_failures, result.stale_expectations, result.seed

Configuration problems (an invalid target, catalog or baseline, an unknown requirement or
defect, a busy port, an unusable signing key) raise :class:`ConfigError` before anything
starts (exit status 2 on the command line). A harness that cannot run at all (a simulator that
does not start, pytest stopping on a collection error: :class:`HarnessError` inside) still
gives a report, in which every requirement in scope is an error and ``harness_error`` says why
(exit status 3, "could not judge", as for a requirement whose tests errored).
Further keywords: ``topology`` (the harness side for a vendor target), ``signing_key``,
``keep_running``, ``rerun_of`` (a run id recorded in the certificate).

``progress`` receives dicts: ``{"event": "phase", "text": ...}`` from the runner, and from the
pytest plugin ``collected`` (``total``), ``start`` (``nodeid``), ``test`` (``nodeid``,
``outcome``, ``requirements``, ``duration_s``) and ``finished``.

**Where things run.** A vendor target: the harness topology (default
fixtures/topologies/certify.yaml, its authz issuer) on its fixed ports, from its usual run
folder ``.meshcert/run/<topology>/`` — the vendor's system trusts the issuer at that URL —
reusing simulators already running there. A bundled reference target (with ``launch``): a copy
of the launch topology on free ports in a run folder of its own
(``.meshcert/run/certify-<run id>/``), with the target's base_url rewritten to match, so any
number of certifications can run side by side. Whatever a run started is stopped at its end
(and a private run folder removed, its logs kept in the report) unless ``keep_running``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from meshcert import hypothesis_cache, processes, signing
from meshcert.baseline import Baseline, BaselineError, load_baseline
from meshcert.catalog import Catalog, CatalogError, load_catalog
from meshcert.certificate import CERTIFICATE
from meshcert.harness import CERTIFY_TOPOLOGY, PROFILE_TOPOLOGIES
from meshcert.targets import Target, TargetError, load_target
from meshcert.verdicts import ERROR, EXPECTED_FAIL, FAIL, Outcome, judge, unjudged
from simulators import defects as defect_registry
from simulators.common.tls import trust_for
from simulators.common.topology import Topology, TopologyError, load_topology, with_absolute_paths

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REPORTS_OUT = Path("reports") / "out"
PORT_ATTEMPTS = 3
# Where the simulators run: local processes (meshcert.processes) or containers
# (meshcert.containers, the same up/down shape).
BACKENDS = ("process", "docker")
Progress = Callable[[dict[str, Any]], None]


class ConfigError(ValueError):
    """What was asked cannot run as given (the user's to fix); exit status 2."""


class HarnessError(RuntimeError):
    """The harness itself could not run the certification: nothing was judged; exit status 3
    (``EXIT_INCONCLUSIVE``), never the system's failure."""


@dataclass(frozen=True)
class Certification:
    run_id: str
    report_dir: Path
    exit_code: int
    verdicts: dict[str, str]
    certified: bool
    unexpected_failures: tuple[str, ...]
    stale_expectations: tuple[str, ...]
    seed: int
    outcome: Outcome
    certificate: dict[str, Any]
    kept_running: dict[str, str] = field(default_factory=dict)  # name -> URL, if kept
    sim_run_dir: Path | None = None

    @property
    def index(self) -> Path:
        return self.report_dir / "index.html"


@dataclass(frozen=True)
class PreviousRun:
    run_dir: Path
    failed: tuple[str, ...]
    seed: int | None


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def previous_run(run: str | Path) -> PreviousRun:
    """A finished run, by id (reports/out/<id>) or folder: the requirements that failed there
    (expected failures included) or could not be judged (error), and its seed, for
    ``--rerun-failed``."""
    folder = Path(run)
    if not (folder / CERTIFICATE).is_file():
        folder = REPORTS_OUT / str(run)
    path = folder / CERTIFICATE
    try:
        certificate = json.loads(path.read_text(encoding="utf-8"))
        failed = tuple(r["id"] for r in certificate["requirements"]
                       if r["verdict"] in (FAIL, EXPECTED_FAIL, ERROR))
        seed = certificate.get("seed")
    except FileNotFoundError:
        raise ConfigError(f"--rerun-failed {run}: no {CERTIFICATE} in {folder} (give a run id "
                          f"from {REPORTS_OUT}/ or a report folder)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"--rerun-failed {run}: cannot read {path}: {exc}") from None
    return PreviousRun(folder, failed, seed if isinstance(seed, int) else None)


# -- the run ---------------------------------------------------------------------------------


def certify(target_path: str | Path, *, requirements: Sequence[str] | None = None,
            defect: str | None = None, seed: int | None = None,
            out_dir: str | Path | None = None, baseline: str | Path | None = None,
            progress: Progress | None = None, topology: str | Path | None = None,
            signing_key: str | Path | None = None, keep_running: bool = False,
            rerun_of: str | None = None, backend: str = "process") -> Certification:
    """Certify the system a target file describes; see the module docstring."""
    from meshcert.reports import RunFacts, write_report

    notify = progress or (lambda _event: None)
    started = datetime.now(UTC)
    if backend not in BACKENDS:
        raise ConfigError(f"backend {backend!r}: use one of {', '.join(BACKENDS)}")
    plan = replace(_plan(Path(target_path), requirements, defect, out_dir, baseline, topology,
                         signing_key), backend=backend)
    seed = seed if seed is not None else secrets.randbelow(2**31)
    plan.report_dir.mkdir(parents=True, exist_ok=True)
    notify({"event": "phase", "text": "starting the simulators"})
    try:
        with _simulators(plan, keep_running) as sims, \
                tempfile.TemporaryDirectory(prefix="meshcert-certify-") as work:
            notify({"event": "phase", "text": "running the suites"})
            results = _run_pytest(plan, sims, seed, Path(work), notify)
    except HarnessError as exc:
        return _unjudged(plan, str(exc), seed, started, rerun_of, defect is not None,
                         Path(topology) if topology else None)
    outcome = judge(plan.catalog, plan.target.profile, results["tests"], plan.requirements,
                    plan.baseline)
    notify({"event": "phase", "text": "writing the report"})
    facts = RunFacts(
        run_id=plan.run_id, target=plan.target, target_path=plan.target_path,
        base_url=sims.base_url, launch_simulator=plan.target.launch.simulator
        if plan.target.launch else None, defect=plan.defect, defect_overridden=defect is not None,
        catalog=plan.catalog, seed=seed, started=started, finished=datetime.now(UTC),
        scope=plan.requirements, rerun_of=rerun_of, baseline=plan.baseline,
        pytest_exit=int(results["exitstatus"]), simulators=sims.urls,
        topology=Path(topology) if topology else None, backend=plan.backend,
        hypothesis_seed=results.get("hypothesis_seed"))
    certificate = write_report(plan.report_dir, facts, outcome, results["tests"], plan.key)
    return Certification(
        run_id=plan.run_id, report_dir=plan.report_dir, exit_code=outcome.exit_code,
        verdicts=outcome.by_id(), certified=outcome.certified,
        unexpected_failures=outcome.unexpected_failures,
        stale_expectations=outcome.stale_expectations, seed=seed, outcome=outcome,
        certificate=certificate, kept_running=sims.urls if keep_running else {},
        sim_run_dir=sims.run_dir)


def _unjudged(plan: _Plan, why: str, seed: int, started: datetime, rerun_of: str | None,
              defect_overridden: bool, topology: Path | None) -> Certification:
    """The report of a run the harness could not carry out (a simulator that did not start,
    pytest stopping before it reported): every requirement in scope is an error, the reason
    is in the certificate and the page, junit.xml holds it as an error; exit status 3."""
    from meshcert.reports import RunFacts, write_report
    from meshcert.reports.junit import write_unjudged

    outcome = unjudged(plan.catalog, plan.target.profile, why, plan.requirements)
    write_unjudged(plan.report_dir / "junit.xml", f"meshcert {plan.target.profile}", why)
    facts = RunFacts(
        run_id=plan.run_id, target=plan.target, target_path=plan.target_path,
        base_url=plan.target.base_url, launch_simulator=plan.target.launch.simulator
        if plan.target.launch else None, defect=plan.defect,
        defect_overridden=defect_overridden, catalog=plan.catalog, seed=seed, started=started,
        finished=datetime.now(UTC), scope=plan.requirements, rerun_of=rerun_of,
        baseline=plan.baseline, pytest_exit=-1, simulators={}, topology=topology,
        backend=plan.backend, harness_error=why)
    certificate = write_report(plan.report_dir, facts, outcome, [], plan.key)
    return Certification(
        run_id=plan.run_id, report_dir=plan.report_dir, exit_code=outcome.exit_code,
        verdicts=outcome.by_id(), certified=False, unexpected_failures=(),
        stale_expectations=(), seed=seed, outcome=outcome, certificate=certificate)


@dataclass(frozen=True)
class _Plan:
    run_id: str
    target_path: Path
    target: Target
    base: Path
    catalog: Catalog
    requirements: tuple[str, ...] | None
    defect: str | None
    baseline: Baseline | None
    report_dir: Path
    topology_path: Path
    key: Any
    backend: str = "process"  # where simulators run: BACKENDS


def _plan(target_path: Path, requirements: Sequence[str] | None, defect: str | None,
          out_dir: str | Path | None, baseline: str | Path | None,
          topology: str | Path | None, signing_key: str | Path | None) -> _Plan:
    """Everything checked before anything starts: every problem is the user's to fix."""
    try:
        target, base = load_target(target_path)
    except TargetError as exc:
        raise ConfigError(str(exc)) from None
    try:
        catalog = load_catalog(target.catalog)
        in_profile = [r.id for r in catalog.for_profile(target.profile)]
    except CatalogError as exc:
        raise ConfigError(str(exc)) from None
    chosen = None
    if requirements is not None:
        chosen = tuple(dict.fromkeys(requirements))
        unknown = [i for i in chosen if i not in in_profile]
        if unknown or not chosen:
            raise ConfigError(f"--requirement: not requirements of profile {target.profile} in "
                              f"catalog {catalog.version}: {', '.join(unknown) or '(none given)'}"
                              " (list them: meshcert requirements list)")
    if defect is not None and target.launch is None:
        raise ConfigError(f"a defect applies to a bundled reference target (one with "
                          f"'launch'), and {target_path} has none")
    effective_defect = defect if defect is not None else (target.launch.defect
                                                          if target.launch else None)
    if target.launch is not None:
        topology_path = (base / target.launch.topology).resolve()
        topo = _topology(topology_path)
        try:
            spec = topo.simulator(target.launch.simulator)
        except TopologyError as exc:
            raise ConfigError(f"launch.simulator: {exc}") from None
        if effective_defect is not None:
            try:
                found = defect_registry.get(effective_defect)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            if found.kind != spec.kind:
                raise ConfigError(f"defect {effective_defect!r} applies to {found.kind} "
                                  f"simulators, not to {target.launch.simulator!r} "
                                  f"({spec.kind})")
    else:
        topology_path = (Path(topology).resolve() if topology
                         else PROFILE_TOPOLOGIES.get(target.profile, CERTIFY_TOPOLOGY))
        _topology(topology_path)
    loaded_baseline = None
    if baseline is not None:
        try:
            loaded_baseline = load_baseline(baseline, catalog, target.profile)
        except BaselineError as exc:
            raise ConfigError(str(exc)) from None
    run_id = new_run_id()
    report_dir = Path(out_dir) if out_dir else REPORTS_OUT / run_id
    if report_dir.exists() and (not report_dir.is_dir() or any(report_dir.iterdir())):
        raise ConfigError(f"--out {report_dir}: exists and is not an empty folder (a report "
                          "is never written over another)")
    try:
        key, _ = signing.load_or_create_key(signing_key)
    except signing.SigningError as exc:
        raise ConfigError(str(exc)) from None
    return _Plan(run_id=run_id,
                 target_path=Path(target_path), target=target, base=base, catalog=catalog,
                 requirements=chosen, defect=effective_defect, baseline=loaded_baseline,
                 report_dir=report_dir.resolve(), topology_path=topology_path, key=key)


def _topology(path: Path) -> Topology:
    try:
        topo = load_topology(path)
    except TopologyError as exc:
        raise ConfigError(str(exc)) from None
    if topo.issuer is None or topo.issuer.simulator is None:
        raise ConfigError(f"{path}: the harness needs an authz simulator as issuer "
                          "(issuer.simulator) to mint the access tokens of the suites")
    return topo


# -- simulators ------------------------------------------------------------------------------


@dataclass
class _Simulators:
    topology_path: Path     # what the harness uses (a derived copy for a launched reference)
    target_path: Path       # the target file pytest gets (derived for a launched reference)
    run_dir: Path
    base_url: str
    urls: dict[str, str]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _simulators(plan: _Plan, keep_running: bool) -> Iterator[_Simulators]:
    if plan.target.launch is not None:
        with _launched(plan, keep_running) as sims:
            yield sims
    else:
        with _shared(plan, keep_running) as sims:
            yield sims


@contextlib.contextmanager
def _launched(plan: _Plan, keep_running: bool) -> Iterator[_Simulators]:
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
        yield _Simulators(topology_path, target_path, run_dir, base_url,
                          {n: topo.url(n) for n in names})


@contextlib.contextmanager
def on_free_ports(source: Path, names: Sequence[str], run_name: str, keep_running: bool = False,
                  defects: dict[str, str] | None = None, logs_to: Path | None = None,
                  backend: str = "process") -> Iterator[tuple[Path, Path]]:
    """A copy of topology ``source`` with every port free, its simulators ``names`` started
    in a run folder of their own (``.meshcert/run/<run_name>/``); yields (topology copy, run
    folder). At the end, unless ``keep_running``, stops them, copies their logs to
    ``logs_to`` and removes the run folder. Shared by certification and load runs."""
    run_dir = (Path(".meshcert") / "run" / run_name).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    raw = with_absolute_paths(yaml.safe_load(source.read_text(encoding="utf-8")), source.parent)
    topology_path = run_dir / "topology.yaml"
    started: list[str] = []
    try:
        for attempt in range(1, PORT_ATTEMPTS + 1):
            for spec in raw["simulators"].values():
                spec["port"] = free_port(spec.get("host", "127.0.0.1"))
            raw["name"] = run_name
            topology_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
                                     encoding="utf-8")
            try:
                launched = _backend(backend).up(topology_path, run_dir, names, defects=defects)
                started = [item.name for item in launched]
                break
            except (processes.Conflict, processes.ProcessError) as exc:
                if backend == "docker":
                    from meshcert.containers import EngineUnavailable, ImageMissing
                    if isinstance(exc, EngineUnavailable | ImageMissing):
                        raise ConfigError(str(exc)) from None  # the user's set-up: exit 2
                # Another run took a free port between the probe and the bind: take others.
                busy = isinstance(exc, processes.Conflict) or "address already in use" in str(exc)
                if not busy or attempt == PORT_ATTEMPTS:
                    raise HarnessError(f"cannot start the reference: {exc}") from None
        yield topology_path, run_dir
    finally:
        if not keep_running:
            _stop_private(backend, run_dir, started)
            for name in started:
                log = processes.log_file(run_dir, name)
                if log.is_file() and logs_to is not None:
                    logs_to.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(log, logs_to / log.name)
            shutil.rmtree(run_dir, ignore_errors=True)


def _backend(name: str) -> Any:
    """The module that runs simulators for a backend: both have up, down and log_file."""
    if name == "docker":
        from meshcert import containers

        return containers
    return processes


def _stop_private(backend: str, run_dir: Path, started: list[str]) -> None:
    """Stop what a private run started; its containers' data volumes go with the run folder
    (everything labelled with the run's own topology, a half-made ``up`` included)."""
    if backend == "docker":
        from meshcert import containers

        containers.down(run_dir, volumes=True)
    else:
        processes.down(run_dir, started)


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
    launch = raw.get("launch") or {}
    launch["topology"] = str(topology_path)
    if defect:
        launch["defect"] = defect
    return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


@contextlib.contextmanager
def _shared(plan: _Plan, keep_running: bool) -> Iterator[_Simulators]:
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
            launched = _backend(plan.backend).up(plan.topology_path, run_dir, names)
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
            yield _Simulators(plan.topology_path, plan.target_path.resolve(), run_dir,
                              plan.target.base_url, {n: topo.url(n) for n in names})
        finally:
            if not keep_running and started and not others():
                _backend(plan.backend).down(run_dir, started)


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


# -- pytest ----------------------------------------------------------------------------------


def pytest_command(plan: _Plan, sims: _Simulators, seed: int, work: Path) -> list[str]:
    profile = plan.catalog.profiles[plan.target.profile]
    report = plan.report_dir
    command = [
        sys.executable, "-m", "pytest", "-p", "meshcert.pytest_plugin",
        "--rootdir", str(PROJECT_ROOT),
        *(str(PROJECT_ROOT / suite) for suite in profile.suites),
        "--target", str(sims.target_path),
        "--meshcert-topology", str(sims.topology_path),
        "--meshcert-run-dir", str(sims.run_dir),
        "--meshcert-results", str(work / "results.json"),
        "--meshcert-progress", str(work / "progress.jsonl"),
        "--meshcert-evidence", str(report / "evidence"),
        "--junitxml", str(report / "junit.xml"),
        "-o", f"junit_suite_name=meshcert {plan.target.profile}",
        "--alluredir", str(report / "allure-results"),
        "--hypothesis-seed", str(seed), "--hypothesis-profile", "meshcert-certify",
        "-p", "no:cacheprovider", "-q",
    ]
    for requirement in plan.requirements or ():
        command += ["--requirement", requirement]
    return command


# The pytest plugins a certification's suites use (Hypothesis: --hypothesis-seed and
# profile; Allure: --alluredir; timeout: the per-test limit in pyproject.toml; Schemathesis).
SUITE_PLUGINS = ("_hypothesis_pytestplugin", "allure_pytest.plugin", "pytest_timeout",
                 "schemathesis.pytest.plugin")


def pytest_env(work: Path) -> dict[str, str]:
    """The environment of the suites' pytest: this process's, without an outer pytest's
    worker variables, and with Hypothesis's storage (example database, caches) in the run's
    work folder, so a certification writes nothing into the project checkout (pytest's own
    cache is off: ``-p no:cacheprovider``).

    Only the plugins the suites use are loaded (:data:`SUITE_PLUGINS`), not every one installed:
    pytest rewrites the asserts of every module of an auto-loaded plugin's distribution
    (all of Hypothesis and Schemathesis), seconds of CPU per certification when no bytecode
    cache is written (PYTHONDONTWRITEBYTECODE); the suites' own modules are still rewritten."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST"))}
    env.update(PYTHONUNBUFFERED="1", COLUMNS="120",
               HYPOTHESIS_STORAGE_DIRECTORY=str(work / "hypothesis"),
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTEST_PLUGINS=",".join(SUITE_PLUGINS))
    return env


def _run_pytest(plan: _Plan, sims: _Simulators, seed: int, work: Path,
                notify: Progress) -> dict[str, Any]:
    command = pytest_command(plan, sims, seed, work)
    progress_file = work / "progress.jsonl"
    progress_file.touch()
    log_path = plan.report_dir / "pytest.log"
    env = pytest_env(work)
    storage = Path(env["HYPOTHESIS_STORAGE_DIRECTORY"])
    hypothesis_cache.restore(storage)  # derived by an earlier run, not again by each
    with log_path.open("wb") as log, progress_file.open("r", encoding="utf-8") as events:
        # Run in the work folder: whatever a plugin writes relative to where it runs goes
        # away with the run (every path pytest is given is absolute).
        process = subprocess.Popen(command, cwd=work, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
        pending = ""
        try:
            while True:
                done = process.poll() is not None
                pending += events.read()
                *lines, pending = pending.split("\n")
                for line in lines:
                    if line.strip():
                        notify(json.loads(line))
                if done:
                    break
                time.sleep(0.1)
        except BaseException:
            processes.stop_child(process)
            raise
    hypothesis_cache.keep(storage)
    status = process.returncode
    results_path = work / "results.json"
    if status not in (0, 1, 5) or not results_path.is_file():
        tail = "\n".join(log_path.read_text(encoding="utf-8", errors="replace")
                         .splitlines()[-30:])
        raise HarnessError(f"pytest stopped with status {status} before it could report "
                           f"results (full output: {log_path}):\n{tail}")
    return dict(json.loads(results_path.read_text(encoding="utf-8")))
