"""Who calls the registry and what they may do: the caller's roles and municipalities, and the
audit entry of a read refused to a known caller."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from meshcert_simulators.common.auth import Caller, require
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.municipal.registry import Actor

MYNUMBER_ROLE = "registry:read-mynumber"
MOVEOUT_PROCESS = "moveout:process"
MOVEOUT_SUBMIT = "moveout:submit"


class Access:
    """Authorizes requests. The ``authenticator`` and the ``registry`` are read from the app's
    state at the time of each request, so a negative control or a test can replace either (or
    this object)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def caller(self, request: Request, role: str, lg_code: str | None = None,
               read: tuple[str, str] | None = None) -> tuple[Caller, Actor]:
        """Who calls, allowed ``role`` (for ``lg_code``); a refused ``read`` (its action and
        target) of a known caller in a hosted municipality is logged before the refusal."""
        registry = self.state.registry
        who = self.state.authenticator.authenticate(request)
        request_id = request.scope.get("state", {}).get("request_id")
        try:
            require(who, role, lg_code)
        except Problem:
            if read is not None and lg_code in registry.municipalities:
                registry.log_refused(lg_code, Actor(who.client_id, request_id, False), *read)
            raise
        if lg_code is not None:
            registry.check_hosted(lg_code)
        return who, Actor(who.client_id, request_id, who.has(MYNUMBER_ROLE))

    def moveout_reader(self, request: Request, lg_code: str) -> Actor:
        """A caller who may see a move-out's status: its clerk, or a front service."""
        who = self.state.authenticator.authenticate(request)
        role = MOVEOUT_PROCESS if who.has(MOVEOUT_PROCESS) else MOVEOUT_SUBMIT
        return self.caller(request, role, lg_code)[1]
