"""Fixtures of the information-provider suites: the harness as the mesh (mesh_side.py), the
seeded persons, and the J-LIS intermediate server the provider publishes its copies to."""

from __future__ import annotations

import random
from collections.abc import Iterator

import httpx
import pytest

from meshcert import Harness, ProviderSettings, Target
from meshcert_simulators.common.tls import shared_client_context
from meshcert_suites.information_provider.contract import Contract, contract_for
from meshcert_suites.information_provider.mesh_side import (
    FOREIGN_ITEMS,
    PERSON_SEED,
    PERSONS,
    Jlis,
    Mesh,
    Person,
    code_for,
    figures_for,
    person_key,
    seed_persons,
)


@pytest.fixture(scope="session")
def provider(target: Target) -> ProviderSettings:
    assert target.provider is not None  # the target file is validated for the profile
    return target.provider


@pytest.fixture(scope="session")
def item(provider: ProviderSettings) -> str:
    """The item the suites ask for: the first the provider states it provides."""
    return provider.item_codes[0]


@pytest.fixture(scope="session")
def contract(provider: ProviderSettings, item: str) -> Contract:
    """The committed contract the provider is judged by (tax, or its defined service's)."""
    return contract_for(provider, item)


@pytest.fixture(scope="session")
def foreign_item(provider: ProviderSettings) -> str:
    """An item the provider does not hold (it must answer 03 for it)."""
    return next(i for i in FOREIGN_ITEMS if i not in provider.item_codes)


@pytest.fixture(scope="session")
def audit_scope(provider: ProviderSettings) -> str:
    """The scope of the records export: another client of the mesh may hold it, never the
    provide scope."""
    return provider.scopes()[1]


@pytest.fixture(scope="session")
def persons(harness: Harness, provider: ProviderSettings, contract: Contract) -> list[Person]:
    """The persons the provider holds for this run, seeded once per session: resident-tax
    figures as a tax office holds them, or a defined service's drawn within its contract."""
    rng = random.Random(PERSON_SEED)
    made = [Person(code_for(provider.institution, person_key(n)),
                   figures_for(rng) if provider.service is None else contract.figures(rng))
            for n in range(PERSONS)]
    seed_persons(harness, provider, made)
    return made


@pytest.fixture
def mesh(api: httpx.Client) -> Mesh:
    """The mesh's hands on the provider: its token (client ``mesh``, the profile's scopes),
    every exchange recorded as this test's evidence."""
    return Mesh(api)


@pytest.fixture
def jlis(harness: Harness, request: pytest.FixtureRequest) -> Iterator[Jlis]:
    topology = harness.topology
    mesh_client = topology.client("mesh")
    if "jlis" not in topology.simulators or mesh_client is None or mesh_client.token is None:
        pytest.fail(f"the harness topology {topology.name!r} needs a J-LIS simulator 'jlis' "
                    "and a client 'mesh' with a token (fixtures/topologies/"
                    "information-provider.yaml has both)", pytrace=False)
    recorder = harness.recorder_for(request.node)
    with httpx.Client(verify=shared_client_context(), base_url=topology.url("jlis"), timeout=15.0,
                      event_hooks=recorder.hooks()) as client:
        yield Jlis(client, mesh_client.token, topology.admin_token)
