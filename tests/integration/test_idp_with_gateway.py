"""The provider with its real counterparts, each its own process (fixtures/topologies/
private-service.yaml, on free ports): on consent the card (jpki) signs and the gateway records
the consent, so the gateway then provides the person's facts to the relying party's access
token — until a replayed code makes the provider revoke that token."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshcert_simulators.common.jwks import public_jwk
from meshcert_simulators.common.topology import load_topology
from meshcert_simulators.idp.holder import ScriptedHolder
from meshcert_suites.resident_registry.builders import juminhyo_code, move_in, person
from tests.api.idp_support import RP, RelyingPartyStub, redeem, rp_key
from tests.integration.served import TOPOLOGIES, serving
from tests.integration.test_idp_processes import start_relying_party
from tests.integration.topologies import copy_on_free_ports

SIMULATORS = ("municipal", "jpki", "gateway", "idp")


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("idp-gateway")
    topology_file = tmp / "topology.yaml"
    copy_on_free_ports(TOPOLOGIES / "private-service.yaml", topology_file)
    topology = load_topology(topology_file)
    with ExitStack() as stack:
        for name in SIMULATORS:
            url = topology.url(name)
            stack.enter_context(serving(
                [sys.executable, "-m", "meshcert_simulators.serve", "--name", name,
                 "--topology", str(topology_file), "--data-dir", str(tmp / "data")],
                f"{url}/health", tmp / f"{name}.log"))
        rp_server = stack.enter_context(start_relying_party())
        admin = {"Authorization": f"Bearer {topology.admin_token}"}
        yield {"topology": topology, "admin": admin, "rp_server": rp_server, "tmp": tmp}


def _register(mesh: dict[str, Any], callback: str) -> None:
    topology, admin = mesh["topology"], mesh["admin"]
    at_idp = httpx.post(f"{topology.url('idp')}/_meshcert/idp/clients", headers=admin, json={
        "client_id": RP, "redirect_uris": [callback], "public_jwk": public_jwk(rp_key()),
        "scopes": ["openid", "name", "address"], "purpose": "口座開設の本人確認"}, timeout=10)
    assert at_idp.status_code == 201, at_idp.text
    at_gateway = httpx.post(f"{topology.url('gateway')}/_meshcert/gateway/clients",
                            headers=admin, timeout=10, json={
                                "client_id": RP, "purpose": "口座開設の本人確認",
                                "scopes": ["openid", "name", "address"]})
    assert at_gateway.status_code in (200, 201), at_gateway.text


def result_sub(http: httpx.Client, issuer: str, tokens: dict[str, Any]) -> str:
    """The pairwise subject the provider gave the relying party (from userinfo)."""
    info = http.get(f"{issuer}/userinfo",
                    headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200, info.text
    return str(info.json()["sub"])


def test_a_consent_recorded_at_the_gateway_gives_facts_until_a_replay_revokes_the_token(
        mesh: dict[str, Any]):
    topology, rp_server = mesh["topology"], mesh["rp_server"]
    callback = f"http://127.0.0.1:{rp_server.server_address[1]}/callback"
    _register(mesh, callback)
    body = move_in(person("伊藤", "五郎", "02", kana=("イトウ", "ゴロウ"),
                          juminhyo_code=juminhyo_code()))
    moved = httpx.post(f"{topology.url('municipal')}/municipalities/131016/movements",
                       json=body, headers=mesh["admin"], timeout=10)
    assert moved.status_code == 201, moved.text
    someone = moved.json()["affected"][0]

    rp = RelyingPartyStub(topology.url("idp"), callback, scope="openid name address")
    url, login = rp.authorize_url()
    rp_server.next_login = url
    with httpx.Client(timeout=15) as http:
        result = ScriptedHolder(http, someone["juminhyo_code"]).login(
            f"http://127.0.0.1:{rp_server.server_address[1]}/login")
        back = result.callback_params
        assert "code" in back, (back, Path(mesh["tmp"] / "idp.log").read_text()[-2000:])
        answer = redeem(http, topology.url("idp"), callback, back["code"], login)
        assert answer.status_code == 200, answer.text
        bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        facts = http.get(f"{topology.url('gateway')}/v1/basic-facts", headers=bearer)
        assert facts.status_code == 200, facts.text
        provided = facts.json()
        assert provided["facts"]["name"] == "伊藤\u3000五郎" and provided["facts"]["address"]
        assert provided["facts"].get("birthdate") is None  # not consented
        assert provided["sub"] == result_sub(http, topology.url("idp"), answer.json())
        assert someone["juminhyo_code"] not in facts.text

        replayed = redeem(http, topology.url("idp"), callback, back["code"], login)
        assert replayed.json()["error"] == "invalid_grant"
        refused = http.get(f"{topology.url('gateway')}/v1/basic-facts", headers=bearer)
        assert refused.status_code == 401, refused.text
        assert refused.headers["www-authenticate"].startswith("Bearer")
