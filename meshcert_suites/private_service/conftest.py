"""Fixtures of the private-service suites: the harness's hands on the provider (its client
registration, misbehaviour, keys and capture of what the relying party sent), on the gateway
(registration, revocation, faults, capture), on the registry (the persons), and logins driven
by the scripted card holder against the system under test.

What the suites judge is what the system shows at its boundary: a login *succeeded* iff the
system's me path, with that login's cookies, shows the person's facts; a refused answer means
no session shows any of them, whatever status or wording the system uses.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from joserfc.jwk import ECKey

from meshcert import Harness, Target, ensure_harness_ok
from meshcert.catalog.targets import RelyingPartySettings
from meshcert.certify.evidence import Recorder
from meshcert.certify.verdicts import HarnessFault
from meshcert_simulators.common.tls import shared_client_context
from meshcert_simulators.idp.holder import HolderError, ScriptedHolder

LG_CODE = "131016"          # 千代田区: the municipality the harness's registry hosts
PERSONS = 40
ALL_FACT_SCOPES = ("name", "address", "birthdate", "gender")
FACTS_PATH = "/v1/basic-facts"
DECOY_CLIENT = "meshcert-decoy-relying-party"
DECOY_REDIRECT = "https://decoy.invalid/callback"


def _simulator_url(harness: Harness, kind: str) -> str:
    topology = harness.topology
    name = next((n for n, s in topology.simulators.items() if s.kind == kind), None)
    if name is None:
        pytest.fail(f"the harness topology {topology.name!r} has no {kind} simulator (profile "
                    "private-service needs the registry, jpki, idp and gateway)", pytrace=False)
    return topology.url(name)


# -- the persons ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A resident of the harness's registry: the card (住民票コード) and the facts the system
    must show for them."""

    juminhyo_code: str
    surname: str
    given_name: str
    birthdate: str
    town: str

    def facts_in(self, answer: httpx.Response) -> list[str]:
        """Which of the person's facts ``answer`` shows (name, birthdate, address)."""
        text = _readable(answer)
        shown = []
        if self.surname in text and self.given_name in text:
            shown.append("name")
        if self.birthdate in text:
            shown.append("birthdate")
        if self.town in text:
            shown.append("address")
        return shown


def _readable(answer: httpx.Response) -> str:
    """The body as text, JSON escapes (\\uXXXX) undone so kanji compare as kanji."""
    try:
        return json.dumps(answer.json(), ensure_ascii=False)
    except ValueError:
        return answer.text


class Registry:
    """The harness's resident registry, where the persons of the logins live."""

    def __init__(self, harness: Harness) -> None:
        self.url = _simulator_url(harness, "municipal")
        client = next((c for c in harness.topology.clients
                       if c.token and "admin" in c.roles and "registry:read" in c.roles), None)
        if client is None:
            pytest.fail(f"the harness topology {harness.topology.name!r} has no client with a "
                        "token and the roles admin and registry:read (the harness seeds and "
                        "reads the persons with it)", pytrace=False)
        self.headers = {"Authorization": f"Bearer {client.token}"}

    def persons(self, count: int, seed: int) -> list[Person]:
        answer = httpx.post(f"{self.url}/admin/seed", headers=self.headers, timeout=60, json={
            "lg_code": LG_CODE, "reset": True, "generate": {"persons": count, "seed": seed}})
        ensure_harness_ok(answer, "seed the persons into the harness's registry", ok=(200, 201))
        records: dict[str, dict[str, Any]] = {}
        after = 0
        while True:
            page = httpx.get(f"{self.url}/municipalities/{LG_CODE}/changes", timeout=30,
                             headers=self.headers, params={"after": after, "limit": 1000})
            ensure_harness_ok(page, "read the persons from the harness's registry")
            body = page.json()
            for entry in body["entries"]:
                records[entry["atena_number"]] = entry["record"]
            after = body["next_after"]
            if not body["has_more"]:
                break
        found = []
        for record in records.values():
            iso = (record.get("birth_date") or {}).get("iso")
            town = (record.get("address") or {}).get("town")
            if record.get("status", "resident") == "resident" and iso and town:
                found.append(Person(record["juminhyo_code"], record["name"]["surname"],
                                    record["name"]["given_name"], iso, town))
        if len(found) < 10:
            raise HarnessFault(f"the harness's registry holds only {len(found)} usable persons")
        return found


