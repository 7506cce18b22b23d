"""The 60-second principle (FRONT-60S-001): the machine-side time of a whole online move-out —
login at digital authentication, the form, the submission, the status view showing 完了 —
within the catalog's budget, measured as the scripted person waits for each step.

Excluded, and recorded with the figures: the person's think time (scripted: at the consent
page and on the form) and the registry clerk's processing, which the harness does at once
between the submission and the status view (the real one may take hours; that is the
municipality's time, not the app's). Where the time went is taken from the exchanges the idp
and the portal captured in each step's time span (the portal's time includes its calls to the
registries, which capture nothing); the rest is the app's own.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime
from typing import Any

import httpx
import pytest

from meshcert import Harness, ensure_harness_ok
from meshcert.certify.stopwatch import Run, Stopwatch
from meshcert_simulators.idp.holder import HolderError, ScriptedHolder
from meshcert_suites.front_service.conftest import (
    PROCEDURE,
    App,
    Clerk,
    Person,
    Portal,
    Session,
    accepted,
    form,
    simulator_url,
)
from meshcert_suites.private_service.conftest import Login

THINK_AT_CONSENT_S = 1.0
THINK_ON_FORM_S = 1.0
REQUIREMENT = "FRONT-60S-001"
CAPTURED = ("idp", "portal")
# Exchanges made by a captured hop itself, not by the person or the app: the portal asking the
# idp who a token is about.
NESTED = {("idp", "/introspect"): "portal → idp"}


def _captured(harness: Harness, kind: str, after: dict[str, int]) -> list[dict[str, Any]]:
    url = simulator_url(harness, kind)
    admin = {"Authorization": f"Bearer {harness.topology.admin_token}"}
    answer = httpx.get(f"{url}/admin/exchanges", headers=admin, timeout=15,
                       params={"after": after.get(kind, 0), "limit": 20_000})
    ensure_harness_ok(answer, f"read the exchanges the {kind} captured")
    return list(answer.json()["exchanges"])


def _last_seqs(harness: Harness) -> dict[str, int]:
    found = {}
    for kind in CAPTURED:
        url = simulator_url(harness, kind)
        answer = httpx.get(f"{url}/admin/exchanges", timeout=15, params={
            "limit": 1, "after": 10**12},
            headers={"Authorization": f"Bearer {harness.topology.admin_token}"})
        ensure_harness_ok(answer, f"read the end of the {kind}'s exchange log")
        found[kind] = int(answer.json()["last_seq"])
    return found


def _where(harness: Harness, run: Run, after: dict[str, int]) -> None:
    """Each step's hops: the captured exchanges that arrived within it, by simulator and
    request; the rest of the step's machine time is the app's own."""
    exchanges = {kind: _captured(harness, kind, after) for kind in CAPTURED}
    for step in run.steps:
        totals: dict[tuple[str, str], list[float]] = defaultdict(list)
        for kind, found in exchanges.items():
            for e in found:
                arrived = datetime.fromisoformat(e["at"]).timestamp()
                if step.wall_start <= arrived <= step.wall_end:
                    hop = NESTED.get((kind, e["path"]), kind)
                    totals[(hop, f"{e['method']} {_template(e['path'])}")].append(
                        float(e["duration_ms"]))
        # A nested hop's time is inside its caller's: counted once, in the caller's.
        downstream = sum(sum(v) for (hop, _), v in totals.items() if hop in CAPTURED)
        step.hops = [{"hop": kind, "request": request, "count": len(v),
                      "ms": round(sum(v), 3)} for (kind, request), v in sorted(totals.items())]
        step.hops.append({"hop": "app", "request": "its own work and the network",
                          "count": 0, "ms": round(max(0.0, step.machine_ms - downstream), 3)})


def _template(path: str) -> str:
    parts = path.split("/")
    return "/".join("{id}" if p[:3] in ("mo-", "dg-", "ap-", "nt-") else p for p in parts)


def _move_out(app: App, clerk: Clerk, run: Run, who: Person, budget_ms: float,
              on_behalf_of: str | None = None) -> None:
    system = app.system
    browser = system.browser()
    url = f"{system.harness.target.base_url}{system.party.login_path}"
    with Stopwatch(run, "authentication", THINK_AT_CONSENT_S):
        try:
            result = ScriptedHolder(browser, person=who.juminhyo_code,
                                    think_s=THINK_AT_CONSENT_S).login(url)
        except (HolderError, httpx.HTTPError) as exc:
            pytest.fail(f"the login at {url} failed: {exc}", pytrace=False)
    session = Session(Login(browser, who, system.party.me_path, result.callback,
                            result.authorize_params), app.settings)
    with Stopwatch(run, "form"):
        shown = session.login.me()
    assert shown.is_success, f"the signed-in person sees no form ({shown.status_code})"
    time.sleep(THINK_ON_FORM_S)          # the person fills in the form: not machine time
    with Stopwatch(run, "submission"):
        answer = session.file(form(7, on_behalf_of=on_behalf_of))
    filed = accepted(answer)
    assert filed is not None, f"the move-out was not accepted: {answer.status_code} " \
                              f"{answer.text[:300]}"
    for status in ("処理中", "完了"):   # the clerk's processing: not the app's time
        clerk.advance(str(filed["id"]), status)
    remaining_s = max(1.0, (budget_ms - run.machine_ms) / 1000 + 1)
    with Stopwatch(run, "status 完了 visible"):
        try:
            view = session.view(str(filed["id"]), timeout=remaining_s)
        except httpx.TimeoutException:
            view = None
    if view is None:
        run.steps[-1].machine_ms = round(remaining_s * 1000, 3)
        return
    assert view.is_success and view.json().get("status") == "完了", (
        f"after the registry completed the move-out the status view shows "
        f"{view.status_code} {view.text[:200]}")


@pytest.mark.requirement(REQUIREMENT)
def test_the_whole_online_move_out_stays_within_the_60_second_budget(
        app: App, clerk: Clerk, portal: Portal, harness: Harness, catalog, person: Person,
        persons: list[Person], request: pytest.FixtureRequest):
    target = catalog.get(REQUIREMENT).target
    assert target is not None and target.metric == "latency_ms"
    budget = float(target.threshold)
    index = persons.index(person)
    principal, proxy, again = (persons[(index + i) % len(persons)] for i in (1, 2, 3))
    delegation, _ = portal.delegate(principal, proxy, [PROCEDURE], 3600)
    after = _last_seqs(harness)
    runs = [Run("a person"), Run("a proxy for the principal"), Run("another person")]
    for run, who, acting in zip(runs, (person, proxy, again), (None, delegation, None),
                                strict=True):
        _move_out(app, clerk, run, who, budget, acting)
        if run.machine_ms > budget:
            break
    done = [r for r in runs if r.steps]
    for run in done:
        _where(harness, run, after)
    totals = [round(r.machine_ms, 3) for r in done]
    request.node.user_properties.append(("latency_ms", totals))
    request.node.user_properties.append(("hops", [
        {"run": r.who, "machine_ms": round(r.machine_ms, 3),
         "steps": [{"step": s.name, "machine_ms": s.machine_ms, "hops": s.hops}
                   for s in r.steps]} for r in done]))
    request.node.user_properties.append(("excluded", {
        "think_time_s": THINK_AT_CONSENT_S + THINK_ON_FORM_S,
        "note": f"scripted think time excluded: {THINK_AT_CONSENT_S:g} s at the consent page "
                f"and {THINK_ON_FORM_S:g} s on the form, per move-out; the registry clerk's "
                "processing (受付 → 処理中 → 完了, done by the harness at once) excluded"}))
    worst = max(totals)
    assert worst <= budget, (
        f"a whole online move-out took {worst:.0f} ms of machine time; the budget is "
        f"{budget:.0f} ms ({target.load}); per move-out: {totals}")
