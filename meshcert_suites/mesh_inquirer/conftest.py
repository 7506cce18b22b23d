"""Fixtures of the mesh-inquirer suites: the harness's hands on the mesh (what the inquirer sent,
fault plans, the mesh's art. 23 records), on the counterpart tax provider (seeding), and on the
inquirer under test (its trigger, application status and own records).

Every test uses fresh persons, so what the mesh saw for a person's 符号 belongs to that test.
Reads that show what happened (the mesh's captured exchanges and records, the final status of
an application, the inquirer's records) go through recorded clients: they are the evidence a
vendor sees next to a failure. Polling is not recorded.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from meshcert import Harness, Target, ensure_harness_ok, generate_juminhyo_code, generate_my_number
from meshcert.certify.evidence import Recorder
from meshcert_simulators.common.tls import shared_client_context
from meshcert_suites.paging import cursor_pages

PROCEDURE = "JT01010000000214"   # 児童手当
TAX_ITEM = "TM00000000000002"    # 地方税関係情報
TAX_PROVIDER = "chiyoda-resident-tax"
TERMINAL = ("decided", "certificate-requested", "inquiry-failed")
AUDIT_ROLE = "mesh:audit"
RECORDS = "/v1/provision-records"  # art. 23 records: the mesh's, and the inquirer's own
JST = timezone(timedelta(hours=9))
FIGURES = {"tax_year": 2025, "taxable_income": 4_150_000, "income_levy": 415_000,
           "per_capita_levy": 5_000, "dependants": 2}
POLL_S = 0.05


def today_jst() -> date:
    return datetime.now(JST).date()


def born_years_ago(years: int, extra_days: int = 100) -> str:
    """A birth date ``years`` full years (plus some days, away from any birthday) ago."""
    today = today_jst()
    try:
        anniversary = today.replace(year=today.year - years)
    except ValueError:
        anniversary = today.replace(year=today.year - years, day=28)
    return (anniversary - timedelta(days=extra_days)).isoformat()


@dataclass
class Person:
    """An applicant: identifiers from fresh randomness (never reused across tests)."""

    name: str
    juminhyo_code: str
    my_number: str
    children: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def fresh(cls, name: str = "山田 花子", children: list[dict[str, str]] | None = None
              ) -> Person:
        rng = random.Random(uuid.uuid4().int)
        return cls(name, generate_juminhyo_code(rng), generate_my_number(rng),
                   children or [{"name": "山田 一郎", "birth_date": born_years_ago(1)},
                                {"name": "山田 二郎", "birth_date": born_years_ago(5)}])


def _simulator_url(harness: Harness, kind: str) -> str:
    topology = harness.topology
    name = next((n for n, s in topology.simulators.items() if s.kind == kind), None)
    if name is None:
        pytest.fail(f"the harness topology {topology.name!r} has no {kind} simulator (profile "
                    "mesh-inquirer needs the mesh and the counterpart tax provider)",
                    pytrace=False)
    return topology.url(name)


# -- the mesh, as the harness sees it ---------------------------------------------------------


class Mesh:
    """The harness's mesh: what the inquirer sent (captured exchanges), faults aimed at the
    inquirer's client, and the mesh's art. 23 records (read as the auditor institution)."""

    def __init__(self, harness: Harness, inquirer_client: str, institution: str) -> None:
        topology = harness.topology
        self.url = _simulator_url(harness, "mesh")
        self.inquirer_client = inquirer_client
        self.institution = institution
        self.admin = {"Authorization": f"Bearer {topology.admin_token}"}
        auditor = next((c for c in topology.clients
                        if AUDIT_ROLE in c.roles and c.token
                        and topology.institution_of_client(c.id) is not None), None)
        if auditor is None:
            pytest.fail(f"the harness topology {topology.name!r} has no auditor institution (a "
                        f"client with {AUDIT_ROLE} and a token)", pytrace=False)
        self.auditor = {"Authorization": f"Bearer {auditor.token}"}
        self.plain = httpx.Client(verify=shared_client_context(), base_url=self.url, timeout=10)

    def recorded(self, recorder: Recorder) -> httpx.Client:
        return httpx.Client(verify=shared_client_context(),
                            base_url=self.url, timeout=10, event_hooks=recorder.hooks())

    def last_seq(self) -> int:
        answer = self.plain.get("/admin/exchanges", params={"limit": 1,
                                "after": 10**12}, headers=self.admin)
        ensure_harness_ok(answer, "read the end of the mesh's exchange log")
        return int(answer.json()["last_seq"])

    def exchanges(self, client: httpx.Client, after: int, path: str = "/v1/"
                  ) -> list[dict[str, Any]]:
        """Every request the inquirer's client sent to the mesh after ``after``."""
        answer = client.get("/admin/exchanges", headers=self.admin, params={
            "after": after, "client_id": self.inquirer_client, "path_prefix": path,
            "limit": 20_000})
        ensure_harness_ok(answer, "read what the inquirer sent from the mesh's exchange log")
        return list(answer.json()["exchanges"])

    def fault(self, plan: dict[str, Any], scope: str = "global") -> None:
        """Put a fault plan on the mesh for the inquirer's requests only; a ``global.<name>``
        scope runs beside others, each hitting the requests its match names."""
        plan = {**plan, "match": {"client_id": self.inquirer_client, "method": "POST",
                                  **plan.get("match", {})}}
        answer = self.plain.put(f"/admin/faults/{scope}", json=plan, headers=self.admin)
        ensure_harness_ok(answer, f"put the fault plan {plan} on the mesh")

    def clear_faults(self, scope: str = "global") -> None:
        # A plan left in place would make the inquirer fail what follows: a harness fault.
        answer = self.plain.delete(f"/admin/faults/{scope}", headers=self.admin)
        ensure_harness_ok(answer, "clear the mesh's fault plans", ok=(200, 204))

    def code_of(self, person: Person) -> str:
        """The 符号 the mesh issues the inquirer for ``person`` (asked of the harness's mesh
        without issuing it), so that a fault plan can name that person's inquiries."""
        answer = self.plain.get(f"/admin/codes/{self.institution}", headers=self.admin,
                                params={"juminhyo_code": person.juminhyo_code})
        ensure_harness_ok(answer, "ask the harness's mesh for the inquirer's 符号 of a person")
        return str(answer.json()["code"])

    def records_of(self, client: httpx.Client, person: Person) -> list[dict[str, Any]]:
        """The mesh's art. 23 records of this inquirer about ``person``."""
        code = client.post("/v1/codes", json={"juminhyo_code": person.juminhyo_code},
                           headers=self.auditor)
        ensure_harness_ok(code, "get the auditor's 符号 from the mesh", ok=(200, 201))
        answer = client.get(RECORDS, params={"code": code.json()["code"]},
                            headers=self.auditor)
        ensure_harness_ok(answer, "read the mesh's art. 23 records as the auditor")
        return [r for r in answer.json()["records"] if r["inquirer"] == self.institution]


