"""INQ-RES-005's window at its edge: a give-up concluded just inside the stated time plus its
slack is in time, just outside it is not, and one never concluded is not."""

from __future__ import annotations

import pytest

from meshcert_suites.mesh_inquirer.conftest import Person
from meshcert_suites.mesh_inquirer.failures import KINDS, SLACK_S, Outcome


def concluded_after(seconds: float | None, stated: float = 4.0) -> Outcome:
    return Outcome(KINDS[0], Person.fresh(), "APP-1", stated, 0, 0, 0.0, "inquiry-failed",
                   seconds)


@pytest.mark.parametrize(("offset", "in_time"), [(-0.01, True), (0.0, True), (0.01, False)])
@pytest.mark.parametrize("stated", [0.5, 4.0, 60.0])
def test_the_stated_time_holds_to_its_edge(stated, offset, in_time):
    assert concluded_after(stated + SLACK_S + offset, stated).in_time is in_time


def test_an_application_never_concluded_was_not_given_up_in_time():
    assert concluded_after(None).in_time is False
