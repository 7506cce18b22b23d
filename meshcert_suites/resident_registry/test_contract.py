"""The canonical contract (ERR-SCHEMA-001, ERR-SCHEMA-002), checked with Schemathesis against
the target over HTTPS, from the COMMITTED document fixtures/specs/resident-registry.openapi.json
(never from what the target serves: a system must conform to the contract, not to itself).

- Responses for the seeded population (explicit requests) and for generated schema-valid
  requests conform: status codes, media types, headers and bodies (every Schemathesis check,
  with ``positive_data_acceptance`` replaced by a sharper one, see below).
- Linked operations (stateful): Schemathesis 4 infers the links from the contract itself (a
  movement's ``affected[*].atena_number`` → getResident, the feed's records → getResident, a
  move-out's ``application_id`` → its status), so the contract carries no ``links`` of its own.
- Generated contract-violating requests are refused (``negative_data_rejection``).

Generated requests go to the sandbox municipality (the target's ``other_municipality``): the
seeded population stays as seeded. For them the contract is bound to that municipality (its
``{lg_code}`` filled in), which also lets the stateful phase start from the sandbox's own feed.

``positive_data_acceptance`` treats every 4xx but 401/403/404/409/429 as refusing valid data,
but the register also applies rules no schema states (a household needs one head, dates in
order); ``schema_valid_data_passes_validation`` allows those and fails when schema-valid data
meets the schema validator itself. Examples are few and
derandomized: the suite runs once per negative control.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import JsonSchemaError
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
)

from meshcert import Exchange, schema_valid_data_passes_validation
from meshcert_suites.resident_registry.builders import CONTRACT

POSITIVE_EXAMPLES = 12
NEGATIVE_EXAMPLES = 10
STATEFUL_SCENARIOS = 8
STATEFUL_STEPS = 4

DOCUMENT = json.loads(CONTRACT.read_text(encoding="utf-8"))


def _load(document: dict[str, Any]) -> Any:
    schema = schemathesis.openapi.from_dict(document)
    # The harness authenticates every request itself; and query parameters the contract does
    # not name are not "contract-violating data" (OpenAPI leaves them open; clients add them).
    schema.config.generation.update(with_security_parameters=False,
                                    allow_extra_parameters=False)
    # The seeding facility is the harness's, not part of what a vendor system is certified for.
    return schema.exclude(tag="admin")


OPERATIONS = _load(DOCUMENT)
LABELS = [result.ok().label for result in OPERATIONS.get_all_operations()]


@functools.cache
def bound_to(lg_code: str) -> Any:
    """The contract with ``{lg_code}`` filled in: every generated request goes to ``lg_code``."""
    document = copy.deepcopy(DOCUMENT)
    paths = {}
    for path, item in document["paths"].items():
        for operation in item.values():
            operation["parameters"] = [p for p in operation.get("parameters", [])
                                       if not (p["in"] == "path" and p["name"] == "lg_code")]
        paths[path.replace("{lg_code}", lg_code)] = item
    document["paths"] = paths
    return _load(document)


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate], print_blob=False,
                    suppress_health_check=list(HealthCheck))




def _is_date_format(failure: Exception) -> bool:
    """A string where the contract wants an ISO date (``format: date``, alone or as one
    branch of an ``anyOf`` with null)."""
    if not isinstance(failure, JsonSchemaError) or not isinstance(failure.instance, str):
        return False
    schema = failure.schema
    options = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
    return any(isinstance(o, dict) and o.get("format") == "date" for o in options)


def response_schema_conformance_but_date_formats(ctx, response, case) -> None:
    """``response_schema_conformance``, less violations of ``format: date``: how dates are
    written on the wire is DATE-ISO-001's own requirement (and its own test), so a wareki date
    fails that requirement once rather than this one too."""
    try:
        response_schema_conformance(ctx, response, case)
    except FailureGroup as group:
        left = [f for f in group.exceptions if not _is_date_format(f)]
        if left:
            raise FailureGroup(left, str(group)) from None
    except JsonSchemaError as failure:
        if not _is_date_format(failure):
            raise


# Every check bar those another requirement owns: ignored_auth (SEC-AUTH-001, tested per
# operation there), negative_data_rejection (ERR-SCHEMA-002, below), date formats (DATE-ISO-001).
CONFORMANCE = {"excluded_checks": [positive_data_acceptance, negative_data_rejection,
                                   ignored_auth, response_schema_conformance],
               "additional_checks": [schema_valid_data_passes_validation,
                                     response_schema_conformance_but_date_formats]}
REJECTION = {"checks": [negative_data_rejection]}


# -- evidence -------------------------------------------------------------------------------------


class Runner:
    """Calls the target for Schemathesis cases and validates; every exchange it makes or
    checks is evidence (a passing test's too), a failing one with its failure."""

    def __init__(self, harness, node) -> None:
        self.base_url = harness.target.base_url
        self.recorder = harness.recorder_for(node)
        self.node = node
        self.calls = 0
        self._made: dict[int, Exchange] = {}  # responses of call(), by id, until checked
        self.session = requests.Session()
        ca = harness.ca_file()
        self.verify = str(ca) if ca is not None and harness.target.tls.verify else \
            harness.target.tls.verify
        self.session.headers["Authorization"] = f"Bearer {harness.token()}"

    def kwargs(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "session": self.session, "verify": self.verify}

    def call(self, case) -> Any:
        """Call the target for ``case``: the exchange is evidence even if a test's own
        assertion stops before it is checked."""
        response = case.call(**self.kwargs())
        self._made[id(response)] = self.recorder.record_requests(response)
        return response

    def check(self, case, response, recorder=None, **checks: Any) -> None:
        self.calls += 1
        exchange = self._made.pop(id(response), None) or self.recorder.record_requests(response)
        try:
            case.validate_response(response, transport_kwargs=self.kwargs(), recorder=recorder,
                                   **checks)
        except FailureGroup as failures:
            exchange.error = str(failures)[:4000]
            raise

    def run(self, case, **checks: Any) -> None:
        self.check(case, self.call(case), **checks)

    def close(self) -> None:
        self.node.user_properties.append(("schemathesis_calls", self.calls))
        self.session.close()


@pytest.fixture
def runner(harness, request):
    made = Runner(harness, request.node)
    yield made
    made.close()


def _operation(label: str, lg_code: str | None = None):
    """The operation of ``label`` (e.g. ``GET /municipalities/{lg_code}/changes``), bound to
    ``lg_code`` when one is given."""
    method, path = label.split(" ", 1)
    if lg_code is None:
        return OPERATIONS[path][method]
    return bound_to(lg_code)[path.replace("{lg_code}", lg_code)][method]


# -- ERR-SCHEMA-001 -------------------------------------------------------------------------------


@pytest.fixture
def known(lg, population) -> dict[str, dict[str, Any]]:
    """Requests whose answer is data: the seeded population's records."""
    person = population[0]
    return {
        "GET /municipalities/{lg_code}/residents/{atena_number}":
            {"path_parameters": {"lg_code": lg, "atena_number": person["atena_number"]}},
        "GET /municipalities/{lg_code}/residents":
            {"path_parameters": {"lg_code": lg},
             "query": {"juminhyo_code": person["juminhyo_code"]}},
        "GET /municipalities/{lg_code}/households/{setai_number}":
            {"path_parameters": {"lg_code": lg, "setai_number": person["setai_number"]}},
        "GET /municipalities/{lg_code}/changes":
            {"path_parameters": {"lg_code": lg}, "query": {"limit": 20}},
        "GET /municipalities/{lg_code}/audit-log":
            {"path_parameters": {"lg_code": lg}, "query": {"limit": 20}},
        "GET /municipalities/{lg_code}/audit-log/verification":
            {"path_parameters": {"lg_code": lg}},
        "GET /health": {},
    }


READS = ["GET /municipalities/{lg_code}/residents/{atena_number}",
         "GET /municipalities/{lg_code}/residents",
         "GET /municipalities/{lg_code}/households/{setai_number}",
         "GET /municipalities/{lg_code}/changes",
         "GET /municipalities/{lg_code}/audit-log",
         "GET /municipalities/{lg_code}/audit-log/verification",
         "GET /health"]


@pytest.mark.requirement("ERR-SCHEMA-001")
@pytest.mark.parametrize("label", READS)
def test_reads_of_seeded_records_conform_to_the_contract(runner, known, label):
    case = _operation(label).Case(**known[label])
    response = runner.call(case)
    assert response.status_code == 200, (
        f"{label} for a seeded record was answered {response.status_code}: "
        f"{response.text[:300]}")
    runner.check(case, response, **CONFORMANCE)


@pytest.mark.requirement("ERR-SCHEMA-001")
@pytest.mark.parametrize("label", LABELS)
def test_generated_valid_requests_get_answers_that_conform_to_the_contract(runner, sandbox,
                                                                           label):
    strategy = _operation(label, sandbox).as_strategy(GenerationMode.POSITIVE)

    @_settings(POSITIVE_EXAMPLES)
    @given(case=strategy)
    def conforms(case) -> None:
        runner.run(case, **CONFORMANCE)

    conforms()


@pytest.mark.requirement("ERR-SCHEMA-001")
def test_linked_operations_conform_to_the_contract(harness, runner, sandbox, sandbox_move_in):
    # Something for the links to follow: a household in the sandbox, so its feed has records.
    with harness.client(recorder=harness.recorder_for(runner.node)) as client:
        made = client.post(f"/municipalities/{sandbox}/movements", json=sandbox_move_in())
    assert made.status_code == 201, (
        f"setting up: a valid move-in into {sandbox} was answered {made.status_code}: "
        f"{made.text[:300]}")

    class Scenario(bound_to(sandbox).as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case) -> dict[str, Any]:
            return runner.kwargs()

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            runner.check(case, response, recorder=self.recorder, **CONFORMANCE)

    Scenario.run(settings=settings(_settings(STATEFUL_SCENARIOS), phases=[Phase.generate],
                                   stateful_step_count=STATEFUL_STEPS))


# -- ERR-SCHEMA-002 -------------------------------------------------------------------------------


def _can_be_violated(label: str) -> bool:
    """Operations with something a request can get wrong besides the municipality."""
    operation = _operation(label)
    return len(operation.body) > 0 or any(p.name != "lg_code"
                                          for p in operation.iter_parameters())


@pytest.mark.requirement("ERR-SCHEMA-002")
@pytest.mark.parametrize("label", [label for label in LABELS if _can_be_violated(label)])
def test_generated_contract_violating_requests_are_refused(runner, sandbox, label):
    strategy = _operation(label, sandbox).as_strategy(GenerationMode.NEGATIVE)

    @_settings(NEGATIVE_EXAMPLES)
    @given(case=strategy, _=st.just(None))
    def refused(case, _) -> None:
        runner.run(case, **REJECTION)

    refused()
