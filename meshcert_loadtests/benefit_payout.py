"""A national cash benefit paid to every public-fund account holder (docs/domain.md §5 F4, §7):
the benefit-paying agency asks the mesh for each holder's account — bulk files of up to 10,000
rows, and a few single queries — which the mesh routes on the copy path to the account
registry; the agency pushes each payee's notice of the payment to the portal (``POST
/v1/notices`` with ``portal:notify``, once per person: the payment's key makes a resend the same
notice); payees then look at the query in their portal history, i.e. the portal reads the
registry's records of the person (``GET /v1/records?person=``).

Needs a topology whose public-fund provider is the account registry, with a portal and an
agency client holding ``portal:notify`` (fixtures/topologies/benefit-payout.yaml).
"""

from __future__ import annotations

import random
from typing import Any

from locust import FastHttpUser

from meshcert_loadtests.common import PLAN, PlanShape, bearer, check, ssl_context_factory, wait_time
from meshcert_loadtests.mesh_inquiries import MeshInquirer, bulk, single

__all__ = ["PayoutAgency", "PlanShape"]

DATA: dict[str, Any] = PLAN["data"]
WEIGHTS: dict[str, int] = PLAN["weights"]
HISTORY = "GET /v1/records?person= (portal history)"
NOTICE = "POST /v1/notices (the payee's notice)"
PAYMENT = "benefit-2026"        # the payout: each person's notice is keyed by it

if WEIGHTS.get("history") and not DATA.get("accounts"):
    raise SystemExit("benefit-payout: the topology's public-fund provider is not an account "
                     "registry (kind: accounts); use fixtures/topologies/benefit-payout.yaml")

if WEIGHTS.get("notice") and not DATA.get("portal"):
    raise SystemExit("benefit-payout: the topology has no portal simulator with a client holding "
                     "portal:notify (the agency pushing the payees' notices); use "
                     "fixtures/topologies/benefit-payout.yaml")

# Locust would also run the imported class: it is this scenario's agency, so keep one.
del MeshInquirer


def history(user: Any) -> None:
    """A payee opening their exchange history: the portal reads the person's query records."""
    url = f"{DATA['accounts']}/v1/records"
    with user.client.get(url, params={"person": random.choice(DATA["persons"]), "limit": 20},
                         headers=bearer("records"), name=HISTORY,
                         catch_response=True) as response:
        check(response, 200)


def notice(user: Any) -> None:
    """The agency telling a paid person at the portal (a resend of a notice already pushed is
    answered 200 with the same notice: one notice per person)."""
    person = random.choice(DATA["persons"])
    body = {"juminhyo_code": person, "kind": "benefit", "procedure": "benefit-payout",
            "title": "給付金をお支払いしました",
            "body": "ご登録の公金受取口座へ給付金を振り込みました。",
            "idempotency_key": f"{PAYMENT}-{person}"}
    with user.client.post(f"{DATA['portal']}/v1/notices", json=body, headers=bearer("notify"),
                          name=NOTICE, catch_response=True) as response:
        check(response, 201, 200)


def _tasks() -> dict[Any, float]:
    found: dict[Any, float] = {}
    if WEIGHTS.get("inquiry-public-fund"):
        found[lambda user: single(user, "public-fund")] = WEIGHTS["inquiry-public-fund"]
    if WEIGHTS.get("bulk"):
        found[bulk] = WEIGHTS["bulk"]
    if WEIGHTS.get("history"):
        found[history] = WEIGHTS["history"]
    if WEIGHTS.get("notice"):
        found[notice] = WEIGHTS["notice"]
    return found


class PayoutAgency(FastHttpUser):
    """The benefit-paying agency asking the mesh and telling the payees at the portal, and
    payees looking at their history."""

    wait_time = wait_time()
    ssl_context_factory = staticmethod(ssl_context_factory)
    tasks = _tasks()

    def on_start(self) -> None:
        # As in mesh_inquiries.py: one bulk file at the start, so every run shows how the
        # registry absorbs one, however short.
        if DATA.get("bulk_at_start") and not getattr(PayoutAgency, "_bulk_sent", False):
            PayoutAgency._bulk_sent = True
            bulk(self)
