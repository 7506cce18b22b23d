"""Checks the suites share to judge what a system under test sent (one concept, one place).

Each check is a function named for the assertion it makes (as the OpenID conformance suite
names its conditions) and raises AssertionError saying what was wrong:

``identifiers``: the one detector of identifiers that must not cross a boundary — any My
Number, and the known My Numbers, 住民票コード and other institutions' 符号 the harness seeded —
in every form and place (docs/domain.md, invariants 1 and 2).
``challenges``: the RFC 6750 bearer challenge of a 401/403.
``problems``: RFC 9457 problem details of an error.
``request_ids``: the ``X-Request-ID`` echo.
"""

from meshcert.checks.challenges import ensure_bearer_challenge
from meshcert.checks.identifiers import (
    Leak,
    Parts,
    ensure_no_identifiers,
    exchange_parts,
    find_identifiers,
)
from meshcert.checks.problems import (
    PROBLEM_MEDIA_TYPE,
    ensure_problem_details,
    ensure_problem_media_type,
)
from meshcert.checks.request_ids import (
    REQUEST_ID_HEADER,
    ensure_request_id_echoed,
    ensure_request_id_present,
)

__all__ = ["PROBLEM_MEDIA_TYPE", "REQUEST_ID_HEADER", "Leak", "Parts", "ensure_bearer_challenge",
           "ensure_no_identifiers", "ensure_problem_details", "ensure_problem_media_type",
           "ensure_request_id_echoed", "ensure_request_id_present", "exchange_parts",
           "find_identifiers"]
