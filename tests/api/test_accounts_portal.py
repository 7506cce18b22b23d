"""An agency's query of a person's account, made through the mesh, appears in the person's
exchange history on the portal (やりとり履歴) — the real portal reading the real account
registry's records, everything in-process (the benefit-payout topology with a portal added)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import topology_from_raw
from meshcert_simulators.registry import create_app
from tests.api.accounts_support import (
    FUND,
    ITEM,
    PROCEDURE,
    TOPOLOGY_PATH,
    World,
    account,
    bearer,
    client_token,
    make_world,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PORTAL_PORT = 26106


def portal_app(tmp_path: Path, world: World) -> Any:
    """The portal of the benefit-payout topology (with a portal simulator added), its peers
    served in-process."""
    raw = yaml.safe_load(TOPOLOGY_PATH.read_text(encoding="utf-8"))
    raw["simulators"]["portal"] = {"kind": "portal", "port": PORTAL_PORT, "auth": ["token"]}
    topology = topology_from_raw(raw, TOPOLOGY_PATH.parent)
    portal = create_app(Settings(name="portal", topology=topology,
                                 data_dir=tmp_path / "portal", access_log=False))
    urls = {n: topology.url(n) for n in ("municipal", "mesh", "accounts", "idp")}
    mounts = portal.state.peer_mounts
    for name, app in (("municipal", world.municipal), ("mesh", world.mesh),
                      ("accounts", world.accounts), ("idp", world.idp)):
        mounts[urls[name]] = httpx.ASGITransport(app=app)
    idp = httpx.ASGITransport(app=world.idp)
    portal.state.tokens.verifier.keys.transport = idp
    portal.state.tokens.link.transport = idp
    return portal


def test_an_agencys_account_query_is_in_the_persons_portal_history(tmp_path: Path):
    world = make_world(tmp_path)
    try:
        portal = TestClient(portal_app(tmp_path, world))
    except (AttributeError, KeyError) as exc:  # the portal is being built beside this
        pytest.skip(f"the portal cannot be wired in-process yet: {exc!r}")
    person = world.resident()
    me = bearer(world.token(person))
    assert world.client.put("/v1/me/account", headers=me, json=account()).status_code == 201
    answer = world.mesh_client.post(
        "/v1/inquiries", headers=client_token("mesh-benefit-agency"),
        json={"record_id": "payout-portal-1", "procedure_code": PROCEDURE, "item_code": ITEM,
              "provider": FUND, "code": world.agency_code(person)})
    assert answer.status_code == 200, answer.text

    history = portal.get("/v1/me/history", headers=me)
    assert history.status_code == 200, history.text
    body = history.json()
    assert "accounts" not in body["unavailable_sources"], body
    ours = [e for e in body["entries"] if e["source"] == "accounts"]
    assert [e["record_id"] for e in ours] == ["payout-portal-1"], body
    someone_else = portal.get("/v1/me/history", headers=bearer(world.token(world.resident())))
    assert not [e for e in someone_else.json()["entries"] if e["source"] == "accounts"]
