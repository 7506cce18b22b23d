"""A certification writes nothing into the project checkout: the suites' pytest runs in the
run's work folder, with Hypothesis's storage (example database, caches) there and pytest's
cache off. The real certification is in tests/integration/test_certify_evidence.py; here the
suites' pytest environment is checked on a small Hypothesis suite, against a control run
without it."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

from meshcert.certify.launch import Simulators as _Simulators
from meshcert.certify.plan import make_plan as _plan
from meshcert.certify.pytest_run import pytest_command, pytest_env

ROOT = Path(__file__).resolve().parents[2]

SUITE = '''
from hypothesis import given, strategies as st


@given(st.text(), st.integers())
def test_generated(text, number):
    assert isinstance(text, str)
'''


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def run_pytest(checkout: Path, cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(checkout),
         str(checkout / "test_sample.py"), "-q", "--hypothesis-seed", "7"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_the_suites_pytest_keeps_hypothesis_storage_in_the_work_folder(tmp_path: Path) -> None:
    checkout, work = tmp_path / "checkout", tmp_path / "work"
    checkout.mkdir()
    work.mkdir()
    (checkout / "test_sample.py").write_text(SUITE, encoding="utf-8")
    run_pytest(checkout, cwd=work, env=pytest_env(work))
    assert files(checkout) == {"test_sample.py"}
    assert files(work / "hypothesis"), "Hypothesis stored nothing: the control below is moot"
    # The control: run where the checkout is, with Hypothesis's default storage.
    plain = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    run_pytest(checkout, cwd=checkout, env=plain)
    assert any(name.startswith(".hypothesis/") for name in files(checkout))


def test_the_suites_pytest_has_no_cache_and_runs_in_the_work_folder(tmp_path: Path) -> None:
    plan = _plan(ROOT / "fixtures" / "vendors" / "reference-provider.yaml", None, None,
                 tmp_path / "report", None, None, tmp_path / "key.pem")
    sims = _Simulators(tmp_path / "topology.yaml", tmp_path / "target.yaml", tmp_path / "run",
                       "https://127.0.0.1:1", {})
    command = pytest_command(plan, sims, 42, tmp_path / "work")
    assert ("-p", "no:cacheprovider") in itertools.pairwise(command)
    assert command[command.index("--hypothesis-seed") + 1] == "42"
    assert command[command.index("--hypothesis-profile") + 1] == "meshcert-certify"
    # every path the suites' pytest gets is absolute: it does not run where the checkout is
    assert all(Path(word).is_absolute() for word in command if "/" in word)
    assert pytest_env(tmp_path / "work")["HYPOTHESIS_STORAGE_DIRECTORY"] == \
        str(tmp_path / "work" / "hypothesis")
