"""The public-fund account registry (公金受取口座登録簿): one account per person, in the person's
own name (the holder name checked against the registry's kana name: holder_name.py), with a
mobile phone and an e-mail.

Callers:
- the person (through the portal or a front service): the provider's access token for the
  portal's audience — ``PUT``/``GET``/``DELETE /v1/me/account`` (config.py says how the person
  is found);
- the mesh, routing an agency's query of item TM00000000000089 (single or a bulk file's row)
  here: ``POST /v1/provisions`` by this registry's 符号 (role ``accounts:provide``);
- the portal (role ``accounts:records``) and auditors: ``GET /v1/records?person=`` — every
  agency query, kept across restarts, oldest first;
- the harness's control plane (admin, outside the contract like the fault API):
  ``POST /_meshcert/accounts/seed`` registers accounts for load runs without a login.

A record id is answered once: an identical resend gets the first answer and writes no second
record; another query under a used record id is refused (409, recorded).
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.accounts.config import AccountsConfig
from meshcert_simulators.accounts.holder_name import (
    HolderNameError,
    checked_holder_name,
    matches,
    registry_kana,
)
from meshcert_simulators.accounts.models import (
    JUMINHYO_PATTERN,
    AccountAnswer,
    AccountIn,
    AccountOut,
    AccountProvisionResponse,
    ProvisionRequest,
    QueryRecordPage,
)
from meshcert_simulators.accounts.peers import Peers
from meshcert_simulators.accounts.persons import PersonAuth
from meshcert_simulators.accounts.provider import AccountProvider
from meshcert_simulators.accounts.store import SCHEMA, AccountStore
from meshcert_simulators.common import faults
from meshcert_simulators.common.app import build_stored_app
from meshcert_simulators.common.auth import ADMIN_ROLE, Caller, require
from meshcert_simulators.common.hot_routes import HotRoute
from meshcert_simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    only_query_parameters,
    problem_responses,
    records_page,
    validated_response,
)
from meshcert_simulators.common.identifiers import is_valid_juminhyo_code
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.wire import WireModel
from meshcert_simulators.gateway.tokens import GatewayAuthenticator

PROVIDE_ROLE = "accounts:provide"
RECORDS_ROLE = "accounts:records"
CONTROL = "/_meshcert/accounts"


class SeedRow(AccountIn):
    juminhyo_code: Annotated[str, Field(pattern=JUMINHYO_PATTERN)]


class SeedRequest(WireModel):
    rows: Annotated[list[SeedRow], Field(min_length=1, max_length=10_000)]


class SeedResult(WireModel):
    rows: int
    created: int
    holders: int


def create_app(settings: Settings) -> FastAPI:
    config = AccountsConfig.for_settings(settings)
    app, db = build_stored_app(
        settings, SCHEMA, title="meshcert public-fund account registry simulator",
        description="公金受取口座登録簿: one account per person in their own name, registered "
                    "by the person; agencies query it through the mesh and every query is "
                    "recorded for the person to see.")
    app.state.store = AccountStore(db, clock=faults.now)
    app.state.persons = PersonAuth(settings, config)
    # Fault plans and the exchange capture see the client a person's token was issued to.
    app.state.authenticator = GatewayAuthenticator(app.state.authenticator,
                                                   app.state.persons.verifier)
    # None: the network; tests serve the registry and the mesh in-process through these.
    app.state.registry_transport = None
    app.state.mesh_transport = None
    app.state.peers = Peers(app.state, settings, config)
    app.state.provider = AccountProvider(app.state)
    _install_routes(app)
    return app


def _install_routes(app: FastAPI) -> None:
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 502, 503)

    def caller(request: Request, role: str) -> Caller:
        who = app.state.authenticator.authenticate(request)
        require(who, role)
        return who

    def account_out(model: type[BaseModel], account: dict[str, Any], status: int = 200,
                    **extra: Any) -> Response:
        fields = {k: v for k, v in account.items() if k in model.model_fields}
        return validated_response(model, {**fields, **extra}, status)

    @app.put("/v1/me/account", response_model=AccountAnswer, status_code=201,
             responses={200: {"description": "Changed", "model": AccountAnswer}, **errors},
             tags=["person"], operation_id="putMyAccount",
             summary="Register (201) or change (200) the person's one account; the holder "
                     "name must be the person's registered kana name as a bank reads it",
             openapi_extra=body_doc(AccountIn, bodies))
    async def put_account(request: Request) -> Response:
        person = await app.state.persons.person(request)
        body = await json_body(request, AccountIn)
        try:
            holder = checked_holder_name(body.holder_kana)
        except HolderNameError as exc:
            raise Problem(422, "invalid-holder-name", "The holder name breaks a rule",
                          str(exc)) from None
        record = await app.state.peers.resident(person)
        name = record.get("name") or {}
        surname, given = name.get("surname_kana", ""), name.get("given_name_kana", "")
        if not matches(holder, surname, given):
            raise Problem(422, "holder-name-mismatch", "Not in the person's own name",
                          "the holder name must be the registered kana name "
                          f"{registry_kana(surname, given)!r} (small kana may be written "
                          "large, as banks do)")
        code = await app.state.peers.mesh_code(person)
        account, created = app.state.store.put(person, code,
                                               {**body.model_dump(), "holder_kana": holder})
        return account_out(AccountAnswer, account, 201 if created else 200, created=created)

    @app.get("/v1/me/account", response_model=AccountOut, responses=errors, tags=["person"],
             operation_id="getMyAccount", summary="The person's registered account")
    async def get_account(request: Request) -> Response:
        person = await app.state.persons.person(request)
        only_query_parameters(request)
        account = app.state.store.account(person)
        if account is None:
            raise Problem(404, "no-account", "No account registered",
                          "this person has no public-fund account registered")
        return account_out(AccountOut, account)

    @app.delete("/v1/me/account", status_code=204, responses=errors, tags=["person"],
                operation_id="deleteMyAccount",
                summary="Remove the person's account: agencies' queries find none from now on")
    async def delete_account(request: Request) -> Response:
        person = await app.state.persons.person(request)
        if not app.state.store.remove(person):
            raise Problem(404, "no-account", "No account registered",
                          "this person has no public-fund account registered")
        return Response(status_code=204)

    @app.api_route("/v1/me/account", methods=["POST", "PATCH", "HEAD", "OPTIONS"],
                   include_in_schema=False)
    async def other_methods() -> Response:
        # One route per method would make a 405 name only the first route's method in Allow.
        raise Problem(405, "method-not-allowed", "Method not allowed",
                      headers={"Allow": "GET, PUT, DELETE"})

    @app.post("/v1/provisions", response_model=AccountProvisionResponse, responses=errors,
              tags=["provisions"], operation_id="provide",
              summary="Answer the mesh's routing of an agency's query by this registry's 符号 "
                      "(line 09; item 01 provided, 02 no account, 03 item not provided)",
              openapi_extra=body_doc(ProvisionRequest, bodies))
    async def post_provision(request: Request) -> Response:
        who = app.state.authenticator.authenticate(request)
        if not who.has(PROVIDE_ROLE):
            try:
                refused = await json_body(request, ProvisionRequest)
            except Problem:
                refused = None
            if refused is not None:
                app.state.provider.record_refusal(refused, who)
            require(who, PROVIDE_ROLE)
        body = await json_body(request, ProvisionRequest)
        digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        answer = await app.state.provider.provide(body, who, digest)
        return validated_response(AccountProvisionResponse, answer)

    # A benefit payout routes a bulk file's rows here one by one: a hot route (hot_routes.py).
    app.state.hot_routes.append(HotRoute("POST", re.compile(r"/v1/provisions"), post_provision))

    @app.get("/v1/records", response_model=QueryRecordPage, responses=errors,
             tags=["records"], operation_id="listQueryRecords",
             summary=f"The agencies' queries of accounts, of one person with ``person`` "
                     f"(住民票コード), oldest first ({RECORDS_ROLE}: the portal)")
    async def get_records(request: Request,
                          person: Annotated[str | None, Query(pattern=JUMINHYO_PATTERN)] = None,
                          after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
        caller(request, RECORDS_ROLE)
        only_query_parameters(request, "person", "after", "limit")
        records, more = app.state.store.records(person, after, limit)
        return validated_response(QueryRecordPage, records_page(records, after, more))

    @app.post(f"{CONTROL}/seed", include_in_schema=False)
    async def seed(request: Request) -> Response:
        """Accounts for load runs and demos, without a login or the holder-name check (admin):
        each row gets this registry's 符号 from the mesh, as a registration does."""
        caller(request, ADMIN_ROLE)
        body = await json_body(request, SeedRequest)
        for row in body.rows:
            if not is_valid_juminhyo_code(row.juminhyo_code):
                raise Problem(422, "invalid-juminhyo-code", "Invalid 住民票コード",
                              f"{row.juminhyo_code}: the check digit does not match")
        created = 0
        for row in body.rows:
            code = await app.state.peers.mesh_code(row.juminhyo_code)
            _, new = app.state.store.put(row.juminhyo_code, code, row.model_dump())
            created += new
        return validated_response(SeedResult, {"rows": len(body.rows), "created": created,
                                               "holders": app.state.store.holders()})

    install_openapi(app, bodies)
