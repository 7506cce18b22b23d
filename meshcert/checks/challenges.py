"""RFC 6750 bearer challenges: how a refused request says why (SEC-AUTH-*, PRV-AUTH-001).

A resource server refusing a request for want of a valid access token answers 401 with a
``WWW-Authenticate: Bearer …`` challenge (RFC 6750 §3); one refusing a valid token that lacks
the scope answers 403 naming the error code, ``error="insufficient_scope"`` (§3.1).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["ensure_bearer_challenge"]


def ensure_bearer_challenge(response: Any, *, status: int, what: str,
                            error: str | None = None) -> None:
    """Assert that ``response`` (an httpx response) refused ``what`` with ``status`` and a
    bearer challenge.

    Without ``error`` the ``WWW-Authenticate`` header must name the ``Bearer`` scheme (RFC 6750
    §3). With ``error`` (e.g. ``"insufficient_scope"``) it must carry ``error=<error>``, quoted
    or not (§3.1) — the error attribute alone is what is judged then, as the suites always did.
    ``what`` names the refused request in the message (e.g. ``"a provision without a token"``).
    """
    assert response.status_code == status, (
        f"{what} must be refused with {status}; the target answered {response.status_code}: "
        f"{response.text[:300]}")
    challenge = response.headers.get("www-authenticate", "")
    if error is None:
        assert challenge.lower().startswith("bearer"), (
            f"the {status} for {what} carries no Bearer WWW-Authenticate challenge "
            f"(RFC 6750 §3); got {challenge!r}")
        return
    assert re.search(rf'error="?{re.escape(error)}"?', challenge), (
        f"the {status} for {what} must say error=\"{error}\" in its WWW-Authenticate "
        f"challenge (RFC 6750 §3.1); got {challenge!r}")
