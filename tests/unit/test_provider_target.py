"""The bundled reference information provider: its target file, launch topology and the harness
identity the profile gives the harness (the mesh's client)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from joserfc import jwt

from meshcert.catalog.targets import TargetError, load_target
from meshcert.certify.harness import harness_for
from meshcert.certify.selftest import reference_target
from meshcert_simulators.authz.tokens import load_key_set
from meshcert_simulators.common.topology import load_topology
from meshcert_simulators.tax.app import PROVIDE_ROLE

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "fixtures" / "vendors" / "reference-provider.yaml"


def test_the_reference_provider_target_and_its_topology_are_valid():
    target, base = load_target(REFERENCE)
    assert target.profile == "information-provider" and target.provider is not None
    assert reference_target("information-provider") == REFERENCE
    topology = load_topology(base / target.launch.topology)
    institution = topology.institution(target.provider.institution)
    assert institution is not None and institution.simulator == target.launch.simulator
    assert topology.audience(target.launch.simulator) == target.auth.audience
    # Fixed ports of the harness side stay in the range reserved for this profile.
    assert all(22000 <= spec.port <= 22999 for spec in topology.simulators.values())


def test_a_provider_target_without_its_provider_section_is_refused(tmp_path: Path):
    data = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    data.pop("provider")
    data.pop("launch")
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TargetError, match="provider: required for profile information-provider"):
        load_target(path)


def test_the_harness_calls_a_provider_as_the_mesh():
    target, base = load_target(REFERENCE)
    harness = harness_for(target, base, base / target.launch.topology)
    token = jwt.decode(harness.token(), load_key_set(ROOT / "fixtures" / "keys" /
                                                     "authz.jwks.json"))
    claims = token.claims
    assert (claims["sub"], claims["client_id"], claims["aud"]) == ("mesh", "mesh",
                                                                   target.auth.audience)
    assert PROVIDE_ROLE in claims["scope"].split()
