"""No My Number crosses the mesh from a provider (PRV-MYNUM-001, DOMAIN.md §6.1): a property
over many generated persons — whatever figures the provider holds, no string in any answer
(provided, not provided, unknown 符号) is a 12-digit number passing the My Number check digit.

Hypothesis draws the persons and their figures (the run's ``--hypothesis-seed`` replays them);
each example loads them through the seeding endpoint and asks for every one.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from simulators.common.identifiers import find_my_numbers
from simulators.tax.models import MAX_YEN
from suites.information_provider.mesh_side import (
    FOREIGN_ITEM,
    Person,
    code_for,
    seed_persons,
)

EXAMPLES = 6
PER_EXAMPLE = 3

figures = st.fixed_dictionaries({
    "tax_year": st.integers(2000, 2100),
    "taxable_income": st.integers(0, MAX_YEN),
    "income_levy": st.integers(0, MAX_YEN),
    "per_capita_levy": st.integers(0, 100_000),
    "dependants": st.integers(0, 30),
})
people = st.lists(st.tuples(st.integers(0, 10**11 - 1), figures), min_size=1,
                  max_size=PER_EXAMPLE, unique_by=lambda p: p[0])


@pytest.mark.requirement("PRV-MYNUM-001")
def test_no_answer_carries_a_my_number(harness, mesh, provider, item, request):
    recorder = harness.recorder_for(request.node)

    # No shrinking: each example is a round of HTTP calls; the failing one is reported as is.
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(drawn=people)
    def no_my_number(drawn) -> None:
        held = [Person(code_for(provider.institution, f"drawn-{key:011d}"), fig)
                for key, fig in drawn]
        seed_persons(harness, provider, held, recorder)
        asked = [mesh.ask(p.code, item) for p in held]
        asked.append(mesh.ask(held[0].code, FOREIGN_ITEM))
        asked.append(mesh.ask(code_for(provider.institution, f"never-{drawn[0][0]}"), item))
        for one in asked:
            found = find_my_numbers(one.response.text)
            assert not found, (f"{len(found)} My-Number-shaped value(s) {found} crossed the "
                               f"mesh in {one.describe()}")

    no_my_number()
