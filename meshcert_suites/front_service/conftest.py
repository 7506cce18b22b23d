"""Fixtures of the front-service suites: the harness's hands on digital authentication (the
private-service suites' provider, persons and logins, imported), on the portal (what the app
sent it, faults, delegations the principal gives and revokes), and on the old municipality's
registry (its clerk advancing a move-out), and the app driven as a person would through the
API its target file states.

What the suites judge is what the app shows the person and what it sent the portal (the
portal's exchange capture); the portal and the registry are the oracle of the real state.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
import pytest
from joserfc.jwk import ECKey

from meshcert import Harness, Target, ensure_harness_ok
from meshcert.catalog.targets import FrontServiceSettings, RelyingPartySettings
from meshcert.certify.evidence import Recorder
from meshcert.certify.verdicts import HarnessFault
from meshcert_simulators.authz.tokens import make_client_assertion
from meshcert_simulators.common.tls import shared_client_context
from meshcert_suites.private_service import conftest as private_service
from meshcert_suites.private_service.conftest import Gateway, Login, Person, Provider, System

# The private-service suites' fixtures, reused as they are: the target's relying party and its
# key, and the persons of the harness's registry (a new one for each test that asks).
party = private_service.party
public_jwk = private_service.public_jwk
person = private_service.person

OLD_LG = "131016"           # 千代田区: where the harness's persons live
NEW_LG = "131130"           # 渋谷区: where they move to
MOVEOUTS = "/v1/moveouts"
PROCEDURE = "moveout"
HARNESS_RP = "meshcert-harness-principal"
HARNESS_REDIRECT = "https://harness.invalid/callback"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
STATUS_TIMEOUT_S = 90.0     # a slow status view is FRONT-60S-001's concern, not a failure here


def simulator_url(harness: Harness, kind: str, name: str | None = None) -> str:
    topology = harness.topology
    found = name if name in topology.simulators else next(
        (n for n, s in topology.simulators.items() if s.kind == kind), None)
    if found is None:
        pytest.fail(f"the harness topology {topology.name!r} has no {kind} simulator (profile "
                    "front-service needs the registries, idp, gateway and portal)",
                    pytrace=False)
    return topology.url(found)


def registry_url(harness: Harness, lg_code: str) -> str:
    """The harness's municipal simulator hosting ``lg_code``."""
    topology = harness.topology
    found = next((n for n, s in topology.simulators.items()
                  if s.kind == "municipal" and lg_code in s.municipalities), None)
    if found is None:
        pytest.fail(f"the harness topology {topology.name!r} has no municipal simulator hosting "
                    f"{lg_code} (the old municipality of the move-outs)", pytrace=False)
    return topology.url(found)


class OldRegistry(private_service.Registry):
    """The old municipality's registry, where the persons of the move-outs live."""

    def __init__(self, harness: Harness) -> None:
        super().__init__(harness)
        self.url = registry_url(harness, OLD_LG)


def moving_date(days_ahead: int) -> str:
    return (date.today() + timedelta(days=days_ahead)).isoformat()


def form(days_ahead: int = 7, on_behalf_of: str | None = None,
         reason: str | None = "転勤") -> dict[str, Any]:
    """The move-out form as a person fills it in."""
    body: dict[str, Any] = {"moving_date": moving_date(days_ahead),
                            "new_address": {"lg_code": NEW_LG, "address": "渋谷区宇田川町1-1"}}
    if reason:
        body["reason"] = reason
    if on_behalf_of:
        body["on_behalf_of"] = on_behalf_of
    return body


def body_of(exchange: dict[str, Any], part: str = "request_body") -> dict[str, Any]:
    """The JSON object an exchange carried (``part``: request_body or response_body)."""
    try:
        found = json.loads(exchange.get(part) or "null")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def created_ids(sent: list[dict[str, Any]]) -> set[str]:
    """The applications the portal answered with (2xx) to what the app sent."""
    return {str(body_of(e, "response_body").get("id")) for e in sent
            if e["status"] in (200, 201)}


def idempotency_key(exchange: dict[str, Any]) -> str | None:
    headers = {k.lower(): v for k, v in (exchange.get("request_headers") or {}).items()}
    return headers.get("idempotency-key") or body_of(exchange).get("idempotency_key")


# -- the portal -------------------------------------------------------------------------------


