"""Issue 14's walk-through: the online move-out (転出届) end to end through the reference front
service — a person, then a voluntary proxy the principal registered at the portal with a scoped
delegation. Each logs in at digital authentication, files on the app, which files on the
portal, which forwards to the old municipality's registry; the registry's clerk processes it
(受付 → 処理中 → 完了, shown live by the app); the exchange then shows in the person's (the
principal's) history at the portal. The machine-side time of each move-out is measured as the
front-service suites measure FRONT-60S-001: the person's think time and the clerk's work are
left out, and said so. Over real HTTP, with the harness's own helpers (the front-service
suites' portal, clerk and app)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from meshcert.catalog.requirements import load_catalog
from meshcert.certify.evidence import Recorder
from meshcert.certify.harness import Harness
from meshcert.certify.stopwatch import Run, Stopwatch
from meshcert.walkthrough.stage import Narrator, WalkFailed, public_jwk, reference_stage
from meshcert_simulators.idp.holder import HolderError, ScriptedHolder
from meshcert_suites.front_service.conftest import (
    NEW_LG,
    PROCEDURE,
    App,
    Clerk,
    OldRegistry,
    Portal,
    Session,
    accepted,
    form,
)
from meshcert_suites.private_service.conftest import Gateway, Login, Person, Provider, System

PROFILE = "front-service"
BUDGET_REQUIREMENT = "FRONT-60S-001"
PERSONS = 20
SEED = 20261214          # issue 14
THINK_AT_CONSENT_S = 0.5    # the scripted person reads the consent page
THINK_ON_FORM_S = 0.5       # and fills in the form: neither is machine time
DELEGATION_S = 3600


@dataclass
class MoveoutSeen:
    """What one move-out's walk observed."""

    filer: Person
    applicant: Person
    moveout_id: str
    filed_by: str                           # as the portal's answer says: person | proxy
    statuses: list[str]                     # as the app showed them, in order
    history: list[dict[str, Any]]           # the applicant's history entries naming the filing
    run: Run
    refused: dict[str, Any] = field(default_factory=dict)  # a filing outside the delegation


@dataclass
class MoveoutsSeen:
    budget_ms: float
    person: MoveoutSeen
    proxy: MoveoutSeen


def _name(person: Person) -> str:
    return f"{person.surname} {person.given_name}"


def _address(claim: Any) -> str:
    return str(claim.get("formatted", claim)) if isinstance(claim, dict) else str(claim)


def walk_online_moveout(tell: Narrator) -> MoveoutsSeen:
    tell.step("The online move-out (転出届) through a front service (issue 14): start the app, "
              "the portal and their counterparts")
    with reference_stage(PROFILE, tell) as harness:
        party, front = harness.target.relying_party, harness.target.front_service
        assert party is not None and front is not None  # the front-service reference has both
        requirement = load_catalog(harness.target.catalog).get(BUDGET_REQUIREMENT)
        assert requirement.target is not None
        budget = float(requirement.target.threshold)
        person, principal, proxy = OldRegistry(harness).persons(PERSONS, seed=SEED)[:3]
        provider, gateway = Provider(harness), Gateway(harness, party.client_id)
        provider.register(party, party.redirect_url(harness.target.base_url),
                          public_jwk(harness, party.public_jwk))
        gateway.register(party)
        portal, clerk = Portal(harness, provider, gateway, party), Clerk(harness)
        app = App(System(harness, party, Recorder()), front)
        tell.say(f"{PERSONS} synthetic residents of 千代田区 seeded at the old municipality's "
                 f"registry; the app ({party.client_id}) registered at the provider for its "
                 f"purpose: {party.purpose_text or party.purpose}")
        try:
            alone = _move_out(tell, harness, app, clerk, portal, budget, person, person)
            tell.step(f"{_name(principal)} logs in at the portal with the card and registers "
                      f"{_name(proxy)} as a voluntary proxy (代理人), for the move-out only")
            delegation, principal_token = portal.delegate(principal, proxy, [PROCEDURE],
                                                          DELEGATION_S)
            narrow, _ = portal.delegate(principal, proxy, ["child-allowance"], DELEGATION_S)
            tell.say(f"delegation {delegation}: procedures [{PROCEDURE}], for "
                     f"{DELEGATION_S // 60} minutes; another, {narrow}, covers "
                     "[child-allowance] only")
            for_principal = _move_out(tell, harness, app, clerk, portal, budget, proxy,
                                      principal, delegation, narrow, principal_token)
        finally:
            for client in (provider.plain, gateway.plain, portal.plain, clerk.http):
                client.close()
            app.system.close()
    return MoveoutsSeen(budget, alone, for_principal)


