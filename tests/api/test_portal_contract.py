"""The portal serves exactly its committed contract (the control plane stays out of it), and
passes Schemathesis against it in-process — two registries and stand-ins for the idp and the
record keepers behind it — as a seeded person, with the shared replacement for
``positive_data_acceptance`` (meshcert.certify.contract_checks)."""

from __future__ import annotations

import json
import tempfile
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from meshcert.certify.contract_checks import CONFORMANCE_CHECKS
from meshcert_simulators.registry import create_app
from meshcert_simulators.specs import contract_path, dump, served_spec
from meshcert_suites.resident_registry.builders import arrival, person
from tests.api import portal_support as support
from tests.api.portal_support import ADMIN, OLD_LG, TestClient, bearer, jst_today


def test_served_document_equals_the_committed_contract():
    committed = contract_path("portal").read_text(encoding="utf-8")
    assert dump(served_spec("portal")) == committed, (
        "the served OpenAPI document drifted from fixtures/specs/portal.openapi.json; if the "
        "change is deliberate, run `python -m meshcert_simulators.specs` and review the diff")


def test_the_contract_leaves_the_control_plane_out_and_documents_problems():
    spec = json.loads(contract_path("portal").read_text(encoding="utf-8"))
    assert not [p for p in spec["paths"] if p.startswith(("/_meshcert", "/admin"))]
    filing = spec["paths"]["/v1/moveouts"]["post"]
    assert {"200", "201", "401", "403", "409", "422", "502"} <= set(filing["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in filing["parameters"])
    assert "juminhyo_code" not in json.dumps(spec["components"]["schemas"]["SelfInfo"])


_DATA = tempfile.TemporaryDirectory(prefix="meshcert-portal-schemathesis-")


@asynccontextmanager
async def _no_shutdown(_app):  # type: ignore[no-untyped-def]
    yield


def _world() -> tuple[Any, str]:
    """The portal app (one for the module) and a person's token."""
    tmp = Path(_DATA.name)
    idp, keepers = support.IdpStandIn(), support.Keepers()
    old = create_app(support.settings("municipal", tmp))
    new = create_app(support.settings("municipal-new", tmp))
    for app in (old, new):
        app.router.lifespan_context = _no_shutdown  # the databases stay open for the module
    with TestClient(old) as registry:
        seeded = registry.post(f"/municipalities/{OLD_LG}/movements", headers=bearer(ADMIN),
                               json=arrival(OLD_LG, person(), on=jst_today() - timedelta(days=200)))
        head = seeded.json()["affected"][0]
    portal = support.build_portal(tmp, idp, keepers, old, new)
    portal.router.lifespan_context = _no_shutdown
    return portal, idp.token(head["juminhyo_code"], exp_in=3600)


_app, _token = _world()
schema = schemathesis.openapi.from_dict(json.loads(contract_path("portal").read_text()))
schema.app = _app


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
def test_portal_conforms_to_its_contract(case):
    case.call_and_validate(headers=bearer(_token), **CONFORMANCE_CHECKS)
