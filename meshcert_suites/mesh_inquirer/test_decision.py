"""INQ-DEC-001: the application is decided on the income the provider gave, at the amounts in
force since October 2024. With no data at the provider (status 02) nothing is decided and the
person is asked for a 課税証明書: judged with every other way of missing the income in
test_giving_up.py."""

from __future__ import annotations

import pytest

from meshcert_suites.mesh_inquirer.conftest import Person, born_years_ago


@pytest.mark.requirement("INQ-DEC-001")
def test_with_the_income_provided_the_allowance_is_decided_at_current_amounts(inquirer, tax):
    two = Person.fresh(children=[{"name": "一郎", "birth_date": born_years_ago(1)},
                                 {"name": "二郎", "birth_date": born_years_ago(5)}])
    three = Person.fresh(children=[{"name": "長女", "birth_date": born_years_ago(10)},
                                   {"name": "次女", "birth_date": born_years_ago(5)},
                                   {"name": "三女", "birth_date": born_years_ago(1)}])
    tax.seed(two, three)
    ids = [inquirer.submit(two), inquirer.submit(three)]
    views = inquirer.wait(ids, inquirer.give_up_within_s + 2)
    # Under 3: 15,000; to 高校生年代: 10,000; the third child on: 30,000 a month.
    for application_id, expected in zip(ids, (25_000, 50_000), strict=True):
        view = views[application_id]
        assert view["state"] == "decided", (
            f"an application with the income provided ended {view['state']!r}: {view}")
        amount = (view.get("decision") or {}).get("monthly_amount")
        assert amount == expected, (
            f"decided at {amount} yen a month, not {expected}: {view.get('decision')}")
        assert (view.get("notice") or {}).get("kind") == "decision", view.get("notice")
