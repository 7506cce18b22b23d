"""The portal simulator (a Mynaportal-like service): a person — directly, or through a front
service, or as someone's proxy — sees their own information (自己情報), the exchanges of their
data (やりとり履歴) and notices (お知らせ), manages proxies, files the online move-out (転出届)
to the old municipality's registry and follows its real status, and files e-applications.

Callers: persons, with the idp's access token (``aud`` names the portal; issued to the portal
or to a front service); the harness's control plane (``/_meshcert/portal/...``, admin, outside
the contract like the fault and exchange APIs). Usage: meshcert_simulators/portal/README.md.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query
from fastapi import Path as PathParam
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common import faults
from meshcert_simulators.common.app import build_stored_app
from meshcert_simulators.common.auth import ADMIN_ROLE, KeysUnavailable, require
from meshcert_simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    only_query_parameters,
    problem_responses,
    validated_response,
)
from meshcert_simulators.common.paging import split_page
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.tls import trust_for
from meshcert_simulators.gateway.tokens import (
    AccessTokenVerifier,
    GatewayAuthenticator,
    IdpKeys,
    PersonLink,
)
from meshcert_simulators.mesh.legal_basis import load_legal_basis
from meshcert_simulators.portal import control
from meshcert_simulators.portal.config import PortalConfig
from meshcert_simulators.portal.context import Portal
from meshcert_simulators.portal.filings import (
    MOVEOUT,
    application_shown,
    file_application,
    file_moveout,
    moveout_view,
    visible_filing,
)
from meshcert_simulators.portal.history import history
from meshcert_simulators.portal.identity import PersonTokens
from meshcert_simulators.portal.models import (
    APPLICATION_ID,
    DELEGATION_ID,
    KEY,
    MOVEOUT_ID,
    NOTICE_ID,
    Application,
    ApplicationRequest,
    Delegation,
    DelegationList,
    DelegationRequest,
    HistoryPage,
    Moveout,
    MoveoutRequest,
    Notice,
    NoticeList,
    NoticePush,
    NoticeReceipt,
    SelfInfo,
)
from meshcert_simulators.portal.notices import NOTIFY_ROLE, follow, push
from meshcert_simulators.portal.peers import Peers
from meshcert_simulators.portal.proxies import delegate, shown
from meshcert_simulators.portal.selfinfo import self_info
from meshcert_simulators.portal.store import SCHEMA, PortalStore

INTROSPECT_ROLES = ("idp:introspect", "idp:person-link")

DelegationId = Annotated[str, PathParam(pattern=DELEGATION_ID)]
MoveoutId = Annotated[str, PathParam(pattern=MOVEOUT_ID)]
ApplicationId = Annotated[str, PathParam(pattern=APPLICATION_ID)]
NoticeId = Annotated[str, PathParam(pattern=NOTICE_ID)]
IdempotencyHeader = Annotated[str | None, Header(
    alias="Idempotency-Key", pattern=KEY,
    description="The filing's idempotency key (instead of idempotency_key in the body)")]


def _tokens(settings: Settings, config: PortalConfig) -> PersonTokens:
    if config.issuer is None:
        return PersonTokens(None, None)
    keys = (IdpKeys.from_file(config.jwks_file) if config.jwks_file
            else IdpKeys(config.jwks_url, verify=trust_for(settings.tls_dir)))
    verifier = AccessTokenVerifier(config.issuer, config.audience, keys)
    credential = config.credential
    link = None
    if credential is not None and credential.token is not None \
            and all(r in credential.roles for r in INTROSPECT_ROLES):
        link = PersonLink(f"{config.issuer}/introspect", credential.token,
                          verify=trust_for(settings.tls_dir))
    return PersonTokens(verifier, link)


def _warm_keys(app: FastAPI, tokens: PersonTokens) -> None:
    """Fetch the idp's keys at start (if it answers by then): fault plans and exchange capture
    tell a request's client from its token before any handler runs, with the keys at hand —
    without them a front service's very first request would go unrecognised."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[Any]:
        if tokens.verifier is not None:
            with contextlib.suppress(KeysUnavailable):
                await tokens.verifier.keys.ensure(None)
        async with inner(started) as state:
            yield state

    app.router.lifespan_context = lifespan


