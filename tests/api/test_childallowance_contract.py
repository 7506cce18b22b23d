"""The reference child-allowance system serves exactly its committed contract: the trigger the
mesh-inquirer profile defines, which a vendor's inquirer implements."""

from __future__ import annotations

from meshcert_simulators.specs import contract_path, dump, served_spec


def test_served_document_equals_the_committed_contract():
    committed = contract_path("child-allowance").read_text(encoding="utf-8")
    assert dump(served_spec("child-allowance")) == committed, (
        "the served OpenAPI document drifted from fixtures/specs/child-allowance.openapi.json; "
        "if the change is deliberate, run `python -m meshcert_simulators.specs` and review the "
        "diff")


def test_the_contract_documents_the_trigger_status_and_records():
    spec = served_spec("child-allowance")
    assert set(spec["paths"]) >= {"/v1/applications", "/v1/applications/{application_id}",
                                  "/v1/provision-records"}
    states = spec["components"]["schemas"]["ApplicationView"]["properties"]["state"]["enum"]
    assert states == ["received", "inquiring", "decided", "certificate-requested",
                      "inquiry-failed"]