class Portal:
    """The harness's portal: what the app sent it, faults, and the principal's side of
    delegations (with a token the harness gets for the principal at digital authentication)."""

    def __init__(self, harness: Harness, provider: Provider, gateway: Gateway,
                 party: RelyingPartySettings) -> None:
        self.url = simulator_url(harness, "portal")
        self.admin = {"Authorization": f"Bearer {harness.topology.admin_token}"}
        self.plain = httpx.Client(verify=shared_client_context(), base_url=self.url, timeout=15)
        self.provider = provider
        self.key = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"},
                                      auto_kid=True)
        provider.register(party.model_copy(update={"client_id": HARNESS_RP}),
                          HARNESS_REDIRECT, self.key.as_dict(private=False))
        gateway.register(party.model_copy(update={"client_id": HARNESS_RP}))

    def token_of(self, who: Person) -> str:
        """An access token of ``who`` from digital authentication, as the harness's own
        relying party gets it (the principal acting on the portal directly)."""
        verifier = secrets.token_urlsafe(32)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()
                                             ).rstrip(b"=").decode()
        params = {"response_type": "code", "client_id": HARNESS_RP,
                  "redirect_uri": HARNESS_REDIRECT, "scope": "openid",
                  "state": secrets.token_urlsafe(16), "nonce": secrets.token_urlsafe(16),
                  "code_challenge": challenge, "code_challenge_method": "S256"}
        with httpx.Client(verify=shared_client_context(),
                          base_url=self.provider.url, timeout=15) as browser:
            page = browser.get(f"/authorize?{urlencode(params)}")
            ensure_harness_ok(page, "open the provider's login page for the principal")
            transaction = re.search(r'name="transaction" value="([^"]*)"', page.text)
            if transaction is None:
                raise HarnessFault("the provider's login page has no transaction")
            decided = browser.post("/authorize/decision", data={
                "transaction": transaction.group(1), "person": who.juminhyo_code,
                "decision": "consent"})
            location = urljoin(self.provider.url, decided.headers.get("location", ""))
            code = dict(parse_qsl(urlsplit(location).query)).get("code")
            if not code:
                raise HarnessFault(f"the provider gave the principal no code: {location}")
            endpoint = f"{self.provider.url}/token"
            answer = browser.post("/token", data={
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": HARNESS_REDIRECT, "code_verifier": verifier,
                "client_id": HARNESS_RP, "client_assertion_type": JWT_BEARER,
                "client_assertion": make_client_assertion(self.key, HARNESS_RP, endpoint)})
        ensure_harness_ok(answer, "redeem the principal's code at the provider")
        return str(answer.json()["access_token"])

    def delegate(self, principal: Person, proxy: Person, procedures: list[str],
                 lasts_s: float) -> tuple[str, str]:
        """A delegation from ``principal`` to ``proxy``; (its id, the principal's token)."""
        token = self.token_of(principal)
        until = (datetime.now(UTC) + timedelta(seconds=lasts_s)).isoformat()
        answer = self.plain.post("/v1/me/proxies", headers={"Authorization": f"Bearer {token}"},
                                 json={"proxy_juminhyo_code": proxy.juminhyo_code,
                                       "kind": "voluntary", "procedures": procedures,
                                       "until": until})
        ensure_harness_ok(answer, "record the principal's delegation at the portal",
                          ok=(200, 201))
        return str(answer.json()["id"]), token

    def revoke(self, delegation_id: str, principal_token: str) -> None:
        answer = self.plain.delete(f"/v1/me/proxies/{delegation_id}",
                                   headers={"Authorization": f"Bearer {principal_token}"})
        ensure_harness_ok(answer, "revoke the delegation as its principal", ok=(200, 204))

    def last_seq(self) -> int:
        answer = self.plain.get("/admin/exchanges", headers=self.admin,
                                params={"limit": 1, "after": 10**12})
        ensure_harness_ok(answer, "read the end of the portal's exchange log")
        return int(answer.json()["last_seq"])

    def sent(self, after: int, path: str = MOVEOUTS, method: str = "POST"
             ) -> list[dict[str, Any]]:
        """What reached the portal at ``path`` (exactly, for a POST) after ``after``."""
        answer = self.plain.get("/admin/exchanges", headers=self.admin, params={
            "after": after, "path_prefix": path, "limit": 20_000})
        ensure_harness_ok(answer, f"read what reached the portal's {path}")
        return [e for e in answer.json()["exchanges"] if e["method"] == method
                and (method != "POST" or e["path"] == path)]

    def everything_from(self, after: int, client_id: str) -> list[dict[str, Any]]:
        """Every exchange of ``client_id`` (the app's tokens name it) after ``after``."""
        answer = self.plain.get("/admin/exchanges", headers=self.admin, params={
            "after": after, "client_id": client_id, "limit": 20_000})
        ensure_harness_ok(answer, f"read what {client_id} sent the portal")
        return list(answer.json()["exchanges"])

    def fault(self, plan: dict[str, Any]) -> None:
        answer = self.plain.put("/admin/faults/global", headers=self.admin, json=plan)
        ensure_harness_ok(answer, f"put the fault plan {plan} on the portal")

    def clear_faults(self) -> None:
        answer = self.plain.delete("/admin/faults/global", headers=self.admin)
        ensure_harness_ok(answer, "clear the portal's fault plans", ok=(200, 204))


# -- the old municipality's registry ------------------------------------------------------------