def codes_issued(exchanges: list[dict[str, Any]], person: Person) -> set[str]:
    """The 符号 the mesh issued to the inquirer for ``person`` (from its /v1/codes answers)."""
    found = set()
    for e in exchanges:
        if e["path"] == "/v1/codes" and e["status"] in (200, 201) \
                and person.juminhyo_code in e["request_body"]:
            found.add(json.loads(e["response_body"])["code"])
    return found


def inquiry_body(exchange: dict[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(exchange["request_body"])
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def tax_attempts(exchanges: list[dict[str, Any]], person: Person) -> list[dict[str, Any]]:
    """The inquirer's attempts at the tax inquiry about ``person``, in arrival order."""
    codes = codes_issued(exchanges, person)
    return [e for e in exchanges if e["path"] == "/v1/inquiries"
            and inquiry_body(e).get("code") in codes
            and inquiry_body(e).get("item_code") == TAX_ITEM]


def arrival(exchange: dict[str, Any]) -> float:
    return datetime.fromisoformat(exchange["at"]).timestamp()


def describe(exchanges: list[dict[str, Any]]) -> str:
    if not exchanges:
        # The mesh logs an exchange when it ends: one still trickling or delayed is not there.
        return "(none logged yet)"
    # The time taken shows an answer that came too late to count (e.g. 200 after 5 s).
    return "; ".join(f"#{e['seq']} {e['at'][11:23]} {e['path']} → {e['status']} "
                     f"in {e['duration_ms']:.0f} ms "
                     f"record_id={inquiry_body(e).get('record_id')}" for e in exchanges)


# -- the counterpart provider -----------------------------------------------------------------


class Tax:
    def __init__(self, harness: Harness) -> None:
        self.url = _simulator_url(harness, "tax")
        self.admin = {"Authorization": f"Bearer {harness.topology.admin_token}"}

    def seed(self, *people: Person) -> None:
        """Give the provider income figures for ``people`` (others it has no data for)."""
        if not people:
            return
        answer = httpx.post(f"{self.url}/v1/admin/seed", headers=self.admin, timeout=30, json={
            "rows": [{"juminhyo_code": p.juminhyo_code, "figures": FIGURES} for p in people]})
        ensure_harness_ok(answer, "seed the harness's counterpart tax provider")


# -- the inquirer under test ------------------------------------------------------------------


class Inquirer:
    """The system under test, through the trigger the profile defines."""

    def __init__(self, api: httpx.Client, poller: httpx.Client, target: Target) -> None:
        assert target.inquirer is not None
        self.api = api          # recorded
        self.poller = poller    # not recorded
        self.path = target.inquirer.applications_path
        self.give_up_within_s = target.inquirer.give_up_within_s

    @staticmethod
    def form(person: Person, application_id: str) -> dict[str, Any]:
        """The application the trigger takes (ApplicationRequest in the contract)."""
        return {"application_id": application_id,
                "applicant": {"name": person.name, "juminhyo_code": person.juminhyo_code,
                              "my_number": person.my_number},
                "children": person.children}

    def submit(self, person: Person) -> str:
        application_id = f"APP-{uuid.uuid4().hex[:20]}"
        answer = self.api.post(self.path, json=self.form(person, application_id))
        assert answer.status_code in (200, 201, 202), (
            f"the trigger {self.path} refused a valid application with {answer.status_code}: "
            f"{answer.text[:500]}")
        return application_id

    def wait(self, application_ids: list[str], within_s: float) -> dict[str, dict[str, Any]]:
        """Poll until every application is concluded or ``within_s`` passed; the last view of
        each (read once more through the recorded client)."""
        pending, until = set(application_ids), time.monotonic() + within_s
        while pending and time.monotonic() < until:
            for application_id in sorted(pending):
                answer = self.poller.get(f"{self.path}/{application_id}")
                if answer.status_code == 200 and answer.json().get("state") in TERMINAL:
                    pending.discard(application_id)
            if pending:
                time.sleep(POLL_S)
        views = {}
        for application_id in application_ids:
            answer = self.api.get(f"{self.path}/{application_id}")
            assert answer.status_code in (200, 202), (
                f"reading application {application_id}: {answer.status_code} "
                f"{answer.text[:300]}")
            views[application_id] = answer.json()
        return views

    def last_record_seq(self) -> int:
        *_, last = cursor_pages(self.poller, RECORDS, 0)
        return int(last["next_after"])

    def records_after(self, after: int) -> list[dict[str, Any]]:
        return [r for page in cursor_pages(self.api, RECORDS, after) for r in page["records"]]


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def institution(harness: Harness, target: Target) -> tuple[str, str]:
    """(institution code, client id) of the inquirer in the harness's mesh."""
    assert target.inquirer is not None
    inst = harness.topology.institution(target.inquirer.institution)
    if inst is None or "inquirer" not in inst.roles:
        pytest.fail(f"inquirer.institution {target.inquirer.institution!r} is not an inquirer "
                    f"institution of the harness topology {harness.topology.name!r}",
                    pytrace=False)
    return inst.code, inst.client


@pytest.fixture(scope="session")
def mesh(harness: Harness, institution: tuple[str, str]) -> Iterator[Mesh]:
    view = Mesh(harness, institution[1], institution[0])
    view.clear_faults()
    yield view
    view.clear_faults()
    view.plain.close()


@pytest.fixture(scope="session")
def tax(harness: Harness) -> Tax:
    return Tax(harness)


@pytest.fixture
def recorded_mesh(mesh: Mesh, harness: Harness, request: pytest.FixtureRequest
                  ) -> Iterator[httpx.Client]:
    """A client on the mesh whose reads are this test's evidence."""
    client = mesh.recorded(harness.recorder_for(request.node))
    yield client
    client.close()


@pytest.fixture
def faults(mesh: Mesh) -> Iterator[Mesh]:
    """The mesh, with every fault plan cleared after the test."""
    yield mesh
    mesh.clear_faults()


@pytest.fixture(scope="session")
def failure_outcomes(harness: Harness, target: Target, mesh: Mesh, tax: Tax
                     ) -> dict[str, Any]:
    """One application through every kind of failure, refusal and no-data the harness can
    cause (meshcert_suites/mesh_inquirer/failures.py), run once for the suites that judge them."""
    from meshcert_suites.mesh_inquirer.failures import run_all  # it builds on this module

    with harness.client() as client:
        return run_all(Inquirer(client, client, target), mesh, tax)


@pytest.fixture
def inquirer(api: httpx.Client, harness: Harness, target: Target) -> Iterator[Inquirer]:
    poller = harness.client()
    yield Inquirer(api, poller, target)
    poller.close()
