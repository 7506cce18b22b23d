"""The gateway with the real provider (idp) in-process: a person logs in with the scripted
holder, the provider has the card sign the consent and records it here, the relying party
reads the consented facts with the provider's access token; a replayed code makes the provider
revoke that token, and the gateway refuses it from the next request on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml

from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import topology_from_raw
from meshcert_simulators.idp.holder import ScriptedHolder
from meshcert_simulators.registry import create_app
from tests.api.idp_support import RP, TOPOLOGY_PATH, TestClient, by_host, make_world

GATEWAY_TOKEN = "meshcert-gateway-idp-test-local-only-0001"


def topology() -> Any:
    raw = yaml.safe_load(TOPOLOGY_PATH.read_text(encoding="utf-8"))
    raw["simulators"] |= {"jpki": {"kind": "jpki", "port": 24102, "auth": ["token"]},
                          "gateway": {"kind": "gateway", "port": 24104, "auth": ["token"]}}
    for client in raw["clients"]:
        if client["id"] == "idp":
            client["roles"] += ["jpki:sign", "gateway:consent"]
    raw["clients"].append({"id": "gateway", "token": GATEWAY_TOKEN,
                           "roles": ["registry:read", "idp:introspect"]})
    return topology_from_raw(raw, TOPOLOGY_PATH.parent)


def test_a_login_records_a_signed_consent_and_the_facts_follow_it(tmp_path: Path):
    topo = topology()

    def app(name: str) -> Any:
        return create_app(Settings(name=name, topology=topo, data_dir=tmp_path / name,
                                   access_log=False))

    jpki, gateway = app("jpki"), app("gateway")
    world = make_world(tmp_path, topo, counterparts={
        topo.url("jpki").split("//")[1]: jpki, topo.url("gateway").split("//")[1]: gateway})
    jpki.state.cards.transport = httpx.ASGITransport(app=world.municipal)
    gateway.state.registry_transport = httpx.ASGITransport(app=world.municipal)
    gateway.state.jpki.transport = httpx.ASGITransport(app=jpki)
    gateway.state.idp_keys.transport = httpx.ASGITransport(app=by_host({
        topo.url("idp").split("//")[1]: world.idp}))
    gateway.state.introspection.transport = gateway.state.idp_keys.transport
    person = world.resident()
    result = ScriptedHolder(world.http, person["juminhyo_code"]).login(  # type: ignore[arg-type]
        f"{world.rp_base}/login")
    back = result.callback_params
    assert "code" in back, back
    answer = world.redeem(back["code"], world.rp.logins[back["state"]])
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    relying_party = TestClient(gateway, headers={"Authorization": f"Bearer {token}"})
    facts = relying_party.get("/v1/basic-facts")
    assert facts.status_code == 200, facts.text
    assert facts.json()["facts"]["name"] == "山田\u3000花子"
    assert facts.json()["facts"]["gender"] == "female"
    records = relying_party.get("/v1/provision-records").json()["records"]
    assert [r["client_id"] for r in records] == [RP]

    replay = world.redeem(back["code"], world.rp.logins[back["state"]])
    assert replay.status_code == 400
    refused = relying_party.get("/v1/basic-facts")
    assert refused.status_code == 401 and refused.json()["reason"] == "revoked"