# -- the provider (idp) -----------------------------------------------------------------------


class Provider:
    """The harness's OpenID provider: registration, misbehaviour, keys, and what the relying
    party sent to it (its exchange capture)."""

    def __init__(self, harness: Harness) -> None:
        self.url = _simulator_url(harness, "idp")
        self.admin = {"Authorization": f"Bearer {harness.topology.admin_token}"}
        self.plain = httpx.Client(verify=shared_client_context(),
                                  base_url=self.url, timeout=15, headers=self.admin)

    def register(self, party: RelyingPartySettings, redirect_uri: str,
                 public_jwk: dict[str, Any]) -> None:
        # Every basic fact is allowed: a system asking beyond its purpose shows in what it
        # asks for (RP-SCOPE-001), instead of being stopped by the provider.
        answer = self.plain.post("/_meshcert/idp/clients", json={
            "client_id": party.client_id, "redirect_uris": [redirect_uri],
            "public_jwk": public_jwk, "scopes": ["openid", *ALL_FACT_SCOPES],
            "purpose": party.purpose_text or party.purpose})
        ensure_harness_ok(answer, "register the system as a client of the harness's provider",
                          ok=(200, 201))

    def misbehave(self, client_id: str, fault: str, count: int = 1) -> None:
        answer = self.plain.post("/_meshcert/idp/misbehave", json={
            "client_id": client_id, "fault": fault, "count": count})
        ensure_harness_ok(answer, f"make the provider answer {fault}", ok=(200, 201, 202))

    def behave(self) -> None:
        answer = self.plain.delete("/_meshcert/idp/misbehave")
        ensure_harness_ok(answer, "clear the provider's misbehaviour", ok=(200, 202, 204))

    def rotate_keys(self) -> tuple[str, str]:
        """Publish a new key, then sign with it; (old kid, new kid)."""
        before = self.plain.get("/_meshcert/idp/keys")
        ensure_harness_ok(before, "read the provider's keys")
        published = self.plain.post("/_meshcert/idp/keys/publish")
        ensure_harness_ok(published, "publish a new provider key", ok=(200, 201, 202))
        activated = self.plain.post("/_meshcert/idp/keys/activate")
        ensure_harness_ok(activated, "sign with the new provider key", ok=(200, 201, 202))
        after = self.plain.get("/_meshcert/idp/keys")
        ensure_harness_ok(after, "read the provider's keys")
        old, new = before.json()["signing_kid"], after.json()["signing_kid"]
        if old == new:
            raise HarnessFault("the provider still signs with its old key after the rotation")
        return old, new

    def last_seq(self) -> int:
        answer = self.plain.get("/admin/exchanges", params={"limit": 1, "after": 10**12})
        ensure_harness_ok(answer, "read the end of the provider's exchange log")
        return int(answer.json()["last_seq"])

    def sent(self, client: httpx.Client, after: int, path: str) -> list[dict[str, Any]]:
        """What reached the provider at ``path`` after ``after`` (any client)."""
        answer = client.get("/admin/exchanges", headers=self.admin, params={
            "after": after, "path_prefix": path, "limit": 20_000})
        ensure_harness_ok(answer, f"read what reached the provider's {path}")
        return [e for e in answer.json()["exchanges"] if e["path"] == path]

    def recorded(self, recorder: Recorder) -> httpx.Client:
        return httpx.Client(verify=shared_client_context(),
                            base_url=self.url, timeout=15, event_hooks=recorder.hooks())


def authorize_params(exchange: dict[str, Any]) -> dict[str, str]:
    return dict(parse_qsl(exchange["query"], keep_blank_values=True))


def token_form(exchange: dict[str, Any]) -> dict[str, str]:
    return dict(parse_qsl(exchange["request_body"], keep_blank_values=True))