def _move_out(tell: Narrator, harness: Harness, app: App, clerk: Clerk, portal: Portal,
              budget: float, filer: Person, applicant: Person, on_behalf_of: str | None = None,
              outside: str | None = None, applicant_token: str | None = None) -> MoveoutSeen:
    as_proxy = on_behalf_of is not None
    run = Run(f"{_name(filer)} for {_name(applicant)}" if as_proxy else _name(filer))
    party = app.system.party
    tell.step(f"{_name(filer)} logs in at the front service"
              + (f" as {_name(applicant)}'s proxy" if as_proxy else "") + " and files the "
              "move-out")
    browser = app.system.browser()
    start = f"{harness.target.base_url}{party.login_path}"
    with Stopwatch(run, "authentication", THINK_AT_CONSENT_S) as step:
        try:
            result = ScriptedHolder(browser, person=filer.juminhyo_code,
                                    think_s=THINK_AT_CONSENT_S).login(start)
        except HolderError as exc:
            raise WalkFailed(f"the login at {start} did not reach the provider: {exc}") from None
    session = Session(Login(browser, filer, party.me_path, result.callback,
                            result.authorize_params), app.settings)
    tell.say(f"login at digital authentication (asks for {result.authorize_params.get('scope')}),"
             f" consent: {step.machine_ms:.0f} ms")
    with Stopwatch(run, "form") as step:
        me = session.login.me()
    if not me.is_success:
        raise WalkFailed(f"the signed-in person sees no form: {me.status_code} {me.text[:300]}")
    shown = me.json()
    tell.say(f"the form shows who files: {shown.get('name')}, {_address(shown.get('address'))} "
             f"({step.machine_ms:.0f} ms)")
    time.sleep(THINK_ON_FORM_S)
    refused: dict[str, Any] = {}
    if outside is not None:
        answer = session.file(form(7, on_behalf_of=outside))
        refused = {"status": answer.status_code, "accepted": accepted(answer) is not None,
                   "type": _problem_type(answer)}
        tell.say(f"under the delegation for child-allowance only, the app refuses: "
                 f"{answer.status_code} {refused['type'] or ''}".rstrip())
    with Stopwatch(run, "submission") as step:
        answer = session.file(form(7, on_behalf_of=on_behalf_of))
    filed = accepted(answer)
    if filed is None:
        raise WalkFailed(f"the move-out was not accepted: {answer.status_code} "
                         f"{answer.text[:300]}")
    moveout_id = str(filed["id"])
    reservation = filed.get("move_in_reservation") or {}
    tell.say(f"POST {app.settings.moveouts_path} → {answer.status_code}: application "
             f"{moveout_id}, {filed.get('status')}, filed by the {filed.get('filed_by')} "
             f"({step.machine_ms:.0f} ms); moving {filed.get('moving_date')} to "
             f"{NEW_LG} {reservation.get('address', '')}, move-in visit by "
             f"{reservation.get('visit_by', '?')}")
    statuses = [str(filed.get("status"))]
    # The person opens the portal while still a resident: once the registry completes the
    # move-out, this topology's digital authentication no longer finds them (it reads the
    # persons from the old municipality's registry), as a card's signing certificate is
    # revoked on a move.
    applicant_token = applicant_token or portal.token_of(applicant)

    tell.step("The old municipality's registry processes it; the app shows the registry's status")
    for status in ("処理中", "完了"):
        clerk.advance(moveout_id, status)      # the clerk's work: not the app's time
        # Only the view showing 完了 is a step of the procedure; the one before is a look.
        counted = run if status == "完了" else Run("a look meanwhile")
        with Stopwatch(counted, f"status {status} visible") as view_step:
            view = session.view(moveout_id)
        if not view.is_success:
            raise WalkFailed(f"the app's status view answered {view.status_code}: "
                             f"{view.text[:300]}")
        statuses.append(str(view.json().get("status")))
        tell.say(f"clerk: → {status}; the app shows {statuses[-1]} "
                 f"({view_step.machine_ms:.0f} ms)")
    history = _history(tell, portal, applicant, moveout_id, applicant_token)
    excluded = THINK_AT_CONSENT_S + THINK_ON_FORM_S
    tell.say(f"Machine-side time of this move-out: {run.machine_ms:,.0f} ms of the "
             f"{budget / 1000:g} s budget ({BUDGET_REQUIREMENT}): "
             + ", ".join(f"{s.name} {s.machine_ms:.0f} ms" for s in run.steps)
             + f". Left out: {excluded:g} s of scripted thinking and the clerk's processing.")
    return MoveoutSeen(filer, applicant, moveout_id, str(filed.get("filed_by")), statuses,
                       history, run, refused)


def _history(tell: Narrator, portal: Portal, applicant: Person, moveout_id: str,
             token: str) -> list[dict[str, Any]]:
    tell.step(f"{_name(applicant)} at the portal: the exchange in their history (やりとり履歴)")
    page = portal.plain.get("/v1/me/history", headers={"Authorization": f"Bearer {token}"})
    if page.status_code != 200:
        raise WalkFailed(f"the portal's history answered {page.status_code}: {page.text[:300]}")
    entries = list(page.json()["entries"])
    for entry in entries[:5]:
        tell.say(f"{entry['at'][:19]}  [{entry['source']}] {entry['counterpart']}: "
                 f"{entry['purpose'] or ''} {', '.join(entry['items'])} → {entry['outcome']}")
    mine = [e for e in entries if e["record_id"] == moveout_id]
    tell.say(f"{len(entries)} entries; the move-out {moveout_id} is "
             + ("among them" if mine else "NOT among them"))
    return mine


def _problem_type(answer: httpx.Response) -> str | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    return str(body.get("type")) if isinstance(body, dict) and body.get("type") else None
