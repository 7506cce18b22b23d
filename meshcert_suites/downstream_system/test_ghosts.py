"""DOWN-GHOST-001: a moved-out or deceased resident is not kept as current in any form of the
read API — the resident view (the registry's status, current false, or 404) and the household
view of the former household (not listed)."""

from __future__ import annotations

import pytest

from meshcert_suites.downstream_system.conftest import Town
from meshcert_suites.downstream_system.registry_side import Registry
from meshcert_suites.downstream_system.system_side import READ, System, json_of

DESTINATION = {"destination": "大阪府大阪市北区梅田一丁目1-1", "destination_lg_code": "271004"}


def ensure_gone(system: System, atena: str, status: str, setai: str) -> None:
    view = system.view(atena, READ)
    if view.status_code != 404:
        shown = json_of(view, f"the view of {atena}")
        assert shown.get("status") == status and shown.get("current") is False, (
            f"{atena} is {status} at the registry, but the system shows status "
            f"{shown.get('status')!r}, current {shown.get('current')!r}")
    members = json_of(system.household(setai, READ), f"the household {setai}").get("members")
    assert isinstance(members, list) and atena not in members, (
        f"{atena} is {status} at the registry, but the system still lists them in household "
        f"{setai}: {members}")


@pytest.mark.requirement("DOWN-GHOST-001")
def test_moved_out_and_deceased_members_leave_every_view(system: System, registry: Registry,
                                                         town: Town):
    family = town.new_household(4)
    setai = family[0]["setai_number"]
    leaver, deceased = family[3]["atena_number"], family[2]["atena_number"]
    town.note(registry.move({"kind": "move-out", "atena_numbers": [leaver], **DESTINATION}))
    town.note(registry.move({"kind": "death", "atena_number": deceased}))
    system.catch_up(registry.read_feed())
    ensure_gone(system, leaver, "moved-out", setai)
    ensure_gone(system, deceased, "deceased", setai)
    stayed = sorted(r["atena_number"] for r in family[:2])
    members = json_of(system.household(setai, READ), f"the household {setai}")["members"]
    assert sorted(members) == stayed, (f"household {setai}: the system lists {members}, the "
                                       f"registry's residents are {stayed}")


@pytest.mark.requirement("DOWN-GHOST-001")
def test_a_household_that_moved_out_whole_is_empty(system: System, registry: Registry,
                                                   town: Town):
    family = town.new_household(3)
    setai = family[0]["setai_number"]
    atenas = [r["atena_number"] for r in family]
    town.note(registry.move({"kind": "move-out", "atena_numbers": atenas, **DESTINATION}))
    system.catch_up(registry.read_feed())
    for atena in atenas:
        ensure_gone(system, atena, "moved-out", setai)
