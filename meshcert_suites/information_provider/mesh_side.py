"""The harness as the public service mesh towards a provider under test (docs/domain.md §5 F2).

The harness issues the provider's 符号 for synthetic persons (the mesh's keyed derivation,
meshcert_simulators/mesh/codes.py, under the harness's own secrets), loads those persons and their
figures through the provider's seeding endpoint, asks ``POST /v1/provisions`` with the mesh's
access token, and keeps its own side of every exchange (record id, procedure, item, when sent,
when answered) to set against the provider's art. 23 records. On the copy path it runs the
J-LIS intermediate server and reads what the provider registered there.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from meshcert import PROFILE_CLIENTS, Harness, ProviderSettings, ensure_harness_ok
from meshcert_simulators.common.faults import RUN_HEADER
from meshcert_simulators.mesh.codes import CodeDeriver
from meshcert_suites.paging import cursor_pages

# 児童手当 (child allowance): the procedure of the legal-basis table that asks for
# individual-resident-tax information. The provider answers whatever procedure the mesh
# permitted; the mesh checks the legal basis before it asks.
PROCEDURE = "JT01010000000214"
# Items a provider may not hold, first 公金受取口座情報 (the public-fund account): the suites
# ask for the first its target does not state.
FOREIGN_ITEMS = ("TM00000000000089", "TM00000000000088")
# Another institution of the mesh: the same person's 符号 there must mean nothing here.
OTHER_INSTITUTION = "chiyoda-child-allowance"
# A client of the mesh that is not the mesh: same issuer and audience, no provide scope.
AUDITOR = "mesh-tax-auditor"
# The mesh's client id: what the harness's access tokens name
# (meshcert.certify.harness.PROFILE_CLIENTS).
MESH_CLIENT = PROFILE_CLIENTS["information-provider"]
PERSONS = 12
PERSON_SEED = 20261126
# This certification's own persons: the 符号 the harness issues are new to every system of the
# run — J-LIS above all, which keeps the copies of earlier runs and refuses a copy that is not
# newer than the one it holds — so a system gets the same verdict on every run.
RUN_PERSONS = uuid.uuid4().hex[:12]
PROVISIONS_PATH = "/v1/provisions"  # the contract's paths (fixtures/specs/tax.openapi.json)
RECORDS_PATH = "/v1/provision-records"
# The harness's own code secrets (local only): 符号 are the mesh's to issue, never guessable.
HARNESS_CODES = CodeDeriver(b"meshcert-harness-as-mesh-code-secret-0001",
                            b"meshcert-harness-as-mesh-person-secret-0001")


@dataclass(frozen=True)
class Person:
    """A synthetic person as the provider holds them: its 符号 and figures (no identifier that
    crosses institutions)."""

    code: str
    figures: dict[str, Any]


def opaque_id(prefix: str) -> str:
    """A record or request id of the harness: letters only, so that no id the harness sends
    (and a provider may echo) can ever read as a My Number to the identifier detector."""
    return f"{prefix}-{''.join(secrets.choice(string.ascii_lowercase) for _ in range(20))}"


def code_for(institution: str, person: str) -> str:
    """The 符号 the mesh issues to ``institution`` for ``person`` (any stable key)."""
    return HARNESS_CODES.code(institution, HARNESS_CODES.person_key(person))


def person_key(n: int) -> str:
    """The harness's own key of this run's ``n``-th seeded person (what a 符号 is derived
    from)."""
    return f"person-{PERSON_SEED}-{RUN_PERSONS}-{n}"


def figures_for(rng: random.Random) -> dict[str, int]:
    """Plausible resident-tax figures: 所得割 10 % of taxable income (to 100 yen), 均等割 5,000
    yen when there is income."""
    income = rng.randrange(0, 9_000_000, 1000)
    return {"tax_year": 2025, "taxable_income": income, "income_levy": income // 10 // 100 * 100,
            "per_capita_levy": 5000 if income else 0, "dependants": rng.randrange(0, 4)}


def seed_persons(harness: Harness, provider: ProviderSettings, persons: list[Person],
                 recorder: Any = None) -> None:
    """Load ``persons`` into the provider through its seeding endpoint (admin scope)."""
    rows = [{"code": p.code, "figures": p.figures} for p in persons]
    with harness.client(harness.token(["admin"]), recorder=recorder) as client:
        response = client.post(provider.seeding_path, json={"rows": rows})
    if response.status_code != 200:
        pytest.fail(f"seeding {provider.seeding_path} failed with {response.status_code}: "
                    f"{response.text[:500]}", pytrace=False)


@dataclass
class Asked:
    """The harness's side of one exchange: what the mesh asked and when, and the answer."""

    record_id: str
    procedure_code: str
    item_code: str
    code: str
    sent_at: datetime
    answered_at: datetime
    response: httpx.Response

    def answered_item(self) -> dict[str, Any] | None:
        """The answer's entry for the asked item (None: no 200 answer, or no such entry)."""
        if self.response.status_code != 200:
            return None
        try:
            items = self.response.json().get("items")
        except (ValueError, AttributeError):
            return None
        found = [i for i in items or () if isinstance(i, dict)
                 and i.get("item_code") == self.item_code]
        return found[0] if found else None

    def describe(self) -> str:
        return (f"provision {self.record_id} (item {self.item_code}, 符号 {self.code}) was "
                f"answered {self.response.status_code}: {self.response.text[:400]}")


