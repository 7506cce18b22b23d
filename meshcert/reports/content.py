"""The content of certificate.json: the run's facts and a verdict per requirement.

Shape (format ``meshcert-certificate/1``; ``files`` and the signature are added when signing)::

    run_id, certified, exit_code, summary{verdicts, tests, unexpected_failures,
    stale_expectations, errors, reasons}, target{file, sha256, name, vendor, base_url,
    municipality, launch}, profile{id, title}, catalog{name, version, published, sha256},
    harness{name, version, packages}, environment{python, implementation, platform, system,
    machine}, harness_error (why the harness could not run at all, else null), seed,
    seeds{hypothesis, population}, replay, scope{requirements, rerun_of, topology, backend},
    started, finished, duration_s, simulators, baseline,
    requirements[{id, level, title, verdict, in_scope, defect, target, baseline,
    tests[{nodeid, outcome, phase, duration_s, message, evidence}], duration_s, replay}],
    latency[{test, requirements, count, p50_ms, p95_ms, ..., target, load, hops, excluded}],
    signature, files

A verdict is pass, fail, error (the harness could not judge: not the system's failure),
expected-fail or not-tested (meshcert/certify/verdicts.py). ``exit_code`` is the command's exit
status.
A requirement that failed or errored carries its ``replay``: the command that reruns just its
tests against the same target, with the same Hypothesis seed (``--seed``), harness topology and
backend; the population the harness seeds comes from the target file (its ``seeding.seed``,
recorded under ``seeds``), whose SHA-256 is recorded too.
"""

from __future__ import annotations

import hashlib
import platform
import shlex
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from meshcert.catalog.requirements import Catalog, catalog_path
from meshcert.catalog.targets import Target
from meshcert.certify.baseline import Baseline
from meshcert.certify.latency import summaries
from meshcert.certify.records import TestRecord
from meshcert.certify.verdicts import NOT_PASSED_OUTCOMES, Outcome
from meshcert.reports import signing
from meshcert.reports.certificate import FORMAT, PUBLIC_KEY

PACKAGES = ("pytest", "hypothesis", "schemathesis", "httpx", "allure-pytest", "cryptography")


