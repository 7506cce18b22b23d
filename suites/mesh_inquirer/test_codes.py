"""INQ-CODE-001: the inquirer asks by its own 符号 and no My Number crosses the mesh
(番号法 第19条; DOMAIN.md §6.1) — a property over many generated applicants, whose forms all
carry a valid My Number."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from simulators.common.identifiers import find_my_numbers
from suites.mesh_inquirer.conftest import codes_issued, describe, inquiry_body
from suites.mesh_inquirer.strategies import households

# Every example costs real applications across real processes: a few, and no shrinking (the
# first failing household is reported as generated; the seed replays it).
PROPERTY = settings(max_examples=3, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.requirement("INQ-CODE-001")
@PROPERTY
@given(batch=households)
def test_no_request_across_the_mesh_carries_a_my_number(batch, inquirer, mesh, recorded_mesh,
                                                       tax):
    people = [person for person, _ in batch]
    tax.seed(*(person for person, has_data in batch if has_data))
    after = mesh.last_seq()
    ids = [inquirer.submit(person) for person in people]
    inquirer.wait(ids, inquirer.give_up_within_s + 2)
    sent = mesh.exchanges(recorded_mesh, after)
    assert any(e["path"] == "/v1/inquiries" for e in sent), (
        f"the inquirer sent no inquiry to the mesh for {len(ids)} applications: "
        f"{describe(sent)}")
    leaks = [(e["seq"], e["path"], number) for e in sent
             for number in find_my_numbers(f"{e['request_body']} {e['query']}")]
    assert not leaks, (
        f"requests the inquirer sent across the mesh carry My-Number-shaped values "
        f"(exchange seq, path, value): {leaks[:5]}")
    issued = set().union(*(codes_issued(sent, person) for person in people))
    by_other = [e["seq"] for e in sent if e["path"] == "/v1/inquiries"
                and inquiry_body(e).get("code") not in issued]
    assert not by_other, (
        f"inquiries {by_other} name a code the mesh did not issue to the inquirer for these "
        "applicants: an inquiry names the person by the inquirer's own 符号")