class Mesh:
    """The harness as the mesh: asks the provider, and remembers every exchange."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.asked: list[Asked] = []

    def ask(self, code: str, item: str, *, procedure: str = PROCEDURE,
            client: httpx.Client | None = None, record_id: str | None = None) -> Asked:
        """One provision; ``record_id`` resends under an id used before (default: a new one)."""
        record_id = record_id or opaque_id("prv")
        sent = datetime.now(UTC)
        response = (client or self.client).post(PROVISIONS_PATH, json={
            "record_id": record_id, "procedure_code": procedure, "item_code": item,
            "code": code}, headers={"X-Request-ID": opaque_id("req")})
        asked = Asked(record_id, procedure, item, code, sent, datetime.now(UTC), response)
        self.asked.append(asked)
        return asked

    def records_after(self, after: int) -> list[dict[str, Any]]:
        """The provider's art. 23 records after cursor ``after``, following next_after."""
        return [r for page in cursor_pages(self.client, RECORDS_PATH, after)
                for r in page["records"]]

    def records_end(self) -> int:
        """The cursor after the provider's last art. 23 record."""
        records = self.records_after(0)
        return int(records[-1]["seq"]) if records else 0


class Jlis:
    """The harness's J-LIS intermediate server: asks it for copies as the mesh does (the
    topology's client ``mesh``), and reads which copies providers registered (its exchange
    capture, admin)."""

    def __init__(self, client: httpx.Client, mesh_token: str, admin_token: str) -> None:
        self.client = client
        self.mesh = {"Authorization": f"Bearer {mesh_token}"}
        self.admin = {"Authorization": f"Bearer {admin_token}"}

    def ask(self, code: str, item: str, run: str | None = None) -> httpx.Response:
        """Ask J-LIS for a copy as the mesh does; ``run``: as part of that fault scope."""
        headers = {**self.mesh, **({RUN_HEADER: run} if run else {})}
        return self.client.post(PROVISIONS_PATH, headers=headers, json={
            "record_id": opaque_id("prv-jlis"), "procedure_code": PROCEDURE,
            "item_code": item, "code": code})

    @contextlib.contextmanager
    def fault(self, plan: dict[str, Any], scope: str | None = None) -> Iterator[str]:
        """A fault plan at J-LIS (meshcert_simulators/common/faults.py) for the requests carrying
        the
        yielded run scope (``scope="global"``: for every request it matches), removed
        afterwards."""
        scope = scope or f"prv-fault-{uuid.uuid4().hex[:12]}"
        put = self.client.put(f"/admin/faults/{scope}", headers=self.admin, json=plan)
        ensure_harness_ok(put, f"put the fault plan {plan} on J-LIS", ok=(200, 201))
        try:
            yield scope
        finally:
            removed = self.client.delete(f"/admin/faults/{scope}", headers=self.admin)
        # Checked only when the block ended normally: never hide the verdict it raised.
        ensure_harness_ok(removed, f"remove the fault plan {scope!r} from J-LIS", ok=(200, 204))

    def clock_moved(self, seconds: float) -> contextlib.AbstractContextManager[str]:
        """J-LIS's clock moved ``seconds`` on, for its inquiries carrying the yielded run
        scope only (a clock-skew fault plan)."""
        return self.fault({"match": {"path_prefix": PROVISIONS_PATH}, "clock_skew_s": seconds})

    def exchanges(self, after: int, path_prefix: str = "/v1/copies/") -> dict[str, Any]:
        response = self.client.get("/admin/exchanges", headers=self.admin,
                                   params={"after": after, "path_prefix": path_prefix})
        ensure_harness_ok(response, "read J-LIS's exchange capture")
        return dict(response.json())
