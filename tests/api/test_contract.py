"""The simulator serves exactly its committed contract, and passes Schemathesis against it.

The simulator is the reference implementation: it must pass everything that will later be
demanded of vendor systems (no 5xx, documented statuses, content types and schemas, auth
enforced, unsupported methods refused, schema-violating data rejected).

One built-in check is replaced by a sharper one: Schemathesis' ``positive_data_acceptance``
treats every 4xx other than 401/403/404/409/429 as a rejection of valid data, but the registry
also applies business rules that no schema can state (a household needs one head, a move-out is
filed in its window). ``schema_valid_data_passes_validation`` allows those — each has its own
problem type — and still fails when schema-valid data meets the schema validator itself.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from meshcert.certify.contract_checks import CONFORMANCE_CHECKS
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import load_topology
from meshcert_simulators.registry import create_app
from meshcert_simulators.specs import contract_path, dump, served_spec


def test_served_document_equals_the_committed_contract():
    committed = contract_path("municipal").read_text(encoding="utf-8")
    served = dump(served_spec("municipal"))
    assert served == committed, (
        "the served OpenAPI document drifted from fixtures/specs/; if the change is deliberate, "
        "run `python -m meshcert_simulators.specs` and review the diff")


# Removed when the interpreter exits (the app is built at import, for collection).
_DATA = tempfile.TemporaryDirectory(prefix="meshcert-schemathesis-")


def _app():
    topology = load_topology()
    data_dir = Path(_DATA.name)
    app = create_app(Settings(name="municipal", topology=topology, data_dir=data_dir,
                              access_log=False))
    return app, {"Authorization": f"Bearer {topology.admin_token}"}


APP, AUTH = _app()
schema = schemathesis.openapi.from_dict(json.loads(contract_path("municipal").read_text()))
schema.app = APP




@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_simulator_conforms_to_its_contract(case):
    case.call_and_validate(headers=AUTH, **CONFORMANCE_CHECKS)