# -- the gateway ------------------------------------------------------------------------------


class Gateway:
    """The harness's gov-private API gateway: registration, revocation, faults, capture."""

    def __init__(self, harness: Harness, client_id: str) -> None:
        self.url = _simulator_url(harness, "gateway")
        self.client_id = client_id      # the system's: faults and capture are about it only
        self.admin = {"Authorization": f"Bearer {harness.topology.admin_token}"}
        self.plain = httpx.Client(verify=shared_client_context(),
                                  base_url=self.url, timeout=15, headers=self.admin)

    def register(self, party: RelyingPartySettings) -> None:
        answer = self.plain.post("/_meshcert/gateway/clients", json={
            "client_id": party.client_id, "purpose": party.purpose_text or party.purpose,
            "scopes": list(ALL_FACT_SCOPES), "rate_limit_per_s": 1000})
        ensure_harness_ok(answer, "register the system as a client of the harness's gateway",
                          ok=(200, 201))

    def revoke(self, client_id: str, person: Person) -> None:
        answer = self.plain.post("/_meshcert/gateway/consents/revoke", json={
            "client_id": client_id, "juminhyo_code": person.juminhyo_code})
        ensure_harness_ok(answer, "revoke the person's consent at the gateway",
                          ok=(200, 202, 204))

    def fault(self, plan: dict[str, Any]) -> None:
        """A fault plan on the system's requests for facts."""
        plan = {**plan, "match": {"method": "GET", "path_prefix": FACTS_PATH,
                                  "client_id": self.client_id}}
        answer = self.plain.put("/admin/faults/global", json=plan)
        ensure_harness_ok(answer, f"put the fault plan {plan} on the gateway")

    def clear_faults(self) -> None:
        answer = self.plain.delete("/admin/faults/global")
        ensure_harness_ok(answer, "clear the gateway's fault plans", ok=(200, 204))

    def last_seq(self) -> int:
        answer = self.plain.get("/admin/exchanges", params={"limit": 1, "after": 10**12})
        ensure_harness_ok(answer, "read the end of the gateway's exchange log")
        return int(answer.json()["last_seq"])

    def fact_requests(self, client: httpx.Client, after: int) -> list[dict[str, Any]]:
        answer = client.get("/admin/exchanges", headers=self.admin, params={
            "after": after, "path_prefix": FACTS_PATH, "client_id": self.client_id,
            "limit": 20_000})
        ensure_harness_ok(answer, "read the system's requests for facts at the gateway")
        return list(answer.json()["exchanges"])

    def recorded(self, recorder: Recorder) -> httpx.Client:
        return httpx.Client(verify=shared_client_context(),
                            base_url=self.url, timeout=15, event_hooks=recorder.hooks())


# -- logins at the system under test ----------------------------------------------------------


@dataclass
class Login:
    """One browser's login at the system: its cookies (``browser``) and what the holder saw."""

    browser: httpx.Client
    person: Person
    me_path: str
    callback: httpx.Response | None
    authorize_params: dict[str, str]

    def me(self) -> httpx.Response:
        return self.browser.get(self.me_path)

    def shown(self) -> tuple[httpx.Response, list[str]]:
        """The me path's answer now, and which of the person's facts it shows (only a 2xx
        answer shows anything)."""
        answer = self.me()
        return answer, (self.person.facts_in(answer) if answer.is_success else [])


