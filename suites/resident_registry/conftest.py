"""Fixtures of the resident-registry suites: the seeded population and request builders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fixtures.population.generator import generate
from meshcert.harness import Harness
from meshcert.targets import Target

SEED_CHUNK = 500  # records per seeding request (the contract allows 1,000)


@pytest.fixture(scope="session")
def lg(target: Target) -> str:
    """The municipality the target serves (its local government code)."""
    return target.municipality


@pytest.fixture(scope="session")
def population(harness: Harness, target: Target) -> list[dict[str, Any]]:
    """The synthetic residents the target holds for this run, seeded once per session.

    With seeding method ``endpoint`` the harness posts them (the first request resets the
    municipality); with ``file`` the vendor loaded the file themselves and it is read back here.
    """
    seeding = target.seeding
    if seeding.method == "file":
        assert seeding.file is not None
        path = Path(harness.base) / seeding.file
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records = list(generate(target.municipality, seeding.persons, seeding.seed))
    token = harness.token(["admin"])
    with harness.client(token) as client:
        for start in range(0, len(records), SEED_CHUNK):
            chunk = records[start:start + SEED_CHUNK]
            response = client.post(seeding.path, json={
                "lg_code": target.municipality, "reset": start == 0, "residents": chunk})
            if response.status_code != 200:
                pytest.fail(f"seeding {seeding.path} failed with {response.status_code}: "
                            f"{response.text[:500]}", pytrace=False)
    return records