def create_app(settings: Settings) -> FastAPI:
    config = PortalConfig.for_settings(settings)
    app, db = build_stored_app(
        settings, SCHEMA, title="meshcert portal simulator",
        description="A Mynaportal-like service: the person's own information, the history of "
                    "exchanges of their data, notices, proxies with scoped delegations, the "
                    "online move-out forwarded to the registry with its live status, and "
                    "e-application intake.")
    portal = Portal(config, PortalStore(db, clock=faults.now), Peers(settings), faults.now)
    tokens = _tokens(settings, config)
    app.state.authenticator = GatewayAuthenticator(app.state.authenticator, tokens.verifier)
    _warm_keys(app, tokens)
    app.state.portal = portal
    app.state.tokens = tokens
    # Tests serve the peers in-process: base URL -> httpx transport.
    app.state.peer_mounts = portal.peers.mounts
    app.state.feed_lock = asyncio.Lock()
    legal_path = settings.extra.get("legal_basis")
    table = load_legal_basis(Path(legal_path) if legal_path else None)
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 502, 503)

    def _json(model: type[BaseModel], content: dict[str, Any], status: int = 200) -> Response:
        return validated_response(model, content, status)

    async def notices_now(person: str) -> list[dict[str, Any]]:
        await follow(portal, app.state.feed_lock)
        return portal.store.notices_of(person)

    # -- 自己情報, やりとり履歴 ---------------------------------------------------------------

    @app.get("/v1/me", response_model=SelfInfo, responses=errors, tags=["me"],
             operation_id="getSelfInfo",
             summary="自己情報: the registry's facts of the person and household, and the items "
                     "the legal-basis table lets the portal obtain for them")
    async def get_me(request: Request) -> Response:
        only_query_parameters(request)
        person = await tokens.person(request)
        return _json(SelfInfo, await self_info(portal, table, person.juminhyo_code))

    @app.get("/v1/me/history", response_model=HistoryPage, responses=errors, tags=["me"],
             operation_id="getHistory",
             summary="やりとり履歴: the mesh's art. 23 records, the gateway's provision records "
                     "and the account registry's queries about the person, newest first",
             description="Non-disclosable records are never shown. `after` is the `seq` of "
                         "the last entry read (entries are numbered newest first at read "
                         "time).")
    async def get_history(request: Request,
                          after: Annotated[int, Query(ge=0, le=2**31)] = 0,
                          limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Response:
        only_query_parameters(request, "after", "limit")
        person = await tokens.person(request)
        entries, unavailable = await history(portal, person.juminhyo_code)
        page, more = split_page(entries[after:], limit)
        return _json(HistoryPage, {"entries": page,
                                   "next_after": page[-1]["seq"] if page else after,
                                   "has_more": more, "unavailable_sources": unavailable})

    # -- お知らせ ----------------------------------------------------------------------------

    @app.get("/v1/me/notices", response_model=NoticeList, responses=errors, tags=["notices"],
             operation_id="listNotices", summary="お知らせ: the person's notices, newest first")
    async def get_notices(request: Request) -> Response:
        only_query_parameters(request)
        person = await tokens.person(request)
        notices = await notices_now(person.juminhyo_code)
        return _json(NoticeList, {"notices": notices,
                                  "unread": sum(n["read_at"] is None for n in notices)})

    @app.post("/v1/me/notices/{notice_id}/read", response_model=Notice, responses=errors,
              tags=["notices"], operation_id="markNoticeRead", summary="Mark a notice read")
    async def post_read(request: Request, notice_id: NoticeId) -> Response:
        person = await tokens.person(request)
        notice = portal.store.mark_read(person.juminhyo_code, notice_id)
        if notice is None:
            raise Problem(404, "notice-not-found", "No such notice of yours", notice_id)
        return _json(Notice, notice)

    @app.post("/v1/notices", response_model=NoticeReceipt, status_code=201,
              responses={200: {"description": "The same key again: the same notice",
                               "model": NoticeReceipt}, **errors},
              tags=["notices"], operation_id="pushNotice",
              summary="An institution pushes a notice to a person (e.g. a benefit's payment)",
              description=f"For institutions holding `{NOTIFY_ROLE}` (a static token of the "
                          "topology, or an access token of its issuer with that scope). "
                          "Idempotent by the sender's key (body or Idempotency-Key header): "
                          "the same key again is 200 with the same notice; with another "
                          "notice, 409 idempotency-key-reused.",
              openapi_extra=body_doc(NoticePush, bodies))
    async def post_notice(request: Request,
                          idempotency_key: IdempotencyHeader = None) -> Response:
        sender = app.state.authenticator.authenticate(request)
        require(sender, NOTIFY_ROLE)
        body = await json_body(request, NoticePush)
        notice, created = push(portal, sender.client_id, body, idempotency_key)
        return _json(NoticeReceipt, notice, 201 if created else 200)

    # -- 代理人 ------------------------------------------------------------------------------

    @app.post("/v1/me/proxies", response_model=Delegation, status_code=201, responses=errors,
              tags=["proxies"], operation_id="delegate",
              summary="Register a proxy with a scoped delegation (procedures, until when)",
              openapi_extra=body_doc(DelegationRequest, bodies))
    async def post_proxy(request: Request) -> Response:
        person = await tokens.person(request)
        body = await json_body(request, DelegationRequest)
        made = await delegate(portal, person, body)
        return _json(Delegation, shown(made, person.juminhyo_code, portal.clock()), 201)

    @app.get("/v1/me/proxies", response_model=DelegationList, responses=errors,
             tags=["proxies"], operation_id="listDelegations",
             summary="The delegations the person granted and received")
    async def get_proxies(request: Request) -> Response:
        only_query_parameters(request)
        person = await tokens.person(request)
        now = portal.clock()
        return _json(DelegationList, {"delegations": [
            shown(d, person.juminhyo_code, now)
            for d in portal.store.delegations_of(person.juminhyo_code)]})

    @app.api_route("/v1/me/proxies", methods=["PUT", "PATCH", "DELETE", "OPTIONS"],
                   include_in_schema=False)
    async def other_proxy_methods() -> Response:
        # One route per method would make a 405 name only the first route's method in Allow.
        raise Problem(405, "method-not-allowed", "Method not allowed",
                      headers={"Allow": "GET, POST"})

    @app.delete("/v1/me/proxies/{delegation_id}", status_code=204, responses=errors,
                tags=["proxies"], operation_id="revokeDelegation",
                summary="The principal revokes a delegation: refused from the proxy's very "
                        "next request")
    async def delete_proxy(request: Request, delegation_id: DelegationId) -> Response:
        person = await tokens.person(request)
        found = portal.store.delegation(delegation_id)
        if found is None or found["principal"] != person.juminhyo_code:
            raise Problem(404, "delegation-not-found", "No such delegation of yours",
                          delegation_id)
        portal.store.revoke_delegation(delegation_id)
        return Response(status_code=204)

    # -- 転出届 ------------------------------------------------------------------------------

    @app.post("/v1/moveouts", response_model=Moveout, status_code=201,
              responses={200: {"description": "The same key again: the same filing",
                               "model": Moveout}, **errors},
              tags=["moveouts"], operation_id="fileMoveout",
              summary="File the online move-out (転出届), by the person or a proxy",
              description="Forwarded to the old municipality's registry intake; its refusals "
                          "(e.g. 422 outside-filing-window) are passed on as they were said. "
                          "The move-in reservation (転入予約) at the new municipality is made "
                          "with it. Idempotent by key (body or Idempotency-Key header).",
              openapi_extra=body_doc(MoveoutRequest, bodies))
    async def post_moveout(request: Request,
                           idempotency_key: IdempotencyHeader = None) -> Response:
        person = await tokens.person(request)
        body = await json_body(request, MoveoutRequest)
        filing, created = await file_moveout(portal, person, body, idempotency_key)
        return _json(Moveout, filing, 201 if created else 200)

    @app.get("/v1/moveouts/{moveout_id}", response_model=Moveout, responses=errors,
             tags=["moveouts"], operation_id="getMoveout",
             summary="A move-out with its live status from the registry (受付 → 処理中 → 完了)")
    async def get_moveout(request: Request, moveout_id: MoveoutId) -> Response:
        only_query_parameters(request)
        person = await tokens.person(request)
        doc = visible_filing(portal, person, MOVEOUT, moveout_id)
        return _json(Moveout, await moveout_view(portal, doc))

    # -- 電子申請 ----------------------------------------------------------------------------

    @app.post("/v1/applications", response_model=Application, status_code=201,
              responses={200: {"description": "The same key again: the same application",
                               "model": Application}, **errors},
              tags=["applications"], operation_id="fileApplication",
              summary="E-application intake for other procedures (idempotent by key)",
              openapi_extra=body_doc(ApplicationRequest, bodies))
    async def post_application(request: Request,
                               idempotency_key: IdempotencyHeader = None) -> Response:
        person = await tokens.person(request)
        body = await json_body(request, ApplicationRequest)
        filing, created = file_application(portal, person, body, idempotency_key)
        return _json(Application, filing, 201 if created else 200)

    @app.get("/v1/applications/{application_id}", response_model=Application,
             responses=errors, tags=["applications"], operation_id="getApplication",
             summary="An e-application filed by or for the person")
    async def get_application(request: Request, application_id: ApplicationId) -> Response:
        only_query_parameters(request)
        person = await tokens.person(request)
        doc = visible_filing(portal, person, "application", application_id)
        return _json(Application, application_shown(doc))

    def admin(request: Request) -> None:
        require(app.state.authenticator.authenticate(request), ADMIN_ROLE)

    control.install(app, portal, admin, lambda: follow(portal, app.state.feed_lock))
    install_openapi(app, bodies)
    return app
