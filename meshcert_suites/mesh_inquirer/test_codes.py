"""INQ-CODE-001: the inquirer asks by its own 符号 and no My Number crosses the mesh
(番号法 第19条; docs/domain.md#invariant-1) — a property over many generated applicants, whose
forms all carry a valid My Number.

Every request the inquirer sent to the mesh (as the mesh captured it: the URL with its query,
the headers, the body) is scanned by the shared detector
(meshcert/checks/identifiers.py) for any My Number and, in every form, split across fields
included, for the applicants' own My Numbers and — beyond the one place it belongs, the
request for a 符号 (POST /v1/codes) — their 住民票コード."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from meshcert.checks import exchange_parts, find_identifiers
from meshcert_suites.mesh_inquirer.conftest import codes_issued, describe, inquiry_body
from meshcert_suites.mesh_inquirer.strategies import households

# Where the inquirer exchanges a 住民票コード for its own 符号: the one request that carries it.
CODES_PATH = "/v1/codes"
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
    my_numbers = [person.my_number for person in people]
    juminhyo_codes = [person.juminhyo_code for person in people]
    leaks = [(e["seq"], e["path"], str(leak)) for e in sent
             for leak in find_identifiers(
                 exchange_parts(e), my_numbers=my_numbers,
                 juminhyo_codes=() if e["path"] == CODES_PATH else juminhyo_codes)]
    assert not leaks, (
        f"requests the inquirer sent across the mesh carry identifiers that must not cross "
        f"(exchange seq, path, leak): {leaks[:5]}")
    issued = set().union(*(codes_issued(sent, person) for person in people))
    by_other = [e["seq"] for e in sent if e["path"] == "/v1/inquiries"
                and inquiry_body(e).get("code") not in issued]
    assert not by_other, (
        f"inquiries {by_other} name a code the mesh did not issue to the inquirer for these "
        "applicants: an inquiry names the person by the inquirer's own 符号")
