"""The harness's control plane of the portal (admin token; outside the contract):

- ``POST /_meshcert/portal/feeds/follow`` → ``{new_notices}``: read the registries' feeds now;
- ``GET /_meshcert/portal/moveouts/{id}``: a filing as kept (who filed it, through which
  client, for whom), with the registry's state;
- ``POST /_meshcert/portal/moveouts/{id}/transitions`` ``{status: 処理中|完了}``: advance it at
  its registry (as the registry's clerk would, with the topology's admin credential).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

from meshcert_simulators.common.http import json_body
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.wire import WireModel
from meshcert_simulators.portal.context import Portal
from meshcert_simulators.portal.filings import MOVEOUT, registry_state
from meshcert_simulators.portal.peers import relayed

CONTROL = "/_meshcert/portal"


class Transition(WireModel):
    status: Literal["処理中", "完了"]


def install(app: FastAPI, portal: Portal, admin: Callable[[Request], None],
            follow: Callable[[], Awaitable[int]]) -> None:
    def kept(moveout_id: str) -> dict[str, Any]:
        doc = portal.store.filing(MOVEOUT, moveout_id)
        if doc is None:
            raise Problem(404, "filing-not-found", "No such move-out", moveout_id)
        return doc

    @app.post(f"{CONTROL}/feeds/follow", include_in_schema=False)
    async def post_follow(request: Request) -> JSONResponse:
        admin(request)
        return JSONResponse({"new_notices": await follow()})

    @app.get(f"{CONTROL}/moveouts/{{moveout_id}}", include_in_schema=False)
    async def get_kept(request: Request, moveout_id: str) -> JSONResponse:
        admin(request)
        doc = kept(moveout_id)
        return JSONResponse({**doc, "registry_state": await registry_state(portal, doc)})

    @app.post(f"{CONTROL}/moveouts/{{moveout_id}}/transitions", include_in_schema=False)
    async def post_transition(request: Request, moveout_id: str) -> JSONResponse:
        admin(request)
        body = await json_body(request, Transition)
        doc = kept(moveout_id)
        access = next((a for a in portal.config.registries if a.source == doc["registry"]),
                      None)
        if access is None:
            raise Problem(502, "registry-unavailable", "The registry of this move-out is gone")
        token = portal.config.admin_token
        answer = await portal.peers.call(
            "registry", access.base_url, token, "POST",
            f"/municipalities/{doc['old_lg_code']}/moveout-notifications/{moveout_id}"
            "/transitions", json={"status": body.status})
        if answer.status_code != 200:
            raise relayed("registry", answer)
        return JSONResponse(answer.json())
