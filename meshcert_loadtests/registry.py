"""Requests against a resident-registry system, shared by the registry scenarios: each a
Locust task reading its identifiers from the plan's seeded population."""

from __future__ import annotations

import random
import uuid
from typing import Any

from meshcert_loadtests.common import PLAN, bearer, check

DATA: dict[str, Any] = PLAN["data"]
LG: str = DATA["lg"]
LGS: list[str] = DATA.get("lgs") or [LG]   # every municipality the target hosts
RESIDENTS: list[dict[str, str]] = DATA["residents"]
# Request names are the contract's path templates: catalog targets name them the same way.
READ = "GET /municipalities/{lg_code}/residents/{atena_number}"
MOVEOUT = "POST /municipalities/{lg_code}/moveout-notifications"
CHANGES = "GET /municipalities/{lg_code}/changes"


def read_resident(user: Any) -> None:
    """The hot read: one resident record by 宛名番号 (what PERF-READ-001 times)."""
    resident = random.choice(RESIDENTS)
    with user.client.get(f"/municipalities/{LG}/residents/{resident['atena']}",
                         headers=bearer("read"), name=READ, catch_response=True) as response:
        check(response, 200)


def file_moveout(user: Any) -> None:
    """An online 転出届 from the front service (a new application each time)."""
    resident = random.choice([r for r in RESIDENTS if r.get("birth_date")] or RESIDENTS)
    notice = {
        "application_id": f"load-{uuid.uuid4().hex}",
        "applicant": {"juminhyo_code": resident["juminhyo"], "surname": resident["surname"],
                      "given_name": resident["given_name"],
                      "birth_date": resident["birth_date"]},
        "moving_date": DATA["moving_date"],
        "destination": {"lg_code": DATA["destination"], "address": "大阪市北区中之島1-3-20"},
    }
    with user.client.post(f"/municipalities/{LG}/moveout-notifications", json=notice,
                          headers=bearer("moveout"), name=MOVEOUT,
                          catch_response=True) as response:
        check(response, 200, 201, 202)


def poll_changes(user: Any, cursors: dict[str, int]) -> None:
    """One PULL of the difference feed of the next municipality the target hosts, from the
    caller's cursor there (it advances as pages come)."""
    lg = LGS[user.polls % len(LGS)]
    user.polls += 1
    after = cursors.get(lg, 0)
    with user.client.get(f"/municipalities/{lg}/changes?after={after}&limit=1000",
                         headers=bearer("read"), name=CHANGES, catch_response=True) as response:
        check(response, 200)
        if response.status_code == 200:
            cursors[lg] = int(response.json().get("next_after", after))
