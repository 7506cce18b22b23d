"""An independent resident registry (tests/independent/registry/, written from the committed
contract and the catalog, importing nothing of meshcert_simulators/) is certified the way a vendor
certifies a system: ``meshcert harness up`` starts the harness side and says what to trust, the
system is started by this test as a process of its own with that CA's server certificate and
issuer, and ``meshcert certify`` judges it from its target file (no ``launch``).

It passes as written; broken in one class at a time (INDEPENDENT_REGISTRY_BROKEN), the
certification fails on the requirement that class belongs to.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from meshcert.certify import harness_side
from tests.independent.certifying import Certification, certify, taking_turns
from tests.integration.served import serving

# Slow: each test is a certification (20–80 s); the lock may make one wait for another's.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "tests" / "independent" / "registry" / "target.yaml"
MESHCERT = str(Path(sys.executable).with_name("meshcert"))
HOSTED = ("131016", "131041", "271004")  # the target's two, and where people move to


@dataclass(frozen=True)
class HarnessSide:
    brief: dict[str, Any]

    def registry_command(self, db: Path) -> list[str]:
        """The independent registry configured from the brief, as a vendor configures theirs."""
        port = urlsplit(self.brief["target"]["base_url"]).port
        certificate = self.brief["server_certificate"]
        command = [sys.executable, "-m", "tests.independent.registry", "--port", str(port),
                   "--db", str(db), "--cert", certificate["cert"], "--key", certificate["key"],
                   "--ca", self.brief["ca_file"], "--issuer", self.brief["issuer"]["url"],
                   "--audience", self.brief["target"]["audience"]]
        for lg in HOSTED:
            command += ["--municipality", lg]
        return command


@pytest.fixture(scope="module")
def harness() -> Iterator[HarnessSide]:
    """``meshcert harness up`` for the target; stopped at the end unless it already ran.

    The harness side and the target are on fixed ports (as a vendor has them), so the workers
    of a parallel run take turns: one holds the lock for all its tests of this module."""
    run_dir = ROOT / ".meshcert" / "run" / "certify"
    with taking_turns("certify/independent-registry"):
        before = harness_side.running(run_dir)
        up = subprocess.run([MESHCERT, "harness", "up", "--profile", "resident-registry",
                             "--target", str(TARGET), "--json"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
        assert up.returncode == 0, f"meshcert harness up failed: {up.stderr[-2000:]}"
        try:
            yield HarnessSide(json.loads(up.stdout))
        finally:
            if not before:
                subprocess.run([MESHCERT, "harness", "down", "--profile", "resident-registry"],
                               cwd=ROOT, capture_output=True, timeout=60)


@pytest.fixture
def start_registry(harness: HarnessSide, tmp_path: Path) -> Iterator[Any]:
    """``start_registry(broken="")``: the registry in its own process with its own SQLite file;
    stopped at the end of the test."""
    with contextlib.ExitStack() as stack:
        def start(broken: str = "") -> None:
            stack.enter_context(serving(
                harness.registry_command(tmp_path / "registry.sqlite3"),
                harness.brief["target"]["base_url"] + "/health", tmp_path / "registry.log",
                env={"INDEPENDENT_REGISTRY_BROKEN": broken},
                verify=ssl.create_default_context(cafile=harness.brief["ca_file"])))

        yield start


def certified(harness: HarnessSide, out: Path, *requirements: str) -> Certification:
    """``meshcert certify`` of the target as the brief says (only ``requirements``, if any)."""
    options = [option for requirement in requirements
               for option in ("--requirement", requirement)]
    return certify(TARGET, harness.brief["topology"], out, *options, cwd=ROOT, timeout_s=280)


def test_the_independent_registry_is_certified(harness, start_registry, tmp_path):
    start_registry()
    run = certified(harness, tmp_path / "report")
    failed = sorted(run.failed)
    assert (run.status, failed) == (0, []), (
        f"the independent registry was not certified (exit {run.status}); not passed: "
        f"{failed}\n{run.output}")
    assert len(run.verdicts) >= 40, f"only {len(run.verdicts)} requirements were judged"


# Each class of failure the issue names, broken in the independent registry, and the
# requirement that must catch it.
BROKEN = {
    # the My Number, in full-width digits with hyphens, in a free-text field of the record
    # served to a caller without registry:read-mynumber
    "mynumber-in-free-text": "PRIV-MYNUM-001",
    # a read refused for its scope, municipality or a missing record leaves no log entry
    "unaudited-refusal": "AUDIT-LOG-001",
    # an online move-out 31 days before the move (one day past the window's edge) accepted
    "moveout-window": "MOVEOUT-WINDOW-001",
    # the event_id is checked and the movement applied in two steps: concurrent identical
    # requests both apply it
    "movement-race": "MOVE-IDEM-001",
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_a_broken_independent_registry_fails_the_requirement_of_its_class(
        harness, start_registry, tmp_path, broken):
    requirement = BROKEN[broken]
    start_registry(broken)
    run = certified(harness, tmp_path / "report", requirement)
    assert (run.status, run.verdicts.get(requirement)) == (1, "fail"), (
        f"the independent registry broken in {broken!r} was not caught: exit {run.status}, "
        f"{requirement} {run.verdicts.get(requirement)!r}\n{run.output}")


def test_the_target_file_is_a_vendor_target():
    """No ``launch``: the harness starts nothing of the system; it trusts the harness's CA."""
    raw = yaml.safe_load(TARGET.read_text(encoding="utf-8"))
    assert "launch" not in raw
    assert raw["tls"] == {"ca_file": "run"}


def test_the_registry_imports_nothing_of_the_reference_or_the_harness():
    sources = (ROOT / "tests" / "independent" / "registry").glob("*.py")
    importing = [f"{path.name}: {line.strip()}" for path in sources
                 for line in path.read_text(encoding="utf-8").splitlines()
                 if line.lstrip().startswith(("import ", "from "))
                 and any(name in line for name in (" simulators", " meshcert", " suites"))]
    assert not importing, f"the independent registry imports the project's own code: {importing}"
