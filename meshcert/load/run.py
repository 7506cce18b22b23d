"""Load runs: a scenario (meshcert/load/scenarios.py) against a system (meshcert/load/systems.py),
driven by Locust in its own process (``python -m locust -f meshcert_loadtests/<file>.py
--headless``).

Locust is never imported here: its gevent monkey-patching breaks ssl and pytest in the host
process. The parent mints the tokens, seeds the data, writes the plan (shape, mix, tokens,
identifiers) to a private JSON file the locustfile reads, follows the run's stats history for
live progress, and reads the CSV stats (and, on one machine, the exact samples) afterwards.

    result = run_load(LoadOptions(scenario="moving-season",
                                  target=Path("fixtures/vendors/reference-registry.yaml"),
                                  duration_s=30))
    result.report_dir / "load.html", result.passed
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshcert.backends.processes import stop_child
from meshcert.catalog.requirements import Catalog, LoadSpec
from meshcert.certify.plan import PROJECT_ROOT, REPORTS_OUT
from meshcert.load import scenarios
from meshcert.load.scenarios import Scale, Scenario
from meshcert.load.stats import (
    AGGREGATED,
    endpoint_stats,
    failure_kinds,
    history,
    nearest_rank,
    read_samples,
)
from meshcert.load.systems import (
    LoadConfigError,
    System,
    for_worker,
    fund_provider_kind,
    kind_of,
    prepared,
    run_name,
)

LOADTESTS = PROJECT_ROOT / "meshcert_loadtests"
DEFAULT_PER_USER_RATE = 5.0     # requests/s one simulated user offers, unless --users says
MAX_DEFAULT_USERS = 500
# The highest peak a run may offer, requests/s: ~30× the nationwide notice compressed into an
# hour (125 M / 3600 s); beyond it a figure is a typo, not a plan.
MAX_RATE = 1_000_000.0
SPAWN_RATE = 100.0
Progress = Callable[[dict[str, Any]], None]

__all__ = ["LoadConfigError", "LoadOptions", "LoadResult", "run_load", "run_locust"]


@dataclass(frozen=True)
class LoadOptions:
    scenario: str
    target: Path
    users: int | None = None          # the users at the peak (default: peak rate / 5 req/s)
    rate: float | None = None         # the peak rate, requests/s (default: the scenario's)
    duration_s: float | None = None   # default: the scenario's
    processes: int | None = None      # Locust worker processes on this machine (-1: a core each)
    scale: Scale = field(default_factory=Scale)
    bulk_rows: int = scenarios.BULK_ROWS
    out_dir: Path | None = None
    master: bool = False              # distributed: this machine runs the master
    expect_workers: int = 1
    master_bind_port: int | None = None
    keep_running: bool = False
    topology: Path | None = None      # the harness side of a vendor target (its issuer)


@dataclass(frozen=True)
class LoadResult:
    report_dir: Path
    data: dict[str, Any]

    @property
    def passed(self) -> bool:
        return bool(self.data["passed"])


# -- the plan ------------------------------------------------------------------------------------


def scenario_or_fail(name: str, target: Path) -> tuple[Scenario, scenarios.TargetKind]:
    try:
        scenario = scenarios.get(name)
    except ValueError as exc:
        raise LoadConfigError(str(exc)) from None
    kind = kind_of(target)
    if kind not in scenario.kinds:
        wanted = " or ".join("a resident-registry target file" if k == "registry" else
                             "a mesh topology" for k in scenario.kinds)
        raise LoadConfigError(f"scenario {name} runs against {wanted}; {target} is "
                              f"{'a target file' if kind == 'registry' else 'a mesh topology'}")
    wanted_kind = scenario.fund_provider_kind
    if wanted_kind is not None and fund_provider_kind(target) != wanted_kind:
        raise LoadConfigError(f"scenario {name} needs a topology whose public-fund provider is "
                              f"a simulator of kind {wanted_kind} "
                              f"(fixtures/topologies/benefit-payout.yaml); {target} has none")
    return scenario, kind


def weights(mix: dict[str, float], bulk_rows: int) -> dict[str, int]:
    """Locust task weights (integers) from a mix of requests/s; bulk rows become files."""
    per_task = {("bulk" if k == "bulk-row" else k): (v / bulk_rows if k == "bulk-row" else v)
                for k, v in mix.items() if v > 0}
    total = sum(per_task.values()) or 1.0
    return {k: max(1, round(v / total * 100_000)) for k, v in per_task.items()}


def plan_for(scenario: Scenario, kind: scenarios.TargetKind, options: LoadOptions
             ) -> dict[str, Any]:
    """Peak rate, users, per-user rate and the stages of the run (no secrets)."""
    natural = scenario.peak_rate(options.scale, kind)
    peak = options.rate if options.rate is not None else natural
    if not 0 < peak <= MAX_RATE:  # the scenario's own figure at a tiny --window, say
        raise LoadConfigError(f"a peak of {peak:,.0f} requests/s is beyond what a run can "
                              f"offer (at most {MAX_RATE:,.0f}): lengthen --window or give "
                              "--rate")
    duration = options.duration_s or scenario.default_duration_s
    users = options.users or min(MAX_DEFAULT_USERS,
                                 max(1, math.ceil(peak / DEFAULT_PER_USER_RATE)))
    per_user = peak / users
    shape = scenarios.stages(scenario.curve, peak, duration, per_user)
    return {"scenario": scenario.name, "kind": kind, "peak_rate": peak,
            "natural_peak_rate": natural, "users": users, "per_user_rate": per_user,
            "duration_s": duration, "spawn_rate": max(SPAWN_RATE, users / 2),
            "stages": [[s.end_s, s.users] for s in shape],
            "offered": [[s.end_s, s.rate] for s in shape],
            "mix": scenario.peak_mix(options.scale, kind),
            "weights": weights(scenario.peak_mix(options.scale, kind), options.bulk_rows),
            "assumptions": scenario.assumptions(options.scale, kind),
            "scale": {"municipalities": options.scale.municipalities,
                      "residents": options.scale.residents,
                      "window_s": options.scale.window_s or scenario.default_window_s}}


# -- running Locust ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocustRun:
    prefix: Path          # <prefix>_stats.csv, _stats_history.csv, _failures.csv
    samples: Path | None  # folder of samples-<pid>.csv (local runs)
    log: Path
    exit_code: int
    wall_s: float


def locust_command(locustfile: str, base_url: str, prefix: Path, *, processes: int | None,
                   master: bool = False, expect_workers: int = 1,
                   master_bind_port: int | None = None) -> list[str]:
    command = [sys.executable, "-m", "locust", "-f", str(LOADTESTS / locustfile),
               "--headless", "--host", base_url, "--csv", str(prefix), "--csv-full-history",
               "--only-summary", "--skip-log-setup", "--exit-code-on-error", "0",
               "--stop-timeout", "5"]
    if processes:
        command += ["--processes", str(processes)]
    if master:
        command += ["--master", "--expect-workers", str(expect_workers)]
        if master_bind_port:
            command += ["--master-bind-port", str(master_bind_port)]
    return command


def run_locust(locustfile: str, system: System, plan: dict[str, Any], work: Path, *,
               samples: bool = True, processes: int | None = None, master: bool = False,
               expect_workers: int = 1, master_bind_port: int | None = None,
               progress: Progress | None = None,
               stop_when: Callable[[Path], bool] | None = None) -> LocustRun:
    """Run Locust headless in its own process with ``plan`` (plus the system's tokens, TLS
    trust and data); report progress every second from the stats history; ``stop_when`` may
    end the run early (it is asked with the samples folder)."""
    work.mkdir(parents=True, exist_ok=True)
    sample_dir = work / "samples" if samples and not master else None
    full_plan = {**plan, "tokens": system.tokens, "data": system.data,
                 "ca_file": system.ca_file, "verify": system.verify,
                 "samples": str(sample_dir) if sample_dir else None}
    plan_path = work / "plan.json"
    # The plan holds bearer tokens: readable by this user only.
    fd = os.open(plan_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(full_plan, handle, ensure_ascii=False)
    prefix = work / "locust"
    command = locust_command(locustfile, system.base_url, prefix, processes=processes,
                             master=master, expect_workers=expect_workers,
                             master_bind_port=master_bind_port)
    env = {**os.environ, "MESHCERT_LOAD_PLAN": str(plan_path), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                      env.get("PYTHONPATH")]))
    log_path = work / "locust.log"
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            stopping = False
            while process.poll() is None:
                time.sleep(1.0)
                if progress:
                    point = _last_point(prefix)
                    if point:
                        progress({**point, "elapsed_s": time.perf_counter() - started,
                                  "duration_s": plan["duration_s"]})
                if (not stopping and stop_when and sample_dir is not None
                        and stop_when(sample_dir)):
                    stopping = True
                    process.send_signal(signal.SIGTERM)  # Locust writes its stats and quits
        except BaseException:
            stop_child(process)
            raise
    code = process.wait()
    wall = time.perf_counter() - started
    if not Path(f"{prefix}_stats.csv").is_file():
        tail = "\n".join(log_path.read_text(encoding="utf-8", errors="replace")
                         .splitlines()[-25:])
        raise RuntimeError(f"Locust stopped with status {code} without stats "
                           f"(its output: {log_path}):\n{tail}")
    return LocustRun(prefix, sample_dir, log_path, code, wall)


def _last_point(prefix: Path) -> dict[str, Any] | None:
    path = Path(f"{prefix}_stats_history.csv")
    if not path.is_file():
        return None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    header = lines[0].split(",") if lines else []
    for line in reversed(lines[1:]):
        cells = line.split(",")
        if len(cells) == len(header) and cells[3].strip('"') == AGGREGATED:
            row = dict(zip(header, cells, strict=True))
            return {"users": int(float(row["User Count"])),
                    "rps": float(row["Requests/s"]), "fail_rps": float(row["Failures/s"]),
                    "p95_ms": float(row["95%"]) if row["95%"] not in ("", "N/A") else None,
                    "requests": int(float(row["Total Request Count"])),
                    "failures": int(float(row["Total Failure Count"]))}
    return None


# -- judging against the catalog ---------------------------------------------------------------


def catalog_checks(catalog: Catalog | None, profile: str | None,
                   endpoints: list[dict[str, Any]], samples: dict[str, list[float]] | None
                   ) -> list[dict[str, Any]]:
    """Each latency target of the profile whose timed request ran: observed percentile (exact
    when samples exist, else Locust's) against the threshold."""
    if catalog is None or profile is None:
        return []
    by_name = {e["name"]: e for e in endpoints}
    checks = []
    for requirement in catalog.for_profile(profile):
        target = requirement.target
        if target is None or not isinstance(target.load, LoadSpec):
            continue
        endpoint = by_name.get(target.load.request)
        if endpoint is None or not endpoint["requests"]:
            continue
        exact = (samples or {}).get(target.load.request)
        if exact:
            observed = nearest_rank(exact, target.percentile)
            how = "exact, nearest rank"
        else:
            column = next((f"p{q}_ms" for q in (50, 95, 99) if q >= target.percentile),
                          "max_ms")
            observed = endpoint[column]
            how = "Locust's bucketed percentile"
        checks.append({"requirement": requirement.id, "level": requirement.level,
                       "request": target.load.request, "percentile": target.percentile,
                       "threshold_ms": target.threshold, "observed_ms": observed,
                       "how": how, "met": observed is not None and observed <= target.threshold,
                       "failures": endpoint["failures"], "requests": endpoint["requests"]})
    return checks


def samples_by_name(folder: Path | None) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    if folder is None:
        return found
    for sample in read_samples(folder):
        if sample.ok:
            found.setdefault(sample.name, []).append(sample.ms)
    return found


# -- a whole load run ----------------------------------------------------------------------------


def run_load(options: LoadOptions, progress: Progress | None = None) -> LoadResult:
    """Validate, start and seed the system, run the scenario, write load.json and load.html."""
    from meshcert.load.report import write_load_report

    notify = progress or (lambda _event: None)
    scenario, kind = scenario_or_fail(options.scenario, options.target)
    plan = plan_for(scenario, kind, options)
    name = run_name("load")
    report_dir = (options.out_dir or REPORTS_OUT / name).resolve()
    if report_dir.exists() and any(report_dir.iterdir()):
        raise LoadConfigError(f"--out {report_dir}: exists and is not empty")
    report_dir.mkdir(parents=True, exist_ok=True)
    with prepared(options.target, name, duration_s=plan["duration_s"],
                  keep_running=options.keep_running, topology=options.topology,
                  notify=lambda text: notify({"event": "phase", "text": text})) as system, \
            tempfile.TemporaryDirectory(prefix="meshcert-load-") as work:
        if kind == "mesh":
            system.data["bulk_rows"] = options.bulk_rows
            system.data["bulk_at_start"] = "bulk" in plan["weights"]
        notify({"event": "phase", "text": f"running {scenario.name}: peak "
                f"{plan['peak_rate']:,.1f} req/s from {plan['users']} users for "
                f"{plan['duration_s']:g} s"})
        run = run_locust(scenario.locustfile, system, plan, Path(work),
                         samples=not options.master, processes=options.processes,
                         master=options.master, expect_workers=options.expect_workers,
                         master_bind_port=options.master_bind_port,
                         progress=lambda point: notify({"event": "tick", **point}))
        notify({"event": "phase", "text": "reading the stats and writing the report"})
        endpoints = endpoint_stats(run.prefix)
        exact = samples_by_name(run.samples)
        checks = catalog_checks(system.catalog, system.profile, endpoints, exact)
        failures = failure_kinds(run.prefix)
        totals = next((e for e in endpoints if e["name"] == AGGREGATED), None)
        data = {
            "format": "meshcert-load/1", "run": name, "scenario": {
                "name": scenario.name, "title": scenario.title, "summary": scenario.summary,
                "curve": scenario.curve_label},
            "target": {"file": str(options.target), "kind": kind, "name": system.name,
                       "base_url": system.base_url, "simulators": system.simulators},
            "load": {k: plan[k] for k in ("peak_rate", "natural_peak_rate", "users",
                                          "per_user_rate", "duration_s", "mix", "weights",
                                          "offered", "stages", "scale")},
            "assumptions": plan["assumptions"],
            "locust": {"processes": options.processes, "master": options.master,
                       "exit_code": run.exit_code, "wall_s": round(run.wall_s, 2)},
            "endpoints": [e for e in endpoints if e["name"] != AGGREGATED],
            "overall": totals,
            "history": history(run.prefix),
            "failures": failures,
            "checks": checks,
            "passed": all(c["met"] for c in checks) and not failures,
        }
        report = write_load_report(report_dir, data)
        (report_dir / "locust.log").write_bytes(run.log.read_bytes())
    notify({"event": "phase", "text": f"report: {report}"})
    return LoadResult(report_dir, data)


def run_worker(options: LoadOptions, master_host: str, master_port: int = 5557) -> int:
    """A Locust worker for a master on another machine (``meshcert load --master``): the same
    scenario and target file; tokens minted here; the master runs the shape and keeps the stats.
    Returns Locust's exit status."""
    scenario, kind = scenario_or_fail(options.scenario, options.target)
    plan = plan_for(scenario, kind, options)
    with for_worker(options.target, plan["duration_s"], options.topology) as system, \
            tempfile.TemporaryDirectory(prefix="meshcert-worker-") as work:
        plan_path = Path(work) / "plan.json"
        fd = os.open(plan_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({**plan, "tokens": system.tokens, "data": system.data,
                       "ca_file": system.ca_file, "verify": system.verify, "samples": None},
                      handle, ensure_ascii=False)
        command = [sys.executable, "-m", "locust", "-f", str(LOADTESTS / scenario.locustfile),
                   "--worker", "--master-host", master_host, "--master-port", str(master_port),
                   "--host", system.base_url]
        if options.processes:
            command += ["--processes", str(options.processes)]
        env = {**os.environ, "MESHCERT_LOAD_PLAN": str(plan_path),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                           os.environ.get("PYTHONPATH")]))}
        return subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=False).returncode


