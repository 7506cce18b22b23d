"""Who may call the J-LIS intermediate server: roles, and copies kept to their provider."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from meshcert_simulators.common.auth import ADMIN_ROLE, Caller, require
from meshcert_simulators.common.problems import Problem

REGISTER_ROLE = "jlis:register"
PROVIDE_ROLE = "jlis:provide"
AUDIT_ROLE = "jlis:audit"


class JlisAccess:
    """Authorizes requests. The ``authenticator`` is read from the app's state at the time of
    each request, so a negative control or a test can replace it (or this object)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def caller(self, request: Request, role: str) -> Caller:
        """The authenticated caller, refused unless it holds ``role``."""
        who = self.state.authenticator.authenticate(request)
        require(who, role)
        return who

    def own_institution(self, request: Request, institution: str) -> Caller:
        """Copies are registered and read by their provider (or admin) only."""
        who = self.caller(request, REGISTER_ROLE)
        if institution != who.client_id and not who.has(ADMIN_ROLE):
            raise Problem(403, "not-your-institution", "Copies belong to their provider",
                          f"client {who.client_id!r} may register and read copies only under "
                          "its own institution")
        return who
