"""Shared pieces of the mesh tests: the mesh topology, tokens, and a tiny provider app served
to the mesh in-process through its injectable transport (the only double the tests use)."""

from __future__ import annotations

import asyncio
import random
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

from meshcert_simulators.common.identifiers import generate_juminhyo_code, generate_my_number
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import Topology, load_topology, topology_from_raw
from meshcert_simulators.registry import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

MESH_TOPOLOGY = Path(__file__).resolve().parents[2] / "fixtures" / "topologies" / "mesh.yaml"
CHILD = "chiyoda-child-allowance"
TAX = "chiyoda-resident-tax"
BENEFIT = "benefit-agency"
FUND = "public-fund-registry"
CHILD_PROC = "JT01010000000214"
FUND_PROC = "JT01030000000125"
TAX_ITEM = "TM00000000000002"
RESIDENT_ITEM = "TM00000000000001"
FUND_ITEM = "TM00000000000089"


def mesh_topology() -> Topology:
    return load_topology(MESH_TOPOLOGY)


def topology_with_provider_url(code: str, url: str) -> Topology:
    raw = yaml.safe_load(MESH_TOPOLOGY.read_text(encoding="utf-8"))
    for inst in raw["institutions"]:
        if inst["code"] == code:
            inst.pop("simulator", None)
            inst["url"] = url
    return topology_from_raw(raw, MESH_TOPOLOGY.parent)


def auth(topology: Topology, institution_or_client: str) -> dict[str, str]:
    inst = topology.institution(institution_or_client)
    client_id = inst.client if inst else institution_or_client
    client = topology.client(client_id)
    assert client is not None and client.token
    return {"Authorization": f"Bearer {client.token}"}


def person(seed: int) -> str:
    return generate_juminhyo_code(random.Random(seed))


@dataclass
class FakeProvider:
    """A provider answering POST /v1/provisions; ``mode`` changes how, ``calls`` counts."""

    mode: str = "ok"
    calls: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/provisions")
        async def provisions(request: Request) -> JSONResponse:
            body = await request.json()
            self.calls.append({"body": body, "authorization": request.headers.get(
                "authorization")})
            if self.mode == "slow":
                await asyncio.sleep(2)
            if self.mode == "error":
                return JSONResponse({"type": "about:blank"}, 503)
            payload: dict[str, Any] = {"taxable_income": 3_200_000, "fiscal_year": 2025}
            if self.mode == "mynumber":
                payload["my_number"] = generate_my_number(random.Random(1))
            return JSONResponse({"status": "09", "items": [
                {"item_code": body["item_code"], "status": "01", "payload": payload}]})

        return app


def mesh_app(data_dir: Path, topology: Topology | None = None,
             provider: FakeProvider | None = None):  # type: ignore[no-untyped-def]
    app = create_app(Settings(name="mesh", topology=topology or mesh_topology(),
                              data_dir=data_dir, access_log=False))
    if provider is not None:
        app.state.provider_transport = httpx.ASGITransport(app=provider.app())
    return app


def client_for(app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, raise_server_exceptions=False)
