"""The reference child-allowance system in-process with its counterparts: the authz issuer, the
mesh and the resident-tax provider, each a real app of the mesh-inquirer topology, wired to one
another through ASGI transports (no sockets)."""

from __future__ import annotations

import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from meshcert_simulators.authz import tokens
from meshcert_simulators.common.identifiers import generate_juminhyo_code, generate_my_number
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import Topology, topology_from_raw
from meshcert_simulators.registry import create_app
from tests.tokens import authz_key

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOPOLOGY = Path(__file__).resolve().parents[2] / "fixtures" / "topologies" / "mesh-inquirer.yaml"
KEYS = Path(__file__).resolve().parents[2] / "fixtures" / "keys"
AUDIENCE = "urn:meshcert:child-allowance"
SCOPES = ["allowance:apply", "allowance:read", "allowance:audit"]
FIGURES = {"tax_year": 2025, "taxable_income": 4_150_000, "income_levy": 415_000,
           "per_capita_levy": 5_000, "dependants": 2}
TERMINAL = ("decided", "certificate-requested", "inquiry-failed")


def topology() -> Topology:
    """The launch topology, its issuer's keys read from the JWKS file (no fetch in-process)."""
    raw = yaml.safe_load(TOPOLOGY.read_text(encoding="utf-8"))
    raw["issuer"]["jwks"] = str(KEYS / "authz.jwks.json")
    return topology_from_raw(raw, TOPOLOGY.parent)


class Router(httpx.AsyncBaseTransport):
    """Sends each request to the in-process app serving its origin."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = {origin: httpx.ASGITransport(app=app) for origin, app in routes.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        return await self.routes[origin].handle_async_request(request)


@dataclass
class Family:
    name: str
    juminhyo_code: str
    my_number: str
    children: list[dict[str, str]]

    def application(self, application_id: str) -> dict[str, Any]:
        return {"application_id": application_id,
                "applicant": {"name": self.name, "juminhyo_code": self.juminhyo_code,
                              "my_number": self.my_number},
                "children": self.children}


def family(seed: int, children: list[dict[str, str]] | None = None) -> Family:
    rng = random.Random(seed)
    return Family("山田 花子", generate_juminhyo_code(rng), generate_my_number(rng),
                  children or [{"name": "一郎", "birth_date": "2025-06-01"},
                               {"name": "二郎", "birth_date": "2020-06-01"}])


class World:
    """The four apps; ``inquirer`` is a TestClient kept open (its event loop runs the
    background work between requests)."""

    def __init__(self, data_dir: Path, **extra: str) -> None:
        self.topology = topology()

        def app(name: str, **more: str) -> Any:
            return create_app(Settings(name=name, topology=self.topology, data_dir=data_dir,
                                       access_log=False, extra=dict(more)))

        self.authz, self.mesh, self.tax = app("authz"), app("mesh"), app("tax")
        self.mesh.state.provider_transport = httpx.ASGITransport(app=self.tax)
        self.tax.state.mesh_transport = httpx.ASGITransport(app=self.mesh)
        self.app = app("child-allowance", **extra)
        self.app.state.mesh.transport = Router({self.topology.url("mesh"): self.mesh,
                                                self.topology.url("authz"): self.authz})
        self.admin = {"Authorization": f"Bearer {self.topology.admin_token}"}
        self.inquirer = TestClient(self.app, raise_server_exceptions=False)
        self.inquirer.headers["Authorization"] = f"Bearer {self.token()}"
        self.mesh_client = TestClient(self.mesh, raise_server_exceptions=False)
        self.tax_client = TestClient(self.tax, raise_server_exceptions=False)

    def token(self, scopes: list[str] | None = None, **overrides: Any) -> str:
        return tokens.mint_access_token(
            authz_key(), issuer=str(self.topology.issuer_url()),
            audience=overrides.pop("audience", AUDIENCE), subject="meshcert-harness",
            scopes=SCOPES if scopes is None else scopes, **overrides)

    def __enter__(self) -> World:
        self.inquirer.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.inquirer.__exit__(*exc)
        self.mesh_client.close()
        self.tax_client.close()

    def seed(self, *families: Family) -> None:
        answer = self.tax_client.post("/v1/admin/seed", headers=self.admin, json={
            "rows": [{"juminhyo_code": f.juminhyo_code, "figures": FIGURES} for f in families]})
        assert answer.status_code == 200, answer.text

    def submit(self, application: dict[str, Any]) -> httpx.Response:
        return self.inquirer.post("/v1/applications", json=application)

    def conclude(self, application_id: str, within_s: float = 10.0) -> dict[str, Any]:
        until = time.monotonic() + within_s
        while True:
            view = self.inquirer.get(f"/v1/applications/{application_id}").json()
            if view["state"] in TERMINAL or time.monotonic() > until:
                return dict(view)
            time.sleep(0.02)

    def fault(self, plan: dict[str, Any]) -> None:
        answer = self.mesh_client.put("/admin/faults/global", headers=self.admin, json={
            "match": {"client_id": "mesh-child-allowance", "path_prefix": "/v1/inquiries"},
            **plan})
        assert answer.status_code == 200, answer.text

    def sent(self) -> list[dict[str, Any]]:
        """What the inquirer sent to the mesh (the mesh's capture)."""
        answer = self.mesh_client.get("/admin/exchanges", headers=self.admin,
                                      params={"client_id": "mesh-child-allowance"})
        return list(answer.json()["exchanges"])