def run_stated_load(base_url: str, spec: LoadSpec, *, token: str, lg: str,
                    residents: list[dict[str, Any]], ca_file: str | None = None,
                    verify: bool = True) -> dict[str, Any]:
    """The stated load of a catalog latency target, for a certification: ``spec.users`` users
    reading residents at ``spec.rate`` requests/s for ``spec.duration_s``, through Locust in
    its own process. Returns the exact samples (ms) of the timed request that succeeded and
    the load figures the certificate records."""
    system = System(kind="registry", name="target", source=Path("."), base_url=base_url,
                    verify=verify, ca_file=ca_file, tokens={"read": token},
                    data={"kind": "registry", "lg": lg,
                          "residents": [{"atena": r["atena_number"]} for r in residents]})
    plan = {"scenario": "stated-load", "kind": "registry", "duration_s": spec.duration_s,
            "per_user_rate": spec.rate / spec.users, "spawn_rate": float(spec.users),
            "stages": [[spec.duration_s, spec.users]], "weights": {"read": 1}}
    with tempfile.TemporaryDirectory(prefix="meshcert-stated-load-") as work:
        run = run_locust("stated_load.py", system, plan, Path(work), samples=True)
        assert run.samples is not None
        samples = read_samples(run.samples)
        failures = failure_kinds(run.prefix)
    timed = [s for s in samples if s.name == spec.request]
    ok = [round(s.ms, 3) for s in timed if s.ok]
    span = (timed[-1].at - timed[0].at) if len(timed) > 1 else 0.0
    return {"samples": ok, "figures": {
        "tool": "locust (FastHttpUser, own process)", "request": spec.request,
        "users": spec.users, "rate_offered": spec.rate, "duration_s": spec.duration_s,
        "requests": len(timed), "failed": len(timed) - len(ok),
        "rate_achieved": round(len(timed) / span, 2) if span else None,
        "failures": failures, "locust_exit": run.exit_code}}
