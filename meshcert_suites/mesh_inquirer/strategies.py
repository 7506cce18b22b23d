"""Hypothesis strategies for generated applicants: households of varied shapes and names, and
whether the tax provider holds figures for them. Identifiers are not drawn here: each applicant
gets a fresh 住民票コード and My Number, so no two examples share a person."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from meshcert_suites.mesh_inquirer.conftest import Person, born_years_ago

# Names include characters outside the BMP and variant forms (docs/domain.md §6.10).
NAMES = ["山田 花子", "髙橋 誠", "𠮷田 葵", "渡邉 さくら", "齋藤 ひなた", "ｶﾀｶﾅ 太郎"]


@st.composite
def applicants(draw: Any) -> tuple[Person, bool]:
    """(applicant, whether the provider has their income)."""
    ages = draw(st.lists(st.integers(0, 17), min_size=1, max_size=4))
    children = [{"name": f"子 {n}", "birth_date": born_years_ago(age, draw(st.integers(20, 300)))}
                for n, age in enumerate(ages, start=1)]
    return Person.fresh(draw(st.sampled_from(NAMES)), children), draw(st.booleans())


households = st.lists(applicants(), min_size=2, max_size=5)
