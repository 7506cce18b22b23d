"""The portal as it runs in the field, each peer its own process (fixtures/topologies/portal.yaml
on free ports: two resident registries, the idp, the gateway, the mesh, the portal): a person
logs in at the real idp, files the online move-out through the portal, and follows the status
the registry gives as it advances; a resend is the same filing; outside the window the
registry's refusal comes back; a proxy acts within a delegation until the principal revokes it;
a birth at the registry becomes a notice; the history is read from the real record keepers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshcert_simulators.common.jwks import public_jwk
from meshcert_simulators.common.topology import Topology, load_topology
from meshcert_simulators.idp.holder import ScriptedHolder
from meshcert_simulators.municipal.registry import JST
from meshcert_suites.resident_registry.builders import arrival, movement, person
from tests.api.idp_support import RP, RelyingPartyStub, redeem, rp_key
from tests.integration.served import TOPOLOGIES, serving
from tests.integration.test_idp_processes import RelyingPartyServer, start_relying_party
from tests.integration.topologies import copy_on_free_ports

SIMULATORS = ("municipal", "municipal-new", "idp", "gateway", "mesh", "portal")
OLD_LG, NEW_LG = "131016", "131041"


@dataclass
class Running:
    topology: Topology
    admin: dict[str, str]
    rp_server: RelyingPartyServer
    tmp: Path

    def url(self, name: str) -> str:
        return self.topology.url(name)

    def resident(self, surname: str, given: str, *members: dict[str, Any]
                 ) -> list[dict[str, Any]]:
        body = arrival(OLD_LG, person(surname, given, "02"), *members,
                       on=today() - timedelta(days=200))
        moved = httpx.post(f"{self.url('municipal')}/municipalities/{OLD_LG}/movements",
                           json=body, headers=self.admin, timeout=10)
        assert moved.status_code == 201, moved.text
        return list(moved.json()["affected"])

    def login(self, record: dict[str, Any]) -> dict[str, str]:
        """The person logs in at the idp through a relying party: their access token."""
        callback = f"http://127.0.0.1:{self.rp_server.server_address[1]}/callback"
        rp = RelyingPartyStub(self.url("idp"), callback, scope="openid name address")
        url, login = rp.authorize_url()
        self.rp_server.next_login = url
        with httpx.Client(timeout=15) as http:
            result = ScriptedHolder(http, record["juminhyo_code"]).login(
                f"http://127.0.0.1:{self.rp_server.server_address[1]}/login")
            code = result.callback_params.get("code")
            assert code, (result.callback_params,
                          (self.tmp / "idp.log").read_text(errors="replace")[-2000:])
            answer = redeem(http, self.url("idp"), callback, code, login)
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def portal(self, method: str, path: str, headers: dict[str, str], **kwargs: Any
               ) -> httpx.Response:
        return httpx.request(method, f"{self.url('portal')}{path}", headers=headers,
                             timeout=15, **kwargs)

    def advance(self, moveout_id: str, status: str) -> None:
        answer = httpx.post(f"{self.url('municipal')}/municipalities/{OLD_LG}/"
                            f"moveout-notifications/{moveout_id}/transitions",
                            json={"status": status}, headers=self.admin, timeout=10)
        assert answer.status_code == 200, answer.text


def today() -> Any:
    return datetime.now(UTC).astimezone(JST).date()


def moveout(key: str, days: int = 7, **extra: Any) -> dict[str, Any]:
    return {"moving_date": (today() + timedelta(days=days)).isoformat(),
            "new_address": {"lg_code": NEW_LG, "address": "東京都新宿区西新宿二丁目8-1"},
            "idempotency_key": key, **extra}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("portal")
    topology_file = tmp / "topology.yaml"
    copy_on_free_ports(TOPOLOGIES / "portal.yaml", topology_file)
    topology = load_topology(topology_file)
    admin = {"Authorization": f"Bearer {topology.admin_token}"}
    with ExitStack() as stack:
        for name in SIMULATORS:
            stack.enter_context(serving(
                [sys.executable, "-m", "meshcert_simulators.serve", "--name", name,
                 "--topology", str(topology_file), "--data-dir", str(tmp / "data")],
                f"{topology.url(name)}/health", tmp / f"{name}.log"))
        rp_server = stack.enter_context(start_relying_party())
        callback = f"http://127.0.0.1:{rp_server.server_address[1]}/callback"
        registered = httpx.post(f"{topology.url('idp')}/_meshcert/idp/clients", headers=admin,
                                timeout=10, json={
                                    "client_id": RP, "redirect_uris": [callback],
                                    "public_jwk": public_jwk(rp_key()),
                                    "scopes": ["openid", "name", "address"],
                                    "purpose": "転出届の提出"})
        assert registered.status_code == 201, registered.text
        yield Running(topology, admin, rp_server, tmp)


def test_a_person_files_the_moveout_and_sees_the_registrys_status(running: Running):
    head = running.resident("山田", "太郎")[0]
    token = running.login(head)
    filed = running.portal("POST", "/v1/moveouts", token, json=moveout("mo-e2e-1"))
    assert filed.status_code == 201, filed.text
    filing = filed.json()
    assert filing["status"] == "受付" and filing["move_in_reservation"]["hosted"] is True
    resent = running.portal("POST", "/v1/moveouts", token, json=moveout("mo-e2e-1"))
    assert resent.status_code == 200 and resent.json()["id"] == filing["id"]
    path = f"/v1/moveouts/{filing['id']}"
    for status in ("処理中", "完了"):
        running.advance(filing["id"], status)
        shown = running.portal("GET", path, token)
        assert shown.status_code == 200 and shown.json()["status"] == status, shown.text
    record = httpx.get(f"{running.url('municipal')}/municipalities/{OLD_LG}/residents/"
                       f"{head['atena_number']}", headers=running.admin, timeout=10).json()
    assert record["status"] == "moved-out"
    assert record["departure"]["destination_lg_code"] == NEW_LG
    captured = httpx.get(f"{running.url('portal')}/admin/exchanges", headers=running.admin,
                         params={"client_id": RP, "path_prefix": "/v1/moveouts"},
                         timeout=10).json()["exchanges"]
    assert [e["status"] for e in captured if e["method"] == "POST"][:2] == [201, 200]
    assert all(e["duration_ms"] > 0 for e in captured)


def test_outside_the_window_the_registry_says_no_through_the_portal(running: Running):
    head = running.resident("佐藤", "一郎")[0]
    answer = running.portal("POST", "/v1/moveouts", running.login(head),
                            json=moveout("mo-late", days=60))
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == "urn:meshcert:problem:outside-filing-window"


def test_a_proxy_acts_within_the_delegation_until_revoked(running: Running):
    principal = running.resident("田中", "花子")[0]
    proxy = running.resident("田中", "次郎")[0]
    principal_token, proxy_token = running.login(principal), running.login(proxy)
    granted = running.portal("POST", "/v1/me/proxies", principal_token, json={
        "proxy_juminhyo_code": proxy["juminhyo_code"], "kind": "voluntary",
        "procedures": ["moveout"],
        "until": (datetime.now(UTC) + timedelta(days=30)).isoformat()})
    assert granted.status_code == 201, granted.text
    dg = granted.json()["id"]
    filed = running.portal("POST", "/v1/moveouts", proxy_token,
                           json=moveout("proxy-1", on_behalf_of=dg))
    assert filed.status_code == 201 and filed.json()["filed_by"] == "proxy", filed.text
    revoked = running.portal("DELETE", f"/v1/me/proxies/{dg}", principal_token)
    assert revoked.status_code == 204
    refused = running.portal("GET", f"/v1/moveouts/{filed.json()['id']}", proxy_token)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith(":delegation-revoked")
    # the principal still follows their own move-out
    own = running.portal("GET", f"/v1/moveouts/{filed.json()['id']}", principal_token)
    assert own.status_code == 200 and own.json()["status"] == "受付"


def test_a_birth_becomes_a_notice_and_the_history_reads_the_real_keepers(running: Running):
    head = running.resident("鈴木", "一郎")[0]
    token = running.login(head)
    child = person("鈴木", "花", "20", kana=("スズキ", "ハナ"), sex="2",
                   birth={"iso": today().isoformat()})
    born = httpx.post(f"{running.url('municipal')}/municipalities/{OLD_LG}/movements",
                      headers=running.admin, timeout=10,
                      json=movement("birth", today(), person=child,
                                    setai_number=head["setai_number"]))
    assert born.status_code == 201, born.text
    notices = running.portal("GET", "/v1/me/notices", token).json()
    assert notices["unread"] == 1 and notices["notices"][0]["kind"] == "child-allowance"
    history = running.portal("GET", "/v1/me/history", token)
    assert history.status_code == 200, history.text
    assert history.json()["unavailable_sources"] == []  # the mesh and the gateway answered
    me = running.portal("GET", "/v1/me", token).json()
    assert {m["relationship"] for m in me["household"]} == {"世帯主", "子"}