@dataclass(frozen=True)
class RunFacts:
    run_id: str
    target: Target
    target_path: Path
    base_url: str
    launch_simulator: str | None
    defect: str | None
    defect_overridden: bool
    catalog: Catalog
    seed: int
    started: datetime
    finished: datetime
    scope: tuple[str, ...] | None
    rerun_of: str | None
    baseline: Baseline | None
    pytest_exit: int
    simulators: dict[str, str]
    topology: Path | None = None    # --topology as given (a vendor target's harness side)
    backend: str = "process"        # where the simulators ran (--backend)
    hypothesis_seed: str | None = None  # the seed pytest reports it used (results file)
    harness_error: str | None = None    # why the harness could not run at all, if it could not


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def shown(path: Path) -> str:
    """The target path as the user would type it again (relative to the working folder)."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)


def replay_command(facts: RunFacts, requirement_id: str | None = None) -> str:
    """The command that reruns (a requirement of) this run as it ran: the same target file,
    Hypothesis seed, defect (when one was given on the command line), harness topology and
    backend. Everything else a run depends on is in the target file (its population seed)."""
    words = ["meshcert", "certify", "--target", shown(facts.target_path)]
    if requirement_id:
        words += ["--requirement", requirement_id]
    words += ["--seed", str(facts.seed)]
    if facts.defect_overridden and facts.defect:
        words += ["--defect", facts.defect]
    if facts.topology is not None:
        words += ["--topology", shown(facts.topology)]
    if facts.backend != "process":
        words += ["--backend", facts.backend]
    return shlex.join(words)


def _test_entry(test: TestRecord) -> dict[str, Any]:
    """A test as a requirement of the certificate lists it."""
    return {"nodeid": test.nodeid, "outcome": test.outcome, "phase": test.phase,
            "duration_s": test.duration_s, "message": test.message,
            "evidence": test.evidence, "exchanges": test.exchanges}


def build_certificate(facts: RunFacts, outcome: Outcome, tests: Sequence[TestRecord],
                      key: Ed25519PrivateKey) -> dict[str, Any]:
    target = facts.target
    catalog = facts.catalog
    profile = catalog.profiles[target.profile]
    requirements = []
    for verdict in outcome.verdicts:
        requirement = verdict.requirement
        failing = any(t.outcome in NOT_PASSED_OUTCOMES for t in verdict.tests)
        requirements.append({
            "id": requirement.id,
            "level": requirement.level,
            "title": requirement.title.model_dump(),
            "verdict": verdict.verdict,
            "in_scope": verdict.in_scope,
            "defect": requirement.defect,
            "target": requirement.target.model_dump() if requirement.target else None,
            "baseline": None if verdict.expected_reason is None else {
                "expected": "fail", "reason": verdict.expected_reason, "stale": verdict.stale},
            "tests": [_test_entry(t) for t in verdict.tests],
            "duration_s": round(sum(t.duration_s for t in verdict.tests), 6),
            "replay": replay_command(facts, requirement.id) if failing else None,
        })
    launch = None
    if facts.launch_simulator:
        launch = {"simulator": facts.launch_simulator, "defect": facts.defect}
    return {
        "format": FORMAT,
        "run_id": facts.run_id,
        "certified": outcome.certified,
        "exit_code": outcome.exit_code,
        "summary": {
            "verdicts": outcome.counts(),
            "tests": dict(Counter(t.outcome for t in tests)),
            "unexpected_failures": list(outcome.unexpected_failures),
            "stale_expectations": list(outcome.stale_expectations),
            "errors": list(outcome.errors),
            "reasons": list(outcome.reasons),
        },
        "target": {
            "file": shown(facts.target_path),
            "sha256": _sha256(facts.target_path),
            "name": target.name,
            "vendor": target.vendor,
            "base_url": facts.base_url,
            "municipality": target.municipality,
            "launch": launch,
        },
        "profile": {"id": target.profile, "title": profile.title.model_dump()},
        "catalog": {"name": catalog.catalog, "version": catalog.version,
                    "published": catalog.published.isoformat(),
                    "title": catalog.title.model_dump(),
                    "sha256": _sha256(catalog_path(catalog.version))},
        "harness": {"name": "meshcert", "version": _version("meshcert"),
                    "packages": {name: _version(name) for name in PACKAGES}},
        "environment": {"python": platform.python_version(),
                        "implementation": sys.implementation.name,
                        "platform": platform.platform(), "system": platform.system(),
                        "machine": platform.machine()},
        "seed": facts.seed,
        # What pytest reports it seeded Hypothesis with (the same as ``seed``, by construction).
        "seeds": {"hypothesis": int(facts.hypothesis_seed) if facts.hypothesis_seed
                  else facts.seed,
                  "population": target.seeding.seed if target.seeding else None},
        "replay": replay_command(facts),
        "scope": {"requirements": list(facts.scope) if facts.scope is not None else None,
                  "rerun_of": facts.rerun_of,
                  "topology": shown(facts.topology) if facts.topology else None,
                  "backend": facts.backend},
        "started": facts.started.isoformat(timespec="seconds"),
        "finished": facts.finished.isoformat(timespec="seconds"),
        "duration_s": round((facts.finished - facts.started).total_seconds(), 3),
        "pytest_exit_status": facts.pytest_exit,
        "harness_error": facts.harness_error,
        "simulators": facts.simulators,
        "baseline": facts.baseline.to_json() if facts.baseline else None,
        "requirements": requirements,
        "latency": summaries(catalog, tests),
        "signature": {"algorithm": signing.ALGORITHM, "public_key": PUBLIC_KEY,
                      "fingerprint": signing.fingerprint(key),
                      "signed_file": "certificate.json", "signature_file":
                      "certificate.json.sig"},
    }
