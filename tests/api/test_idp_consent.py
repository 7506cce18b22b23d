"""On consent the provider has the card sign the consent text (jpki) and records it, with the
signature, at the gateway; a refusal there sends the person back without a code."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from meshcert_simulators.common.topology import topology_from_raw
from meshcert_simulators.idp.holder import ScriptedHolder
from tests.api.idp_support import RP, TOPOLOGY_PATH, World, make_world

GATEWAY, JPKI = "127.0.0.1:24120", "127.0.0.1:24130"


class Counterparts:
    """A stand-in card (jpki) and gateway that keep what the provider sent them."""

    def __init__(self, gateway_status: int = 201) -> None:
        self.signed: list[dict[str, Any]] = []
        self.consents: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self.gateway_status = gateway_status

    def jpki(self) -> Starlette:
        async def sign(request: Request) -> Response:
            self.authorizations.append(request.headers.get("authorization", ""))
            self.signed.append({"card": request.path_params["code"], **await request.json()})
            return JSONResponse({"signature": "c2lnbmF0dXJl", "certificate": "-----PEM-----"})

        return Starlette(routes=[Route("/v1/cards/{code}/sign", sign, methods=["POST"])])

    def gateway(self) -> Starlette:
        async def consent(request: Request) -> Response:
            self.consents.append(await request.json())
            return JSONResponse({"id": "consent-1"}, self.gateway_status)

        return Starlette(routes=[Route("/v1/consents", consent, methods=["POST"])])


def _with_counterparts(tmp_path: Path, counterparts: Counterparts) -> World:
    raw = yaml.safe_load(TOPOLOGY_PATH.read_text(encoding="utf-8"))
    raw["simulators"]["gateway"] = {"kind": "gateway", "port": int(GATEWAY.split(":")[1])}
    raw["simulators"]["jpki"] = {"kind": "jpki", "port": int(JPKI.split(":")[1])}
    return make_world(tmp_path, topology_from_raw(raw, TOPOLOGY_PATH.parent),
                      {GATEWAY: counterparts.gateway(), JPKI: counterparts.jpki()})


@pytest.fixture
def counterparts() -> Counterparts:
    return Counterparts()


def test_consent_is_signed_by_the_card_and_recorded_at_the_gateway(
        tmp_path: Path, counterparts: Counterparts):
    world = _with_counterparts(tmp_path, counterparts)
    person = world.resident()
    result = ScriptedHolder(world.http, person["juminhyo_code"]).login(f"{world.rp_base}/login")
    assert "code" in result.callback_params
    [signed] = counterparts.signed
    assert signed["card"] == person["juminhyo_code"]
    text = base64.b64decode(signed["data"]).decode()
    [consent] = counterparts.consents
    assert consent["signed_text"] == text
    assert consent["signature"] == "c2lnbmF0dXJl" and consent["certificate"] == "-----PEM-----"
    assert consent["client_id"] == RP and consent["juminhyo_code"] == person["juminhyo_code"]
    assert consent["scopes"] == ["openid", "name", "address", "birthdate", "gender"]
    assert consent["sub"] == world.provider.subject(RP, person["juminhyo_code"])
    stated = json.loads(text)
    assert stated["sub"] == consent["sub"] and stated["purpose"].startswith("口座開設")
    assert counterparts.authorizations == ["Bearer meshcert-idp-registry-local-only-0001"]


def test_a_consent_the_gateway_refuses_sends_the_person_back_without_a_code(tmp_path: Path):
    refusing = Counterparts(gateway_status=403)
    world = _with_counterparts(tmp_path, refusing)
    result = ScriptedHolder(world.http, world.resident()["juminhyo_code"]).login(
        f"{world.rp_base}/login")
    back = result.callback_params
    assert back["error"] == "temporarily_unavailable" and "code" not in back
    assert back["state"] in world.rp.logins
