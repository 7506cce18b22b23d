"""The child-allowance system's parts on ``app.state`` are what its routes use: each can be
replaced on its own (the applications' intake and view) and tested without HTTP."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from meshcert_simulators.childallowance.applications import Applications, check_form
from meshcert_simulators.childallowance.models import ApplicationRequest
from meshcert_simulators.childallowance.retry import RetryPolicy
from meshcert_simulators.childallowance.store import AllowanceStore
from meshcert_simulators.common.problems import Problem
from tests.api.childallowance_support import World, family

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


class _Started:
    """A background that notes what it was asked to start, and runs nothing."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def start(self, application_id: str) -> None:
        self.started.append(application_id)


def _form(application: dict[str, Any]) -> ApplicationRequest:
    return ApplicationRequest.model_validate_json(json.dumps(application, ensure_ascii=False))


def _state(tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(store=AllowanceStore(tmp_path / "parts.sqlite3"),
                           clock=SimpleNamespace(now=lambda: NOW),
                           retry_policy=RetryPolicy(give_up_within_s=4.0),
                           background=_Started())


def _problem_type(problem: pytest.ExceptionInfo[Problem]) -> tuple[int, str]:
    return problem.value.status, problem.value.body()["type"].rsplit(":", 1)[1]


def test_intake_keeps_an_application_once_and_starts_it_without_http(tmp_path):
    state = _state(tmp_path)
    applications = Applications(state)
    form = family(1).application("parts-1")
    applications.receive(_form(form))
    applications.receive(_form(form))  # an identical resend: the same application
    assert state.background.started == ["parts-1", "parts-1"]
    view, status = applications.view("parts-1")
    assert (view["state"], status) == ("received", 202)
    assert view["give_up_at"].startswith("2026-06-01T03:00:04")
    with pytest.raises(Problem) as reused:
        applications.receive(_form({**form, "children": [{"name": "三郎",
                                                          "birth_date": "2024-01-01"}]}))
    assert _problem_type(reused) == (409, "application-id-reused")
    with pytest.raises(Problem) as missing:
        applications.view("parts-none")
    assert _problem_type(missing) == (404, "application-not-found")
    state.store.close()


def test_the_form_checks_refuse_what_the_system_cannot_act_on():
    good = family(2).application("parts-2")
    check_form(_form(good), date(2026, 6, 2))
    born_later = {**good, "children": [{"name": "四郎", "birth_date": "2026-06-03"}]}
    with pytest.raises(Problem) as late:
        check_form(_form(born_later), date(2026, 6, 2))
    assert _problem_type(late) == (422, "birth-date-in-future")
    digit = good["applicant"]["juminhyo_code"][-1]
    bad_code = {**good, "applicant": {**good["applicant"], "juminhyo_code":
                                      good["applicant"]["juminhyo_code"][:-1]
                                      + str((int(digit) + 1) % 10)}}
    with pytest.raises(Problem) as wrong:
        check_form(_form(bad_code), date(2026, 6, 2))
    assert _problem_type(wrong) == (422, "invalid-juminhyo-code")


def test_a_replaced_applications_part_answers_the_routes(tmp_path):
    received: list[str] = []

    class Canned:
        def receive(self, body: ApplicationRequest) -> None:
            received.append(body.application_id)

        def view(self, application_id: str) -> tuple[dict[str, Any], int]:
            return {"application_id": application_id, "state": "decided",
                    "received_at": NOW.isoformat(), "updated_at": NOW.isoformat(),
                    "give_up_at": NOW.isoformat(), "decision": None, "notice": None,
                    "inquiries": []}, 200

    with World(tmp_path) as world:
        world.app.state.applications = Canned()
        submitted = world.submit(family(3).application("parts-3"))
        assert submitted.status_code == 200, submitted.text
        assert submitted.headers["Location"] == "/v1/applications/parts-3"
        shown = world.inquirer.get("/v1/applications/parts-3")
        assert (shown.status_code, shown.json()["state"]) == (200, "decided")
    assert received == ["parts-3"]
