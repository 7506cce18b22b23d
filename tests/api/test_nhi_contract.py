"""The reference 国民健康保険 register passes Schemathesis against its committed contract
(fixtures/specs/nhi.openapi.json) in-process, as the other simulators do: every answer in the
contract, problem+json for whatever it refuses, never a 5xx. A stand-in issuer and registry
answer a sync (a token, an empty feed); test_nhi.py covers the 502 of an unreachable one."""

from __future__ import annotations

import json
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings

from meshcert.certify.contract_checks import CONFORMANCE_CHECKS
from meshcert_simulators.specs import contract_path
from tests.api.test_nhi import CLERK, nhi

# Removed when the interpreter exits (the app is built at import, for collection).
_DATA = tempfile.TemporaryDirectory(prefix="meshcert-nhi-schemathesis-")


@asynccontextmanager
async def _no_lifespan(_app):  # type: ignore[no-untyped-def]
    yield  # no background polls, and the database stays open for the whole module


def _stand_ins(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/oauth/token":
        return httpx.Response(200, json={"access_token": "stand-in", "expires_in": 300})
    return httpx.Response(200, json={"entries": [], "next_after": 0, "has_more": False})


def _app():  # type: ignore[no-untyped-def]
    app = nhi(Path(_DATA.name))
    app.router.lifespan_context = _no_lifespan
    app.state.http_transport = httpx.MockTransport(_stand_ins)
    return app


schema = schemathesis.openapi.from_dict(json.loads(contract_path("nhi").read_text()))
schema.app = _app()


@pytest.mark.slow
@schema.parametrize()
@seed(20261205)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_nhi_conforms_to_its_contract(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {CLERK}"}, **CONFORMANCE_CHECKS)
