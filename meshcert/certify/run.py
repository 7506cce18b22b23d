"""A certification run: validate, start the counterparts, run the suites, write a signed report.

Programmatic API (what ``meshcert certify`` and ``meshcert selftest`` call)::

    from meshcert.certify.run import certify, ConfigError

    result = certify("fixtures/vendors/reference-registry.yaml",
                     requirements=None,      # or ["ERR-REQID-001", ...]: only their tests
                     defect=None,            # a defect id: overrides launch.defect (bundled
                                             # reference targets only)
                     seed=None,              # Hypothesis seed; random when None
                     out_dir=None,           # default reports/out/<run id>/
                     baseline=None,          # a baseline file (meshcert/certify/baseline.py)
                     progress=None)          # callable(event), see below
    result.exit_code      # 0 every MUST passed (after the baseline), 1 one failed, 3 the
                          # harness could not judge some requirement (meshcert/certify/verdicts.py)
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

``progress`` receives typed events (meshcert/certify/events.py): ``Phase`` (``text``) from the
runner, and from the pytest plugin ``Collected`` (``total``), ``Started`` (``nodeid``),
``TestFinished`` (``nodeid``, ``outcome``, ``requirements``, ``duration_s``) and ``Finished``.

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

import json
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from meshcert.backends.ports import BACKENDS
from meshcert.certify.events import Phase, Progress
from meshcert.certify.launch import simulators_for
from meshcert.certify.plan import REPORTS_OUT, Plan, make_plan
from meshcert.certify.pytest_run import run_pytest
from meshcert.certify.verdicts import ERROR, EXPECTED_FAIL, FAIL, Outcome, judge, unjudged
from meshcert.errors import ConfigError, HarnessError
from meshcert.reports.certificate import CERTIFICATE


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
    harness_error: str | None = None  # why the harness could not run the suites at all

    @property
    def index(self) -> Path:
        return self.report_dir / "index.html"


@dataclass(frozen=True)
class PreviousRun:
    run_dir: Path
    failed: tuple[str, ...]
    seed: int | None


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
    plan = replace(make_plan(Path(target_path), requirements, defect, out_dir, baseline, topology,
                         signing_key), backend=backend)
    seed = seed if seed is not None else secrets.randbelow(2**31)
    plan.report_dir.mkdir(parents=True, exist_ok=True)
    notify(Phase(text="starting the simulators"))
    try:
        with simulators_for(plan, keep_running) as sims, \
                tempfile.TemporaryDirectory(prefix="meshcert-certify-") as work:
            notify(Phase(text="running the suites"))
            results = run_pytest(plan, sims, seed, Path(work), notify)
    except HarnessError as exc:
        return _unjudged(plan, str(exc), seed, started, rerun_of, defect is not None,
                         Path(topology) if topology else None)
    outcome = judge(plan.catalog, plan.target.profile, results.tests, plan.requirements,
                    plan.baseline)
    notify(Phase(text="writing the report"))
    facts = RunFacts(
        run_id=plan.run_id, target=plan.target, target_path=plan.target_path,
        base_url=sims.base_url, launch_simulator=plan.target.launch.simulator
        if plan.target.launch else None, defect=plan.defect, defect_overridden=defect is not None,
        catalog=plan.catalog, seed=seed, started=started, finished=datetime.now(UTC),
        scope=plan.requirements, rerun_of=rerun_of, baseline=plan.baseline,
        pytest_exit=results.exitstatus, simulators=sims.urls,
        topology=Path(topology) if topology else None, backend=plan.backend,
        hypothesis_seed=results.hypothesis_seed)
    certificate = write_report(plan.report_dir, facts, outcome, results.tests, plan.key)
    return Certification(
        run_id=plan.run_id, report_dir=plan.report_dir, exit_code=outcome.exit_code,
        verdicts=outcome.by_id(), certified=outcome.certified,
        unexpected_failures=outcome.unexpected_failures,
        stale_expectations=outcome.stale_expectations, seed=seed, outcome=outcome,
        certificate=certificate, kept_running=sims.urls if keep_running else {},
        sim_run_dir=sims.run_dir)


def _unjudged(plan: Plan, why: str, seed: int, started: datetime, rerun_of: str | None,
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
    certificate = write_report(plan.report_dir, facts, outcome, (), plan.key)
    return Certification(
        run_id=plan.run_id, report_dir=plan.report_dir, exit_code=outcome.exit_code,
        verdicts=outcome.by_id(), certified=False, unexpected_failures=(),
        stale_expectations=(), seed=seed, outcome=outcome, certificate=certificate,
        harness_error=why)
