"""The account registry serves exactly its committed contract, and passes Schemathesis against it
in-process, each operation called as its real caller would: the person's endpoints with the
provider's access token of a seeded resident, the provisions with the mesh's token, the records
with the portal's (tests/api/test_tax_contract.py explains the replaced acceptance check)."""

from __future__ import annotations

import json
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings

from meshcert.certify.contract_checks import CONFORMANCE_CHECKS
from meshcert_simulators.specs import contract_path, dump, served_spec
from tests.api.accounts_support import bearer, client_token, make_world


def test_served_document_equals_the_committed_contract():
    committed = contract_path("accounts").read_text(encoding="utf-8")
    assert dump(served_spec("accounts")) == committed, (
        "the served OpenAPI document drifted from fixtures/specs/accounts.openapi.json; if the "
        "change is deliberate, run `python -m meshcert_simulators.specs` and review the diff")


# Removed when the interpreter exits (the apps are built at import, for collection).
_DATA = tempfile.TemporaryDirectory(prefix="meshcert-accounts-schemathesis-")


@asynccontextmanager
async def _no_shutdown(_app):  # type: ignore[no-untyped-def]
    yield


WORLD = make_world(Path(_DATA.name))
# Schemathesis ends an ASGI app's lifespan after each test (closing the database); this app
# lives for the whole module.
WORLD.accounts.router.lifespan_context = _no_shutdown
PERSON = bearer(WORLD.token(WORLD.resident()))
CALLERS = {"/v1/me/account": PERSON, "/v1/provisions": client_token("mesh"),
           "/v1/records": client_token("portal")}
schema = schemathesis.openapi.from_dict(json.loads(contract_path("accounts").read_text()))
schema.app = WORLD.accounts


@pytest.mark.slow
@schema.parametrize()
@seed(20261204)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_accounts_conforms_to_its_contract(case):
    case.call_and_validate(headers=CALLERS.get(case.path, client_token("portal")),
                           **CONFORMANCE_CHECKS)
