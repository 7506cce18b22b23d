"""An inquirer meshcert did not write, certified as a vendor's is: the independent
implementation (tests/independent/inquirer/, from the contracts alone) runs as its own process,
and ``certify`` gets a target file without ``launch`` and the published topology
fixtures/topologies/mesh-inquirer.yaml. As written it is certified; with each class broken on
purpose, the requirement that class belongs to fails."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from meshcert.backends.ports import free_port
from meshcert.certify.harness import PROFILE_TOPOLOGIES
from meshcert.certify.run import certify
from tests.independent.certifying import taking_turns, vendor_target
from tests.integration.served import serving

pytestmark = pytest.mark.slow

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
    target, path = vendor_target(TARGET, folder, port)
    with serving(command, f"{target['base_url']}/health", folder / "inquirer.log"):
        yield path


def certified(folder: Path, defect: str | None = None,
              requirements: list[str] | None = None) -> dict[str, str]:
    # The published topology's mesh is on fixed ports and judges by client id, so two
    # certifications at once (pytest-xdist workers) would read each other's exchanges: they
    # take turns.
    with taking_turns("independent-inquirer"), independent_inquirer(folder, defect) as target:
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
