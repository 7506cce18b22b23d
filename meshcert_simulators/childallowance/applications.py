"""Applications as the system receives and shows them: the checks of a form before it is kept,
idempotent intake by application id, and the view of an application's state and decision."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from typing import Any

from meshcert_simulators.childallowance.inquirer import iso
from meshcert_simulators.childallowance.models import ApplicationRequest
from meshcert_simulators.common.identifiers import is_valid_juminhyo_code, is_valid_my_number
from meshcert_simulators.common.problems import Problem

IN_PROGRESS = ("received", "inquiring")


def check_form(body: ApplicationRequest, today: date) -> None:
    """Refuse (422) a form the system cannot act on: identifiers whose check digit does not
    match, children born after ``today``."""
    if not is_valid_juminhyo_code(body.applicant.juminhyo_code):
        raise Problem(422, "invalid-juminhyo-code", "Invalid 住民票コード",
                      "the check digit of the applicant's 住民票コード does not match")
    if not is_valid_my_number(body.applicant.my_number):
        raise Problem(422, "invalid-my-number", "Invalid My Number",
                      "the check digit of the applicant's My Number does not match")
    late = [c.name for c in body.children if c.birth_date > today]
    if late:
        raise Problem(422, "birth-date-in-future", "Birth date in the future",
                      f"children born after today: {late}")


class Applications:
    """Receives and shows applications. The ``store``, ``clock``, ``retry_policy`` and
    ``background`` are read from the app's state at the time of use, so a negative control or
    a test can replace any of them (or this object)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def receive(self, body: ApplicationRequest) -> None:
        """Keep a new application and start its processing in the background; an identical
        resend changes nothing, another form under a used id is refused (409)."""
        clock, policy = self.state.clock, self.state.retry_policy
        check_form(body, clock.now().date() + timedelta(days=1))  # any time zone's today
        form = json.loads(body.model_dump_json())
        digest = hashlib.sha256(json.dumps(form, sort_keys=True).encode()).hexdigest()
        now = clock.now()
        kind, _ = self.state.store.receive(
            body.application_id, digest, form, iso(now),
            iso(now + timedelta(seconds=policy.give_up_within_s)))
        if kind == "conflict":
            raise Problem(409, "application-id-reused", "Application id already used",
                          f"application {body.application_id!r} was received with another "
                          "content")
        self.state.background.start(body.application_id)

    def view(self, application_id: str) -> tuple[dict[str, Any], int]:
        """The application as the API shows it, and its status: 202 while in progress."""
        store = self.state.store
        row = store.application(application_id)
        if row is None:
            raise Problem(404, "application-not-found", "No such application",
                          f"no application {application_id!r}")
        return {"application_id": application_id, "state": row["state"],
                "received_at": row["received_at"], "updated_at": row["updated_at"],
                "give_up_at": row["give_up_at"], "decision": row["decision"],
                "notice": row["notice"], "inquiries": store.inquiries_of(application_id),
                }, 202 if row["state"] in IN_PROGRESS else 200