class Clerk:
    """The old municipality's registry clerk: reads and advances a move-out there."""

    def __init__(self, harness: Harness) -> None:
        self.url = registry_url(harness, OLD_LG)
        client = next((c for c in harness.topology.clients
                       if c.token and "moveout:process" in c.roles), None)
        if client is None:
            pytest.fail(f"the harness topology {harness.topology.name!r} has no client with "
                        "the role moveout:process (the harness plays the clerk)", pytrace=False)
        self.http = httpx.Client(verify=shared_client_context(), base_url=self.url, timeout=15,
                                 headers={"Authorization": f"Bearer {client.token}"})

    def status(self, moveout_id: str) -> str:
        answer = self.http.get(f"/municipalities/{OLD_LG}/moveout-notifications/{moveout_id}")
        ensure_harness_ok(answer, f"read move-out {moveout_id} at the registry")
        return str(answer.json()["status"])

    def advance(self, moveout_id: str, status: str) -> None:
        answer = self.http.post(
            f"/municipalities/{OLD_LG}/moveout-notifications/{moveout_id}/transitions",
            json={"status": status})
        ensure_harness_ok(answer, f"advance move-out {moveout_id} to {status} at the registry")


# -- the app, as a person uses it ----------------------------------------------------------------


@dataclass
class Session:
    """A signed-in person's browser at the app."""

    login: Login
    settings: FrontServiceSettings

    def file(self, body: dict[str, Any], timeout: float = 30.0) -> httpx.Response:
        return self.login.browser.post(self.settings.moveouts_path, json=body, timeout=timeout)

    def view(self, moveout_id: str, timeout: float = STATUS_TIMEOUT_S) -> httpx.Response:
        return self.login.browser.get(self.settings.status_path.replace("{id}", moveout_id),
                                      timeout=timeout)


def accepted(answer: httpx.Response) -> dict[str, Any] | None:
    """The application an answer of the app shows as accepted (a 2xx with an id), or None."""
    if not answer.is_success:
        return None
    try:
        body = answer.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("id") else None


class App:
    def __init__(self, system: System, settings: FrontServiceSettings) -> None:
        self.system = system
        self.settings = settings

    def sign_in(self, who: Person) -> Session:
        login = self.system.login(who)
        answer = login.me()
        if not (who.facts_in(answer) if answer.is_success else []):
            pytest.fail(f"the person could not sign in at the app ({answer.status_code}: "
                        f"{answer.text[:300]})", pytrace=False)
        return Session(login, self.settings)


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def front(target: Target) -> FrontServiceSettings:
    if target.front_service is None:
        pytest.fail("the target file has no front_service section", pytrace=False)
    return target.front_service


@pytest.fixture(scope="session")
def persons(harness: Harness) -> list[Person]:
    return OldRegistry(harness).persons(private_service.PERSONS, seed=20261204)


@pytest.fixture(scope="session")
def provider(harness: Harness, party: RelyingPartySettings, public_jwk: dict[str, Any]
             ) -> Iterator[Provider]:
    found = Provider(harness)
    found.register(party, party.redirect_url(harness.target.base_url), public_jwk)
    found.register(party.model_copy(update={"client_id": "meshcert-decoy-relying-party"}),
                   "https://decoy.invalid/callback",
                   ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"},
                                      auto_kid=True).as_dict(private=False))
    found.behave()
    yield found
    found.behave()
    found.plain.close()


@pytest.fixture(scope="session")
def gateway(harness: Harness, party: RelyingPartySettings) -> Iterator[Gateway]:
    found = Gateway(harness, party.client_id)
    found.register(party)
    yield found
    found.plain.close()


@pytest.fixture(scope="session")
def portal(harness: Harness, provider: Provider, gateway: Gateway,
           party: RelyingPartySettings) -> Iterator[Portal]:
    found = Portal(harness, provider, gateway, party)
    found.clear_faults()
    yield found
    found.clear_faults()
    found.plain.close()


@pytest.fixture(scope="session")
def clerk(harness: Harness) -> Iterator[Clerk]:
    found = Clerk(harness)
    yield found
    found.http.close()


@pytest.fixture
def system(harness: Harness, party: RelyingPartySettings, provider: Provider, portal: Portal,
           request: pytest.FixtureRequest) -> Iterator[System]:
    """The app under test; the provider behaves and the portal has no faults after."""
    found = System(harness, party, harness.recorder_for(request.node))
    yield found
    found.close()
    provider.behave()
    portal.clear_faults()


@pytest.fixture
def app(system: System, front: FrontServiceSettings) -> App:
    return App(system, front)


@pytest.fixture
def recorded_provider(provider: Provider, harness: Harness, request: pytest.FixtureRequest
                      ) -> Iterator[httpx.Client]:
    recorder: Recorder = harness.recorder_for(request.node)
    client = provider.recorded(recorder)
    yield client
    client.close()


def wait_until(seconds: float) -> None:
    """Sleep until ``time.monotonic()`` reaches ``seconds``."""
    time.sleep(max(0.0, seconds - time.monotonic()))
