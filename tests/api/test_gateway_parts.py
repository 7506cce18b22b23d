"""The gateway's parts on ``app.state`` are what its routes use: the facts provider, the rate
limiter, the registry reader, the consent recorder, the revocation, the provision-record reader
and the callers can each be replaced on its own; the record reader is tested without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.gateway.models import ConsentRequest
from meshcert_simulators.gateway.records import ProvisionRecords
from tests.api.jpki_gateway_support import ADMIN, AUDITOR, BANK, SERVICES, bearer, open_mesh

SUB = "b" * 64
CONSENT = "cns-" + "0" * 32
T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def problem_type(answer: Any) -> str:
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    return str(answer.json()["type"]).removeprefix("urn:meshcert:problem:")


def test_a_replaced_facts_provider_answers_with_the_token_claims(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        asked: list[dict[str, Any]] = []

        class Facts:
            async def provide(self, claims: dict[str, Any], requested_at: datetime
                              ) -> dict[str, Any]:
                asked.append(claims)
                return {"sub": claims["sub"], "consent_id": CONSENT, "scopes": ["name"],
                        "facts": {"name": "差替　太郎"}, "provided_at": T0}

        mesh.gateway.app.state.facts = Facts()
        r = mesh.gateway.get("/v1/basic-facts", headers=bearer(mesh.idp.token(SUB)))
    assert r.status_code == 200, r.text
    assert r.json()["facts"]["name"] == "差替　太郎" and r.json()["consent_id"] == CONSENT
    assert [c["sub"] for c in asked] == [SUB] and asked[0]["client_id"] == BANK


def test_a_replaced_rate_limiter_is_asked_before_any_consent(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client(rate=100)
        taken: list[tuple[str, int]] = []

        class Empty:
            def take(self, client_id: str, per_second: int) -> int | None:
                taken.append((client_id, per_second))
                return 7

        mesh.gateway.app.state.limits = Empty()
        r = mesh.gateway.get("/v1/basic-facts", headers=bearer(mesh.idp.token(SUB)))
    assert r.status_code == 429 and problem_type(r) == "too-many-requests"
    assert r.headers["Retry-After"] == "7" and r.json()["retry_after"] == 7
    assert taken == [(BANK, 100)]


def test_a_replaced_registry_reader_gives_the_facts_of_now(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client()
        resident = mesh.seed()
        mesh.consent(resident, ["openid", "name"], SUB)
        real = mesh.gateway.app.state.people
        read: list[str] = []

        class Renamed:
            async def person(self, juminhyo_code: str) -> dict[str, Any] | None:
                read.append(juminhyo_code)
                person = await real.person(juminhyo_code)
                assert person is not None
                return {**person, "name": {**person["name"], "surname": "改名"}}

        mesh.gateway.app.state.people = Renamed()
        r = mesh.gateway.get("/v1/basic-facts", headers=bearer(mesh.idp.token(SUB)))
    assert r.status_code == 200, r.text
    assert r.json()["facts"]["name"].startswith("改名")
    assert read == [resident["juminhyo_code"]]


def test_a_replaced_consent_recorder_records_without_the_ca(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client()
        resident = mesh.seed()
        body = mesh.consent_body(resident, ["openid", "name"], SUB)
        seen: list[ConsentRequest] = []

        class Refusing:
            async def record(self, request: ConsentRequest) -> dict[str, Any]:
                seen.append(request)
                raise Problem(422, "refused-by-stand-in", "Refused", "by the replacement")

        mesh.gateway.app.state.consents = Refusing()
        r = mesh.gateway.post("/v1/consents", headers=bearer(SERVICES), json=body)
        facts = mesh.gateway.get("/v1/basic-facts", headers=bearer(mesh.idp.token(SUB)))
    assert r.status_code == 422 and problem_type(r) == "refused-by-stand-in"
    assert [s.sub for s in seen] == [SUB]
    assert problem_type(facts) == "no-consent"  # nothing was recorded


def test_a_replaced_revocation_is_what_the_delete_and_the_control_plane_use(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        calls: list[tuple[str, ...]] = []

        class Revocation:
            def by_person(self, consent_id: str, claims: dict[str, Any]) -> None:
                calls.append(("person", consent_id, claims["sub"]))

            def via_provider(self, consent_id: str) -> None:
                calls.append(("provider", consent_id))

            def by_harness(self, client_id: str, juminhyo_code: str) -> list[str]:
                calls.append(("harness", client_id, juminhyo_code))
                return [CONSENT]

        mesh.gateway.app.state.revocation = Revocation()
        # No such consent: the real part would answer 404; the replacement accepts.
        by_person = mesh.gateway.delete(f"/v1/consents/{CONSENT}",
                                        headers=bearer(mesh.idp.token(SUB)))
        by_provider = mesh.gateway.delete(f"/v1/consents/{CONSENT}", headers=bearer(SERVICES))
        by_harness = mesh.gateway.post("/_meshcert/gateway/consents/revoke",
                                       headers=bearer(ADMIN),
                                       json={"client_id": BANK, "juminhyo_code": "1" * 11})
    assert by_person.status_code == 204 and by_provider.status_code == 204
    assert by_harness.json() == {"revoked": [CONSENT]}
    assert calls == [("person", CONSENT, SUB), ("provider", CONSENT),
                     ("harness", BANK, "1" * 11)]


def test_a_replaced_record_reader_pages_for_the_auditor(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        asked: list[tuple[Any, ...]] = []

        class Records:
            def page(self, filters: dict[str, str], after: int, limit: int,
                     claims: dict[str, Any] | None = None) -> dict[str, Any]:
                asked.append((filters, after, limit, claims))
                return {"records": [], "next_after": 42, "has_more": False}

        mesh.gateway.app.state.provision_records = Records()
        r = mesh.gateway.get("/v1/provision-records", headers=bearer(AUDITOR),
                             params={"juminhyo_code": "2" * 11, "after": 5, "limit": 3})
    assert r.status_code == 200 and r.json()["next_after"] == 42
    assert asked == [({"juminhyo_code": "2" * 11}, 5, 3, None)]


def test_replaced_callers_let_a_request_in_without_a_provider_token(tmp_path: Path):
    with open_mesh(tmp_path) as mesh:
        mesh.register_client()
        real = mesh.gateway.app.state.callers

        class Trusting:
            def with_role(self, request: Any, role: str) -> Any:
                return real.with_role(request, role)

            def carries_access_token(self, request: Any) -> bool:
                return True

            async def access_token(self, request: Any) -> dict[str, Any]:
                return {"sub": SUB, "client_id": BANK, "scope": "openid name", "jti": "j1"}

        mesh.gateway.app.state.callers = Trusting()
        facts = mesh.gateway.get("/v1/basic-facts")  # no Authorization at all
        own = mesh.gateway.get("/v1/provision-records")
    # Past authentication, the real facts provider finds no consent of this person.
    assert facts.status_code == 403 and problem_type(facts) == "no-consent"
    assert own.status_code == 200 and own.json()["records"] == []


class _Store:
    def __init__(self) -> None:
        self.asked: list[tuple[dict[str, str], int, int]] = []

    def records(self, filters: dict[str, str], after: int, limit: int
                ) -> tuple[list[dict[str, Any]], bool]:
        self.asked.append((filters, after, limit))
        return [], False


def test_the_record_reader_narrows_a_token_holder_to_their_own_records_without_http():
    store = _Store()
    reader = ProvisionRecords(SimpleNamespace(store=store))
    claims = {"sub": SUB, "client_id": BANK}
    reader.page({"sub": "someone-else"}, 0, 10, claims)
    assert store.asked == [({"sub": SUB, "client_id": BANK}, 0, 10)]
    with pytest.raises(Problem) as by_code:
        reader.page({"juminhyo_code": "3" * 11}, 0, 10, claims)
    assert by_code.value.status == 403
    with pytest.raises(Problem) as nobody:
        reader.page({}, 0, 10)
    assert nobody.value.status == 400 and len(store.asked) == 1
