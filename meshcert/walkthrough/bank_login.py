"""Issue 13's walk-through: one synthetic person opens an account at the reference bank (a
relying party). The scripted card holder logs in at digital authentication and consents; the
bank gets the basic facts through the gov-private API gateway and shows them; the gateway's
provision record for the person is read back. Over real HTTP, with the harness's own helpers
(the private-service suites' provider, gateway, registry and system)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from meshcert.certify.evidence import Recorder
from meshcert.certify.harness import Harness
from meshcert.checks import find_identifiers
from meshcert.walkthrough.stage import Narrator, WalkFailed, public_jwk, reference_stage
from meshcert_simulators.idp.holder import HolderError, ScriptedHolder
from meshcert_simulators.idp.page import SCOPE_LABELS
from meshcert_suites.private_service.conftest import (
    FACTS_PATH,
    Gateway,
    Person,
    Provider,
    Registry,
    System,
)

PROFILE = "private-service"
PERSONS = 20
SEED = 20261213          # issue 13


@dataclass
class BankLoginSeen:
    """What the walk observed."""

    person: Person
    scopes_asked: list[str]
    purpose_on_page: bool               # the consent page named the bank's purpose
    shown: dict[str, Any]               # the bank's /me answer after the login
    facts_shown: list[str]              # which of the registry's facts the bank shows
    leaks: list[str]                    # identifiers found in the bank's answer (none)
    provision_records: list[dict[str, Any]] = field(default_factory=list)


def _label(scope: str) -> str:
    return SCOPE_LABELS.get(scope, (scope, ""))[0]


def walk_bank_login(tell: Narrator) -> BankLoginSeen:
    tell.step("A bank account opening with the My Number card (private service, issue 13): "
              "start the bank and its harness side")
    with reference_stage(PROFILE, tell) as harness:
        party = harness.target.relying_party
        assert party is not None  # the private-service reference has one
        base_url = harness.target.base_url
        person = Registry(harness).persons(PERSONS, seed=SEED)[0]
        provider = Provider(harness)
        gateway = Gateway(harness, party.client_id)
        system = System(harness, party, Recorder())
        try:
            provider.register(party, party.redirect_url(base_url),
                              public_jwk(harness, party.public_jwk))
            gateway.register(party)
            tell.say(f"{PERSONS} synthetic residents seeded at the registry; the bank "
                     f"({party.client_id}) registered at the provider and the gateway for "
                     f"its purpose: {party.purpose_text or party.purpose}")
            return _login(tell, harness, system, person, gateway)
        finally:
            provider.plain.close()
            gateway.plain.close()
            system.close()


def _login(tell: Narrator, harness: Harness, system: System, person: Person,
           gateway: Gateway) -> BankLoginSeen:
    party = system.party
    who = f"{person.surname} {person.given_name}"
    tell.step(f"{who} (住民票コード {person.juminhyo_code}) logs in at the bank with the card")
    browser = system.browser()
    start = f"{harness.target.base_url}{party.login_path}"
    try:
        result = ScriptedHolder(browser, person=person.juminhyo_code).login(start)
    except HolderError as exc:
        raise WalkFailed(f"the login at {start} did not reach the provider: {exc}") from None
    params = result.authorize_params
    scopes = params.get("scope", "").split()
    tell.say(f"GET {party.login_path} at the bank → redirected to digital authentication "
             f"{params.get('response_type')} flow, PKCE {params.get('code_challenge_method')}, "
             f"fresh state and nonce")
    tell.say("The bank asks for: " + ", ".join(f"{_label(s)} ({s})" for s in scopes))
    purpose_shown = bool(party.purpose_text) and party.purpose_text in unescape(result.page.text)
    tell.say("The consent page shows who asks and why: "
             + (party.purpose_text if purpose_shown else "(the purpose was not on the page)"))
    callback = result.callback
    tell.say(f"{who} consents (the card signs the consent; the gateway records it); the bank's "
             "callback redeems the code (private_key_jwt) and signs them in: "
             f"{urlsplit(result.final_url or '').path} answered "
             f"{callback.status_code if callback else '—'}")

    tell.step("What the bank shows: the facts it got from the gateway, for this login")
    answer = browser.get(party.me_path)
    if not answer.is_success:
        raise WalkFailed(f"after the login the bank's {party.me_path} answered "
                         f"{answer.status_code}: {answer.text[:300]}")
    shown = answer.json()
    facts = shown.get("facts") or {}
    for key in ("name", "name_kana", "address", "birthdate", "gender"):
        if facts.get(key):
            tell.say(f"{key:<10} {facts[key]}")
    matched = person.facts_in(answer)
    leaks = find_identifiers(answer, juminhyo_codes=[person.juminhyo_code])
    tell.say(f"As the registry holds them: {', '.join(matched) or 'none'} match. Identifiers "
             "that must not reach a private service (a My Number, the 住民票コード) in the "
             f"bank's answer: {', '.join(leak.kind for leak in leaks) or 'none'}")

    tell.step("The gateway's provision record: what the person will see in their history")
    page = gateway.plain.get("/v1/provision-records",
                             params={"juminhyo_code": person.juminhyo_code})
    if page.status_code != 200:
        raise WalkFailed(f"the gateway's provision records answered {page.status_code}: "
                         f"{page.text[:300]}")
    records = list(page.json()["records"])
    for record in records:
        tell.say(f"{record['record_id']}: to {record['client_id']} ({record['purpose']}) "
                 f"{', '.join(record['claims'])} at {record['provided_at']}")
    tell.say(f"{len(records)} record(s): one for each time the bank asked "
             f"{FACTS_PATH} for this person")
    return BankLoginSeen(person, scopes, purpose_shown, shown, matched,
                         [str(leak) for leak in leaks], records)
