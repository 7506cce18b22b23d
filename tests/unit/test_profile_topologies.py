"""Each profile's default harness topology exists and has the simulators the profile needs, so
a vendor target certifies without --topology."""

from __future__ import annotations

from meshcert.catalog.requirements import load_catalog
from meshcert.certify.harness import PROFILE_TOPOLOGIES
from meshcert_simulators.common.topology import load_topology


def test_every_profile_has_a_default_topology_with_its_simulators():
    catalog = load_catalog()
    assert set(PROFILE_TOPOLOGIES) == set(catalog.profiles)
    for name, profile in catalog.profiles.items():
        topology = load_topology(PROFILE_TOPOLOGIES[name])
        assert set(profile.simulators) <= set(topology.simulators), name
        assert topology.issuer is not None and topology.issuer.simulator, name
