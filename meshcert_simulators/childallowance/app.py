"""The reference child-allowance (児童手当) system: an inquirer of the public service mesh.

The harness submits an application (``POST /v1/applications``, the trigger the mesh-inquirer
profile defines); the system answers 202 and, in the background, gets the applicant's 符号 from
the mesh (presenting the 住民票コード — the My Number on the form stays inside), asks the
resident-tax provider for the income through the mesh, and decides — or, when the provider has
no data, asks the person for a 課税証明書; when the inquiry keeps failing until its stated time,
it tells the person that nothing was decided. ``GET /v1/applications/{id}`` shows the state,
decision and notice; ``GET /v1/provision-records`` exports its own art. 23 records.

Configuration: the topology names its ``institution`` and the key of its client's
``private_key_jwt`` assertions (``signing_key``); the mesh and the issuer are the topology's.
The stated time (``give_up_within_s``, default 4 s) and the attempt timeout
(``attempt_timeout_s``, 1.5 s) come from ``settings.extra`` or ``MESHCERT_GIVE_UP_WITHIN_S`` /
``MESHCERT_ATTEMPT_TIMEOUT_S``. Scopes: ``allowance:apply``, ``allowance:read``,
``allowance:audit``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi import Path as FastAPIPath
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.childallowance.allowance import Decider
from meshcert_simulators.childallowance.applications import Applications
from meshcert_simulators.childallowance.background import Background
from meshcert_simulators.childallowance.config import mesh_client_for, retry_policy_for
from meshcert_simulators.childallowance.inquirer import Inquirer
from meshcert_simulators.childallowance.mesh_client import MeshClient
from meshcert_simulators.childallowance.models import (
    APPLICATION_ID,
    ApplicationRequest,
    ApplicationView,
    ProvisionRecordPage,
)
from meshcert_simulators.childallowance.retry import Clock, RetryPolicy
from meshcert_simulators.childallowance.store import AllowanceStore
from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.auth import require
from meshcert_simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    problem_responses,
    records_page,
    validated_response,
)
from meshcert_simulators.common.settings import Settings

APPLY, READ, AUDIT = "allowance:apply", "allowance:read", "allowance:audit"
APPLICATIONS = "/v1/applications"

# The module's docstring is the served API description (its contract); how the code is built
# is said here: the behaviour lives in parts on ``app.state`` (``_install_parts``), read at the
# time of each request, and routes only translate HTTP.


def create_app(settings: Settings) -> FastAPI:
    policy = retry_policy_for(settings)
    mesh = mesh_client_for(settings, policy.attempt_timeout_s)
    db = AllowanceStore(Path(settings.data_dir) / f"{settings.name}.sqlite3",
                        settings.sqlite_synchronous)
    app = build_app(settings, title="meshcert reference child-allowance system",
                    description=__doc__ or "", on_shutdown=db.close)
    _install_parts(app, db, mesh, policy)
    _install_routes(app)
    return app


def _install_parts(app: FastAPI, store: AllowanceStore, mesh: MeshClient,
                   policy: RetryPolicy) -> None:
    """Put the system's parts on ``app.state``; each reads the others from there at the time
    of use, so any one can be replaced on its own. The background work resumes at start and
    stops with the app."""
    app.state.store = store
    app.state.mesh = mesh          # tests set app.state.mesh.transport (an in-process mesh)
    app.state.retry_policy = policy
    app.state.clock = Clock()
    app.state.decider = Decider()
    app.state.inquirer = Inquirer(app.state)
    app.state.background = Background(app.state)
    app.state.applications = Applications(app.state)

    inner_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(host: FastAPI) -> AsyncIterator[Any]:
        app.state.background.resume()  # interrupted by a stop
        async with inner_lifespan(host) as state:
            try:
                yield state
            finally:
                await app.state.background.stop()
                await app.state.mesh.aclose()

    app.router.lifespan_context = lifespan


def _install_routes(app: FastAPI) -> None:
    """The HTTP API: each route authorizes, parses and answers; the work is the parts'."""
    state = app.state
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)

    def authorized(request: Request, role: str) -> None:
        require(state.authenticator.authenticate(request), role)

    def view(application_id: str) -> Response:
        content, status = state.applications.view(application_id)
        return validated_response(ApplicationView, content, status)

    @app.post(APPLICATIONS, response_model=ApplicationView, status_code=202,
              responses={200: {"description": "Already concluded (a resend)",
                               "model": ApplicationView}, **errors},
              tags=["applications"], operation_id="submitApplication",
              summary="Receive a child-allowance application (idempotent by application_id); "
                      "the inquiry and the decision follow in the background",
              openapi_extra=body_doc(ApplicationRequest, bodies))
    async def submit(request: Request) -> Response:
        authorized(request, APPLY)
        body = await json_body(request, ApplicationRequest)
        state.applications.receive(body)
        response = view(body.application_id)
        response.headers["Location"] = f"{APPLICATIONS}/{body.application_id}"
        return response

    @app.get(APPLICATIONS + "/{application_id}", response_model=ApplicationView,
             responses={202: {"description": "Still being processed",
                              "model": ApplicationView}, **errors},
             tags=["applications"], operation_id="getApplication",
             summary="State, decision and the notice to the person (202 while in progress)")
    async def get_application(
            request: Request,
            application_id: Annotated[str, FastAPIPath(pattern=APPLICATION_ID)]) -> Response:
        authorized(request, READ)
        return view(application_id)

    @app.get("/v1/provision-records", response_model=ProvisionRecordPage, responses=errors,
             tags=["records"], operation_id="exportProvisionRecords",
             summary="This system's own art. 23 records of its inquiries, oldest first")
    async def records(request: Request,
                      after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
        authorized(request, AUDIT)
        rows, more = state.store.records(after, limit)
        return validated_response(ProvisionRecordPage, records_page(rows, after, more))

    install_openapi(app, bodies)
