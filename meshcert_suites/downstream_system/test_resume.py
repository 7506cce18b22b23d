"""DOWN-RESUME-001: after a restart — the registry's, and the system's own — the system's
feed reads start from the cursor it had stored (never from the start: no full reload), and
every change written before, during and after the restart reaches its view."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest

from meshcert.catalog.targets import DownstreamSettings
from meshcert_suites.downstream_system.conftest import Town, ensure_view_is_record
from meshcert_suites.downstream_system.registry_side import Registry, newborn
from meshcert_suites.downstream_system.system_side import READ, System, json_of

DOWN_S = 1.5  # how long the registry stays away: the system's polls meet a closed port


def ensure_read_from(reads: list[dict[str, Any]], cursor: int, what: str) -> None:
    assert reads, f"the system did not read the feed after {what}"
    for read in reads:
        after = int((parse_qs(read["query"]).get("after") or ["0"])[0])
        assert after >= cursor, (
            f"after {what} the system read the feed from after={after}, but it had stored "
            f"the cursor {cursor} before (a reload from the start, or a lost place)")


def ensure_nothing_lost(system: System, registry: Registry, atenas: list[str]) -> None:
    system.catch_up(registry.read_feed())
    for atena in atenas:
        view = json_of(system.view(atena, READ), f"the view of {atena}")
        applied = view.get("applied_seqs") or []
        missing = [seq for seq in registry.seqs[atena] if seq not in applied]
        assert not missing, (f"{atena}: the feed entries {missing} of this person never "
                             f"reached the system (it applied {applied})")
        ensure_view_is_record(system, atena, registry.latest[atena])


@pytest.mark.requirement("DOWN-RESUME-001")
def test_it_resumes_from_its_cursor_after_the_registry_restarts(
        system: System, registry: Registry, town: Town, downstream: DownstreamSettings):
    family = town.new_household(3)
    system.catch_up(registry.read_feed())
    stored = system.cursor()
    registry.restart(down_s=DOWN_S)  # its exchange capture starts afresh
    setai = family[0]["setai_number"]
    town.note(registry.move({"kind": "birth", "person": newborn(town.next()),
                             "setai_number": setai}))
    system.catch_up(registry.read_feed())
    ensure_read_from(registry.exchanges(downstream.client), stored, "the registry's restart")
    ensure_nothing_lost(system, registry, sorted(town.households[setai]))


@pytest.mark.requirement("DOWN-RESUME-001")
def test_it_resumes_from_its_cursor_after_its_own_restart(
        system: System, registry: Registry, town: Town, downstream: DownstreamSettings):
    if not system.can_restart():
        pytest.skip("the target file states no restart_path: the system's own restart is "
                    "not tried")
    family = town.new_household(3)
    setai = family[0]["setai_number"]
    system.catch_up(registry.read_feed())
    stored = system.cursor()
    mark = registry.last_exchange()
    system.restart()
    town.note(registry.move({"kind": "death", "atena_number": family[2]["atena_number"]}))
    town.note(registry.move({"kind": "birth", "person": newborn(town.next()),
                             "setai_number": setai}))
    system.catch_up(registry.read_feed())
    ensure_read_from(registry.exchanges(downstream.client, after=mark), stored,
                     "its own restart")
    ensure_nothing_lost(system, registry, sorted({*town.households[setai],
                                                  family[2]["atena_number"]}))
