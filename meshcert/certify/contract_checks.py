"""Schemathesis checks shared by every contract test (the suites' and the simulators' own).

Schemathesis' ``positive_data_acceptance`` treats every 4xx but 401/403/404/409/429 as valid
data refused. The mesh's systems also apply business rules no schema can state (a household has
one head; a move-out is filed in its window), each answered with a problem type of its own. So
that check is replaced by a sharper one: schema-valid data must never fail the *schema
validator* (a 422 ``validation-error``), while documented business-rule refusals are allowed.
"""

from __future__ import annotations

from typing import Any

from schemathesis.specs.openapi.checks import positive_data_acceptance

VALIDATION_ERROR = ":validation-error"


def schema_valid_data_passes_validation(ctx: Any, response: Any, case: Any) -> None:
    """Schema-valid requests never fail the schema validator itself."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code == 422:
        try:
            kind = response.json().get("type", "")
        except (ValueError, AttributeError):
            return
        assert not str(kind).endswith(VALIDATION_ERROR), (
            f"schema-valid data was refused as invalid: {response.text[:300]}")


# ``case.call_and_validate(**CONFORMANCE_CHECKS)``: every built-in check, the one replaced.
CONFORMANCE_CHECKS: dict[str, list[Any]] = {
    "excluded_checks": [positive_data_acceptance],
    "additional_checks": [schema_valid_data_passes_validation],
}
