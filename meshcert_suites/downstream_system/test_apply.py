"""DOWN-APPLY-001: every change applied exactly once, in feed order, while the registry keeps
writing; the copy converges to the registry's records.

A property: random movement sequences (move-in, birth, move within, household split and merge,
head change, move-out, death) are written from a thread while the test asks the system to sync
again and again; then each touched person's applied entries must be the registry's entries of
that person, exactly, and its view the registry's record. Examples are bounded and drawn from
the run's seed (--hypothesis-seed)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from meshcert_suites.downstream_system.conftest import Town, ensure_view_is_record
from meshcert_suites.downstream_system.registry_side import Registry, address, newborn
from meshcert_suites.downstream_system.system_side import READ, System, json_of

KINDS = ("move-in", "birth", "move-within", "household-split", "household-merge",
         "head-change", "move-out", "death")
STEPS = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 10_000)),
                 min_size=4, max_size=14)
EXAMPLES = 8


def movement(town: Town, kind: str, k: int) -> dict[str, Any] | None:
    """The movement a drawn step means in the town as it is now (None: a new household)."""
    households = sorted(town.households.items())
    larger = [h for h in households if len(h[1]) >= 2]
    if kind == "move-in" or not households:
        return None
    setai, members = households[k % len(households)]
    n = town.next()
    if kind == "birth":
        return {"kind": "birth", "person": newborn(n), "setai_number": setai}
    if kind == "move-within":
        return {"kind": "move-within", "setai_number": setai,
                "address": address(n, town.registry.lg_code)}
    if kind == "move-out":
        return {"kind": "move-out", "atena_numbers": [members[k % len(members)]],
                "destination": "大阪府大阪市北区梅田一丁目1-1", "destination_lg_code": "271004"}
    if kind == "death":
        return {"kind": "death", "atena_number": members[k % len(members)]}
    if kind == "household-merge" and len(households) >= 2:
        into = households[(k + 1) % len(households)][0]
        return {"kind": "household-merge", "setai_number": setai, "into_setai_number": into}
    if not larger:
        return None
    setai, members = larger[k % len(larger)]
    if kind == "household-split":
        return {"kind": "household-split", "atena_numbers": [members[-1]]}
    others = {m: "99" for m in members if m != members[-1]}
    return {"kind": "head-change", "setai_number": setai, "new_head": members[-1],
            "relationships": others}


def write(town: Town, registry: Registry, steps: list[tuple[str, int]], touched: set[str],
          failures: list[BaseException]) -> None:
    try:
        for kind, k in steps:
            chosen = movement(town, kind, k)
            if chosen is None:
                touched |= town.note(registry.household_of(town.next(), 2 + k % 2))
            else:
                touched |= town.note(registry.move(chosen, refusable=True))
    except BaseException as exc:  # handed to the test's thread
        failures.append(exc)


@pytest.mark.requirement("DOWN-APPLY-001")
@settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(steps=STEPS)
def test_every_change_is_applied_once_in_order_while_the_registry_writes(
        system: System, registry: Registry, town: Town, steps: list[tuple[str, int]]):
    if not town.households:
        town.new_household()
        town.new_household()
    touched: set[str] = set()
    failures: list[BaseException] = []
    writer = threading.Thread(target=write, args=(town, registry, steps, touched, failures))
    writer.start()
    while writer.is_alive():  # the system reads while the registry writes
        system.catch_up(0)
        time.sleep(0.02)
    writer.join()
    if failures:
        raise failures[0]
    system.catch_up(registry.read_feed())
    for atena in sorted(touched):
        view = json_of(system.view(atena, READ), f"the view of {atena}")
        assert view.get("applied_seqs") == registry.seqs[atena], (
            f"{atena}: the system applied the feed entries {view.get('applied_seqs')}, the "
            f"registry's entries of this person are {registry.seqs[atena]} (each exactly once, "
            "in feed order)")
        ensure_view_is_record(system, atena, registry.latest[atena])


BURST_HOUSEHOLDS, BURST_SIZE = 60, 5  # 300 feed entries: more than one page of most readers


@pytest.mark.requirement("DOWN-APPLY-001")
def test_a_burst_of_many_pages_is_applied_once_in_order(system: System, registry: Registry,
                                                       town: Town):
    """A burst written between two reads (a morning's batch): the system reads it in pages of
    its own size; no entry is skipped or repeated across the page boundaries."""
    touched: set[str] = set()
    for _ in range(BURST_HOUSEHOLDS):
        touched |= town.note(registry.household_of(town.next(), BURST_SIZE))
    system.catch_up(registry.read_feed())
    for atena in sorted(touched):
        view = json_of(system.view(atena, READ), f"the view of {atena}")
        assert view.get("applied_seqs") == registry.seqs[atena], (
            f"{atena}: the system applied the feed entries {view.get('applied_seqs')} of a "
            f"burst of {BURST_HOUSEHOLDS * BURST_SIZE}, the registry's are "
            f"{registry.seqs[atena]}")
