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

import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi import Path as FastAPIPath
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.authz.tokens import load_signing_key
from meshcert_simulators.childallowance.allowance import Decider
from meshcert_simulators.childallowance.background import Background
from meshcert_simulators.childallowance.inquirer import Inquirer, iso
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
from meshcert_simulators.common.identifiers import is_valid_juminhyo_code, is_valid_my_number
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings

APPLY, READ, AUDIT = "allowance:apply", "allowance:read", "allowance:audit"
APPLICATIONS = "/v1/applications"


def _seconds(settings: Settings, name: str, default: float) -> float:
    raw = settings.extra.get(name) or os.environ.get(f"MESHCERT_{name.upper()}")
    value = float(raw) if raw else default
    if not 0 < value <= 3600:
        raise ValueError(f"{name} must be between 0 and 3600 seconds, not {raw}")
    return value


def mesh_client_for(settings: Settings, timeout_s: float) -> MeshClient:
    """Its client at the topology's mesh, as the institution the topology names for it."""
    topology, spec = settings.topology, settings.spec
    institution = topology.institution(spec.institution or "")
    if institution is None or "inquirer" not in institution.roles:
        raise ValueError(f"simulators.{settings.name}.institution must name an inquirer "
                         f"institution of the topology, not {spec.institution!r}")
    if spec.signing_key is None:
        raise ValueError(f"simulators.{settings.name}.signing_key: the private JWK of client "
                         f"{institution.client!r} is needed for private_key_jwt")
    mesh = next((n for n, s in topology.simulators.items() if s.kind == "mesh"), None)
    issuer = topology.issuer_url()
    if mesh is None or issuer is None:
        raise ValueError("the topology needs a mesh simulator and an issuer")
    return MeshClient(mesh_url=topology.url(mesh), token_endpoint=f"{issuer}/oauth/token",
                      client_id=institution.client, key=load_signing_key(Path(spec.signing_key)),
                      audience=topology.audience(mesh), timeout_s=timeout_s)


def create_app(settings: Settings) -> FastAPI:
    policy = RetryPolicy(give_up_within_s=_seconds(settings, "give_up_within_s", 4.0),
                         attempt_timeout_s=_seconds(settings, "attempt_timeout_s", 1.5))
    mesh = mesh_client_for(settings, policy.attempt_timeout_s)
    db = AllowanceStore(Path(settings.data_dir) / f"{settings.name}.sqlite3",
                        settings.sqlite_synchronous)
    app = build_app(settings, title="meshcert reference child-allowance system",
                    description=__doc__ or "", on_shutdown=db.close)
    app.state.store = db
    app.state.mesh = mesh          # tests set app.state.mesh.transport (an in-process mesh)
    app.state.retry_policy = policy
    app.state.clock = Clock()
    app.state.decider = Decider()
    app.state.inquirer = Inquirer(app.state)
    app.state.background = Background(app.state)
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)

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

    def view(application_id: str) -> Response:
        row = app.state.store.application(application_id)
        if row is None:
            raise Problem(404, "application-not-found", "No such application",
                          f"no application {application_id!r}")
        return validated_response(ApplicationView, {
            "application_id": application_id, "state": row["state"],
            "received_at": row["received_at"], "updated_at": row["updated_at"],
            "give_up_at": row["give_up_at"], "decision": row["decision"],
            "notice": row["notice"],
            "inquiries": app.state.store.inquiries_of(application_id)},
            202 if row["state"] in ("received", "inquiring") else 200)

    @app.post(APPLICATIONS, response_model=ApplicationView, status_code=202,
              responses={200: {"description": "Already concluded (a resend)",
                               "model": ApplicationView}, **errors},
              tags=["applications"], operation_id="submitApplication",
              summary="Receive a child-allowance application (idempotent by application_id); "
                      "the inquiry and the decision follow in the background",
              openapi_extra=body_doc(ApplicationRequest, bodies))
    async def submit(request: Request) -> Response:
        require(app.state.authenticator.authenticate(request), APPLY)
        body = await json_body(request, ApplicationRequest)
        if not is_valid_juminhyo_code(body.applicant.juminhyo_code):
            raise Problem(422, "invalid-juminhyo-code", "Invalid 住民票コード",
                          "the check digit of the applicant's 住民票コード does not match")
        if not is_valid_my_number(body.applicant.my_number):
            raise Problem(422, "invalid-my-number", "Invalid My Number",
                          "the check digit of the applicant's My Number does not match")
        clock, policy = app.state.clock, app.state.retry_policy
        today: date = clock.now().date() + timedelta(days=1)  # any time zone's today
        late = [c.name for c in body.children if c.birth_date > today]
        if late:
            raise Problem(422, "birth-date-in-future", "Birth date in the future",
                          f"children born after today: {late}")
        form = json.loads(body.model_dump_json())
        digest = hashlib.sha256(json.dumps(form, sort_keys=True).encode()).hexdigest()
        now = clock.now()
        kind, _ = app.state.store.receive(
            body.application_id, digest, form, iso(now),
            iso(now + timedelta(seconds=policy.give_up_within_s)))
        if kind == "conflict":
            raise Problem(409, "application-id-reused", "Application id already used",
                          f"application {body.application_id!r} was received with another "
                          "content")
        app.state.background.start(body.application_id)
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
        require(app.state.authenticator.authenticate(request), READ)
        return view(application_id)

    @app.get("/v1/provision-records", response_model=ProvisionRecordPage, responses=errors,
             tags=["records"], operation_id="exportProvisionRecords",
             summary="This system's own art. 23 records of its inquiries, oldest first")
    async def records(request: Request,
                      after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
        require(app.state.authenticator.authenticate(request), AUDIT)
        rows, more = app.state.store.records(after, limit)
        return validated_response(ProvisionRecordPage, records_page(rows, after, more))

    install_openapi(app, bodies)
    return app
