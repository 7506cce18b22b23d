"""The suites' pytest run: its command line (the plugin and the suite plugins named with
``-p``, from a temporary folder so the checkout stays untouched), its environment, and
reading its progress events and results (meshcert/certify/events.py, records.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from meshcert.backends import processes
from meshcert.certify import hypothesis_cache
from meshcert.certify.events import Progress, parse_event
from meshcert.certify.launch import Simulators
from meshcert.certify.plan import PROJECT_ROOT, Plan
from meshcert.certify.records import RunResults
from meshcert.errors import HarnessError


def pytest_command(plan: Plan, sims: Simulators, seed: int, work: Path) -> list[str]:
    profile = plan.catalog.profiles[plan.target.profile]
    report = plan.report_dir
    command = [
        sys.executable, "-m", "pytest", "-p", "meshcert.certify.plugin",
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
    cache is off: ``-p no:cacheprovider``; nor is bytecode written, whatever the caller's
    environment says, so no rewritten suite module is cached beside its source).

    Only the plugins the suites use are loaded (:data:`SUITE_PLUGINS`), not every one installed:
    pytest rewrites the asserts of every module of an auto-loaded plugin's distribution
    (all of Hypothesis and Schemathesis), seconds of CPU per certification when no bytecode
    cache is written (PYTHONDONTWRITEBYTECODE); the suites' own modules are still rewritten."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST"))}
    env.update(PYTHONUNBUFFERED="1", COLUMNS="120", PYTHONDONTWRITEBYTECODE="1",
               HYPOTHESIS_STORAGE_DIRECTORY=str(work / "hypothesis"),
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTEST_PLUGINS=",".join(SUITE_PLUGINS))
    return env


def run_pytest(plan: Plan, sims: Simulators, seed: int, work: Path,
               notify: Progress) -> RunResults:
    """Run the suites, telling ``notify`` each progress event as it happens; their results.
    A progress line or results file that is malformed is a HarnessError."""
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
                        notify(parse_event(line))
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
    return RunResults.read(results_path)
