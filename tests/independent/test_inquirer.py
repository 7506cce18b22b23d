"""An inquirer meshcert did not write, certified as a vendor's is: the independent
implementation (tests/independent/inquirer/, from the contracts alone) runs as its own process,
and ``certify`` gets a target file without ``launch`` and the published topology
fixtures/topologies/mesh-inquirer.yaml. As written it is certified; with each class broken on
purpose, the requirement that class belongs to fails."""

from __future__ import annotations

import fcntl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from meshcert.backends.ports import free_port
from meshcert.certify.harness import PROFILE_TOPOLOGIES
from meshcert.certify.run import certify
from tests.integration.served import serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(__file__).parent / "inquirer" / "target.yaml"
TOPOLOGY = PROFILE_TOPOLOGIES["mesh-inquirer"]  # fixtures/topologies/mesh-inquirer.yaml


@contextmanager
def independent_inquirer(folder: Path, defect: str | None = None) -> Iterator[Path]:
    """The system started on a free port; yields its target file (the published one with
    that port)."""
    port = free_port()
    command = [sys.executable, "-m", "tests.independent.inquirer", "--port", str(port),
               "--db", str(folder / "inquirer.sqlite3")]
    if defect:
        command += ["--defect", defect]
    url = f"http://127.0.0.1:{port}"
    with serving(command, f"{url}/health", folder / "inquirer.log"):
        target = yaml.safe_load(TARGET.read_text(encoding="utf-8"))
        target["base_url"] = url
        path = folder / "target.yaml"
        path.write_text(yaml.safe_dump(target, allow_unicode=True), encoding="utf-8")
        yield path


@contextmanager
def harness_to_ourselves() -> Iterator[None]:
    """The published topology's mesh is on fixed ports and judges by client id, so two
    certifications at once (pytest-xdist workers) would read each other's exchanges: they take
    turns."""
    run_dir = ROOT / ".meshcert" / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "independent-inquirer.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def certified(folder: Path, defect: str | None = None,
              requirements: list[str] | None = None) -> dict[str, str]:
    with harness_to_ourselves(), independent_inquirer(folder, defect) as target:
        result = certify(target, topology=TOPOLOGY, requirements=requirements,
                         out_dir=folder / "report")
    return result.verdicts


def test_the_independent_inquirer_is_certified(tmp_path):
    verdicts = certified(tmp_path)
    assert verdicts and all(v == "pass" for v in verdicts.values()), verdicts


# Each broken class, the requirement that must catch it (only its tests run).
BROKEN = {
    "decides-in-other-words": "INQ-NOTICE-001",   # "not eligible", 0 円 under inquiry-failed
    "mynumber-with-separators": "INQ-CODE-001",   # 1234-5678-9012 in the record id
    "mynumber-full-width": "INQ-CODE-001",        # １２３４… in the record id
    "no-record-for-refusal": "INQ-REC-001",
    "racy-resends": "INQ-RES-004",                # a new record id per racing resend
    "gives-up-late": "INQ-RES-005",               # 1.5 s past its stated time
}


@pytest.mark.parametrize("defect", sorted(BROKEN))
def test_each_broken_class_fails_its_requirement(defect, tmp_path):
    requirement = BROKEN[defect]
    verdicts = certified(tmp_path, defect, [requirement])
    assert verdicts.get(requirement) == "fail", (
        f"the independent inquirer with {defect!r} was not caught by {requirement}: "
        f"{verdicts}")
