"""The provider contract (PRV-CONTRACT-001), checked with Schemathesis against the target from
the COMMITTED document fixtures/specs/tax.openapi.json (or the defined service's openapi.json,
the target's ``provider.service``) — the mesh's provider contract
(meshcert_simulators/contracts/provider.py) as the reference provider serves it, never what the
target
serves itself. Its operations the mesh calls: ``POST /v1/provisions``,
``GET /v1/provision-records``; the seeding and publish triggers (tag ``admin``) are the
harness's facilities and ``GET /health`` the reference's own, neither certified here.

- Answers for seeded persons and for the records export conform (status, media type, body).
- Generated schema-valid requests get conforming answers (every Schemathesis check, with
  ``positive_data_acceptance`` replaced as in meshcert/certify/contract_checks.py).
- Generated contract-violating requests are refused (``negative_data_rejection``).

The calling, evidence and example settings are the resident-registry suite's (``Runner``,
``_settings``: few derandomized examples, as the suite runs once per negative control).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from meshcert import CONFORMANCE_CHECKS
from meshcert_suites.information_provider.contract import Contract
from meshcert_suites.information_provider.mesh_side import PROCEDURE, RECORDS_PATH
from meshcert_suites.resident_registry.test_contract import Runner, _settings

POSITIVE_EXAMPLES = 10
NEGATIVE_EXAMPLES = 10
PROVIDE = "POST /v1/provisions"
EXPORT = f"GET {RECORDS_PATH}"


# The operations the mesh calls, as PRV-CONTRACT-001 names them; the contract's other entries
# (the reference's health document, the admin triggers) are not the provider contract.
LABELS = [PROVIDE, EXPORT]
REJECTION = {"checks": [negative_data_rejection]}


@pytest.fixture(scope="session")
def operations(contract: Contract) -> Any:
    schema = schemathesis.openapi.from_dict(json.loads(contract.path.read_text(encoding="utf-8")))
    # The harness authenticates every request itself; query parameters the contract does not
    # name are not contract-violating data (OpenAPI leaves them open).
    schema.config.generation.update(with_security_parameters=False,
                                    allow_extra_parameters=False)
    schema = schema.exclude(tag="admin")
    assert set(LABELS) <= {result.ok().label for result in schema.get_all_operations()}
    return schema


def _operation(operations: Any, label: str) -> Any:
    method, path = label.split(" ", 1)
    return operations[path][method]


@pytest.fixture
def runner(harness, request):
    made = Runner(harness, request.node)
    yield made
    made.close()


@pytest.mark.requirement("PRV-CONTRACT-001")
def test_answers_for_seeded_persons_and_the_records_conform_to_the_contract(runner, persons,
                                                                          item, operations):
    cases = [_operation(operations, PROVIDE).Case(body={"record_id": "prv-contract-seeded-0001",
                                            "procedure_code": PROCEDURE, "item_code": item,
                                            "code": persons[0].code}),
             _operation(operations, EXPORT).Case(query={"after": 0, "limit": 20})]
    for case in cases:
        response = runner.call(case)
        assert response.status_code == 200, (
            f"{case.method} {case.path} was answered {response.status_code}: "
            f"{response.text[:300]}")
        runner.check(case, response, **CONFORMANCE_CHECKS)


@pytest.mark.requirement("PRV-CONTRACT-001")
@pytest.mark.parametrize("label", LABELS)
def test_generated_valid_requests_get_answers_that_conform_to_the_contract(runner, persons,
                                                                           label, operations):
    strategy = _operation(operations, label).as_strategy(GenerationMode.POSITIVE)

    @_settings(POSITIVE_EXAMPLES)
    @given(case=strategy)
    def conforms(case) -> None:
        runner.run(case, **CONFORMANCE_CHECKS)

    conforms()


@pytest.mark.requirement("PRV-CONTRACT-001")
@pytest.mark.parametrize("label", LABELS)
def test_generated_contract_violating_requests_are_refused(runner, persons, label,
                                                         operations):
    strategy = _operation(operations, label).as_strategy(GenerationMode.NEGATIVE)

    @_settings(NEGATIVE_EXAMPLES)
    @given(case=strategy, _=st.just(None))
    def refused(case, _) -> None:
        runner.run(case, **REJECTION)

    refused()
