"""No My Number crosses the mesh from a provider (PRV-MYNUM-001, docs/domain.md §6.1): a property
over many generated persons — whatever figures the provider holds, no answer (provided, not
provided, unknown 符号, and every refusal: no token, not the mesh, a used record id, a malformed
inquiry) carries a My Number in any form, in its body, its problem details or its headers (the
shared detector, meshcert/checks/identifiers.py: separators, full-width digits, embedded,
split). The harness's own record and request ids are letters only, so an echo of them is never
taken for one.

Hypothesis draws the persons and their figures within the bounds the contract states for them
(fixtures/specs/tax.openapi.json ``TaxFigures``, or the defined service's payload schema of the
item; the run's ``--hypothesis-seed`` replays them); each example loads them through the
seeding endpoint and asks for every one.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from meshcert.checks.identifiers import ensure_no_identifiers, exchange_parts
from meshcert_suites.information_provider.mesh_side import (
    AUDITOR,
    OTHER_INSTITUTION,
    Person,
    code_for,
    opaque_id,
    seed_persons,
)

EXAMPLES = 6
PER_EXAMPLE = 3


@pytest.mark.requirement("PRV-MYNUM-001")
def test_no_answer_carries_a_my_number(harness, mesh, provider, item, contract, foreign_item,
                                       audit_scope, request):
    people = st.lists(st.tuples(st.integers(0, 10**11 - 1), contract.figures_strategy()),
                      min_size=1, max_size=PER_EXAMPLE, unique_by=lambda p: p[0])
    recorder = harness.recorder_for(request.node)
    stranger = harness.client(harness.token([audit_scope], client_id=AUDITOR, sub=AUDITOR),
                              recorder=recorder)
    anonymous = harness.client(authenticated=False, recorder=recorder)
    request.addfinalizer(stranger.close)
    request.addfinalizer(anonymous.close)

    # No shrinking: each example is a round of HTTP calls; the failing one is reported as is.
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(drawn=people)
    def no_my_number(drawn) -> None:
        held = [Person(code_for(provider.institution, f"drawn-{key:011d}"), fig)
                for key, fig in drawn]
        seed_persons(harness, provider, held, recorder)
        asked = [mesh.ask(p.code, item) for p in held]
        asked.append(mesh.ask(held[0].code, foreign_item))
        asked.append(mesh.ask(code_for(provider.institution, f"never-{drawn[0][0]}"), item))
        # Refusals: no token (401), not the mesh (403), a used record id (409).
        asked.append(mesh.ask(held[0].code, item, client=anonymous))
        asked.append(mesh.ask(held[0].code, item, client=stranger))
        asked.append(mesh.ask(held[-1].code, foreign_item, record_id=asked[0].record_id))
        answers = [one.response for one in asked]
        # A malformed inquiry (no 符号): its problem details must not name anyone either.
        answers.append(mesh.client.post("/v1/provisions", json={
            "record_id": opaque_id("prv-malformed"), "item_code": item},
            headers={"X-Request-ID": opaque_id("req")}))
        # The same persons' 符号 at another institution: known to the harness, never to
        # this provider, so one crossing in any form would be a leak too.
        elsewhere = [code_for(OTHER_INSTITUTION, f"drawn-{key:011d}") for key, _ in drawn]
        for answer in answers:
            ensure_no_identifiers(exchange_parts(answer), codes=elsewhere, what=(
                f"the answer {answer.status_code} to {answer.request.method} "
                f"{answer.request.url.path} (request {answer.request.content[:200]!r})"))

    no_my_number()