class System:
    """The relying party under test, driven as browsers (one cookie jar per login)."""

    def __init__(self, harness: Harness, party: RelyingPartySettings,
                 recorder: Recorder) -> None:
        self.harness = harness
        self.party = party
        self.recorder = recorder
        self.browsers: list[httpx.Client] = []

    def browser(self) -> httpx.Client:
        client = httpx.Client(base_url=self.harness.target.base_url, verify=self.harness.verify(),
                              timeout=20, event_hooks=self.recorder.hooks())
        self.browsers.append(client)
        return client

    def login(self, person: Person) -> Login:
        """A login of ``person`` who consents; a system that never reaches the provider's page
        fails the test (it cannot sign anyone in)."""
        browser = self.browser()
        url = f"{self.harness.target.base_url}{self.party.login_path}"
        try:
            result = ScriptedHolder(browser, person=person.juminhyo_code).login(url)
        except HolderError as exc:
            pytest.fail(f"the login at {url} did not reach the provider's login page: {exc}",
                        pytrace=False)
        except httpx.HTTPError as exc:
            pytest.fail(f"the login at {url} broke off: {type(exc).__name__}: {exc}",
                        pytrace=False)
        return Login(browser, person, self.party.me_path, result.callback,
                     result.authorize_params)

    def close(self) -> None:
        for client in self.browsers:
            client.close()


def ensure_signed_in(login: Login, what: str) -> None:
    """Assert that ``login`` succeeded: the me path shows the person's facts."""
    answer, shown = login.shown()
    assert shown, (f"{what}: after a correct login the me path {login.me_path} shows none of "
                   f"the person's facts ({answer.status_code}: {answer.text[:400]})")


def ensure_nobody_signed_in(login: Login, what: str) -> None:
    """Assert that ``login`` left no one signed in: the me path shows none of the facts."""
    answer, shown = login.shown()
    assert not shown, (f"{what}: the system signed the person in anyway — its me path "
                       f"{login.me_path} shows their {', '.join(shown)} ({answer.status_code}: "
                       f"{answer.text[:400]})")


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def party(target: Target) -> RelyingPartySettings:
    if target.relying_party is None:
        pytest.fail("the target file has no relying_party section", pytrace=False)
    return target.relying_party


@pytest.fixture(scope="session")
def public_jwk(harness: Harness, party: RelyingPartySettings) -> dict[str, Any]:
    """The system's registered private_key_jwt key (public JWK), as its target file names it."""
    return dict(json.loads((harness.base / party.public_jwk).read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def provider(harness: Harness, party: RelyingPartySettings, public_jwk: dict[str, Any]
             ) -> Iterator[Provider]:
    found = Provider(harness)
    found.register(party, party.redirect_url(harness.target.base_url), public_jwk)
    # Another relying party, so the provider has a client to issue a stray code to.
    decoy = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"},
                               auto_kid=True)
    found.register(party.model_copy(update={"client_id": DECOY_CLIENT}),
                   DECOY_REDIRECT, decoy.as_dict(private=False))
    found.behave()
    yield found
    found.behave()
    found.plain.close()


@pytest.fixture(scope="session")
def gateway(harness: Harness, party: RelyingPartySettings) -> Iterator[Gateway]:
    found = Gateway(harness, party.client_id)
    found.register(party)
    found.clear_faults()
    yield found
    found.clear_faults()
    found.plain.close()


# persons[0] and persons[1] are the fixed pair of the request and rotation tests.
_next_person = itertools.count(2)


@pytest.fixture(scope="session")
def persons(harness: Harness) -> list[Person]:
    return Registry(harness).persons(PERSONS, seed=20261204)


@pytest.fixture
def person(persons: list[Person]) -> Person:
    """A person no earlier test of this run used (their consent is this test's)."""
    return persons[next(_next_person) % len(persons)]


@pytest.fixture
def system(harness: Harness, party: RelyingPartySettings, provider: Provider,
           gateway: Gateway, request: pytest.FixtureRequest) -> Iterator[System]:
    """The system under test; the provider behaves and the gateway has no faults after."""
    found = System(harness, party, harness.recorder_for(request.node))
    yield found
    found.close()
    provider.behave()
    gateway.clear_faults()


@pytest.fixture
def recorded_provider(provider: Provider, harness: Harness, request: pytest.FixtureRequest
                      ) -> Iterator[httpx.Client]:
    client = provider.recorded(harness.recorder_for(request.node))
    yield client
    client.close()


@pytest.fixture
def recorded_gateway(gateway: Gateway, harness: Harness, request: pytest.FixtureRequest
                     ) -> Iterator[httpx.Client]:
    client = gateway.recorded(harness.recorder_for(request.node))
    yield client
    client.close()
