"""Shared pieces of the account-registry tests: the benefit-payout topology's registry, provider
(idp), mesh and account registry, all in-process and wired to each other through injectable
transports, and the provider's own access tokens for a person."""

from __future__ import annotations

import secrets
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import Topology, load_topology
from meshcert_simulators.fixtures import fixture_path
from meshcert_simulators.idp.clients import RelyingParty
from meshcert_simulators.idp.provider import CodeGrant
from meshcert_simulators.registry import create_app
from meshcert_suites.resident_registry.builders import juminhyo_code, move_in, person

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOPOLOGY_PATH = fixture_path("topologies", "benefit-payout.yaml")
LG = "131016"
AGENCY = "benefit-agency"
FUND = "public-fund-registry"
PROCEDURE = "JT01030000000125"
ITEM = "TM00000000000089"


def topology() -> Topology:
    return load_topology(TOPOLOGY_PATH)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client_token(client_id: str) -> dict[str, str]:
    found = topology().client(client_id)
    assert found is not None and found.token
    return bearer(found.token)


def admin() -> dict[str, str]:
    return bearer(topology().admin_token)


def account(holder: str = "ヤマダ　タロウ", **changes: str) -> dict[str, str]:
    return {"bank_code": "0001", "branch_code": "123", "account_type": "普通",
            "account_number": "1234567", "holder_kana": holder, "phone": "090-1234-5678",
            "email": "taro@example.jp", **changes}


@dataclass
class World:
    accounts: Any
    idp: Any
    municipal: Any
    mesh: Any
    client: TestClient        # the account registry
    registry: TestClient
    mesh_client: TestClient

    def resident(self, kana: tuple[str, str] = ("ヤマダ", "タロウ")) -> str:
        """A new resident with ``kana`` as their registered kana name; their 住民票コード."""
        code = juminhyo_code()
        moved = self.registry.post(f"/municipalities/{LG}/movements", headers=admin(),
                                   json=move_in(person(kana=kana, juminhyo_code=code)))
        assert moved.status_code == 201, moved.text
        return code

    def token(self, juminhyo: str, client_id: str = "portal") -> str:
        """An access token the provider itself issued for ``juminhyo`` to ``client_id`` (as
        after a login), live at its introspection."""
        provider = self.idp.state.provider
        now = time.time()
        grant = CodeGrant(client_id, "http://127.0.0.1/cb", provider.subject(client_id, juminhyo),
                          juminhyo, ["openid"], secrets.token_hex(8), "", now, int(now))
        party = RelyingParty(client_id, (), None,  # type: ignore[arg-type]
                             frozenset({"openid"}), "test")
        return str(provider.issue(grant, party)["access_token"])

    def agency_code(self, juminhyo: str) -> str:
        """The benefit agency's own 符号 of the person (from the mesh)."""
        answer = self.mesh_client.post("/v1/codes", json={"juminhyo_code": juminhyo},
                                       headers=client_token("mesh-benefit-agency"))
        assert answer.status_code in (200, 201), answer.text
        return str(answer.json()["code"])


def make_world(tmp_path: Path) -> World:
    topo = topology()

    def app(name: str) -> Any:
        return create_app(Settings(name=name, topology=topo, data_dir=tmp_path / name,
                                   access_log=False))

    municipal, idp, mesh = app("municipal"), app("idp"), app("mesh")
    accounts = accounts_app(tmp_path, topo, municipal=municipal, idp=idp, mesh=mesh)
    mesh.state.provider_transport = httpx.ASGITransport(app=accounts)
    return World(accounts, idp, municipal, mesh, TestClient(accounts), TestClient(municipal),
                 TestClient(mesh))


def accounts_app(tmp_path: Path, topo: Topology, *, municipal: Any, idp: Any, mesh: Any) -> Any:
    """The account registry of ``topo`` with its peers served in-process."""
    # A front service beside the portal (this topology has no front-app simulator).
    accounts = create_app(Settings(name="accounts", topology=topo,
                                   data_dir=tmp_path / "accounts", access_log=False,
                                   extra={"person_clients": "portal,front-app"}))
    persons = accounts.state.persons
    persons.verifier.keys.transport = httpx.ASGITransport(app=idp)
    persons.link.transport = httpx.ASGITransport(app=idp)
    accounts.state.registry_transport = httpx.ASGITransport(app=municipal)
    accounts.state.mesh_transport = httpx.ASGITransport(app=mesh)
    return accounts
