"""Fixtures of the downstream-system suites: the registry the system follows
(registry_side.py: movements, the feed as oracle, faults, exchange capture, restart), the town
of this run (households the harness moved in, tracked from the movement results), and the
system under test through its read API (system_side.py).

Set-up is shared across the session: one registry, one town; each test writes the movements it
judges and looks only at persons they touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshcert import Harness, Target
from meshcert.catalog.targets import DownstreamSettings
from meshcert_suites.downstream_system.registry_side import Registry
from meshcert_suites.downstream_system.system_side import READ, System, json_of


@pytest.fixture(scope="session")
def downstream(target: Target) -> DownstreamSettings:
    assert target.downstream is not None  # the target file is validated for the profile
    return target.downstream


@pytest.fixture(scope="session")
def registry(harness: Harness, downstream: DownstreamSettings,
             pytestconfig: pytest.Config) -> Registry:
    topology = pytestconfig.getoption("meshcert_topology")
    return Registry(harness, downstream.municipality, Path(topology) if topology else None)


@pytest.fixture
def system(harness: Harness, target: Target, request: pytest.FixtureRequest
           ) -> Iterator[System]:
    found = System(harness, target, harness.recorder_for(request.node))
    yield found
    found.close()


class Town:
    """The households of this run as the registry answered the movements: resident members
    by 世帯番号, and every person the run made."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.households: dict[str, list[str]] = {}
        self.persons: set[str] = set()
        self.serial = 0

    def note(self, records: list[dict[str, Any]]) -> set[str]:
        """Track what a movement changed; the 宛名番号 it touched."""
        for record in records:
            atena = record["atena_number"]
            self.persons.add(atena)
            for members in self.households.values():
                if atena in members:
                    members.remove(atena)
            if record["status"] == "resident":
                self.households.setdefault(record["setai_number"], []).append(atena)
        for setai in [s for s, members in self.households.items() if not members]:
            del self.households[setai]
        return {r["atena_number"] for r in records}

    def next(self) -> int:
        self.serial += 1
        return self.serial * 7

    def new_household(self, size: int = 3) -> list[dict[str, Any]]:
        records = self.registry.household_of(self.next(), size)
        self.note(records)
        return records


@pytest.fixture(scope="session")
def town(registry: Registry) -> Town:
    return Town(registry)


def ensure_view_is_record(system: System, atena_number: str, record: dict[str, Any]) -> None:
    """The system's view of a person holds the registry's record: status, household, name,
    address, birth date (a person the system shows as 404 fails here)."""
    view = json_of(system.view(atena_number, READ), f"the view of {atena_number}")
    for part in ("status", "setai_number", "name", "address", "birth_date"):
        shown, held = view.get(part), record.get(part)
        if part == "name" and isinstance(held, dict):
            held = {k: held.get(k) for k in ("surname", "given_name", "surname_kana",
                                            "given_name_kana")}
        if isinstance(held, dict) and isinstance(shown, dict):
            held = {k: v for k, v in held.items() if v is not None}
            shown = {k: v for k, v in shown.items() if v is not None}
        assert shown == held, (f"{atena_number}: the system shows {part} {shown!r}, the "
                               f"registry holds {held!r}")
