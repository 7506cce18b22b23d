"""DOWN-MYNUM-001: the My Number only with the role for it, and only where the system's area
needs it (target file downstream.my_number). A system that needs it shows the registry's My
Number to a reader with downstream:read-mynumber and none to any other reader, in any form; one
that does not never gets it from the registry and shows none."""

from __future__ import annotations

import pytest

from meshcert import ensure_no_identifiers, find_identifiers
from meshcert.catalog.targets import DownstreamSettings
from meshcert_suites.downstream_system.conftest import Town
from meshcert_suites.downstream_system.registry_side import Registry
from meshcert_suites.downstream_system.system_side import READ, READ_MYNUMBER, System, json_of


@pytest.mark.requirement("DOWN-MYNUM-001")
def test_no_reader_without_the_role_sees_a_my_number(system: System, registry: Registry,
                                                     town: Town):
    family = town.new_household(3)
    system.catch_up(registry.read_feed())
    for record in family:
        answer = system.view(record["atena_number"], READ)
        json_of(answer, f"the view of {record['atena_number']}")
        ensure_no_identifiers(answer, what=f"the view of {record['atena_number']} read without "
                              "downstream:read-mynumber")
    household = system.household(family[0]["setai_number"], READ)
    json_of(household, "the household view")
    ensure_no_identifiers(household, what="the household view read without "
                          "downstream:read-mynumber")


@pytest.mark.requirement("DOWN-MYNUM-001")
def test_the_my_number_as_the_area_needs_it(system: System, registry: Registry, town: Town,
                                            downstream: DownstreamSettings):
    family = town.new_household(2)
    system.catch_up(registry.read_feed())
    for record in family:
        atena = record["atena_number"]
        held = registry.record(atena)["my_number"]
        answer = system.view(atena, READ_MYNUMBER)
        shown = json_of(answer, f"the view of {atena}").get("my_number")
        if downstream.my_number:
            assert shown == held, (f"{atena}: a reader with downstream:read-mynumber is shown "
                                   f"the My Number {shown!r}, the registry holds {held!r}")
        else:
            ensure_no_identifiers(answer, what=f"the view of {atena} (an area that does not "
                                  "need the My Number)")


@pytest.mark.requirement("DOWN-MYNUM-001")
def test_an_area_without_need_never_gets_the_my_number(system: System, registry: Registry,
                                                       downstream: DownstreamSettings):
    if downstream.my_number:
        pytest.skip("the system's area needs the My Number (downstream.my_number: true)")
    for exchange in registry.exchanges(downstream.client):
        leaks = find_identifiers(exchange["response_body"])  # text: a capture may be cut short
        assert not leaks, (f"the registry answered the system's feed read "
                           f"{exchange['path']}?{exchange['query']} with a My Number: the "
                           "system asked with registry:read-mynumber, which its area does "
                           f"not need ({leaks[0]})")
