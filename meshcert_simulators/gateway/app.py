"""The gov-private API gateway simulator (公金・民間連携の API ゲートウェイ): private services
(relying parties) registered with a purpose and allowed scopes get a person's basic facts with
the person's signed consent, read from the resident registry at request time, within the
consent's scopes only; every provision is recorded for the person.

Callers: the provider (idp) records consents (role ``gateway:consent``);
relying parties read facts with the provider's access tokens (``aud`` urn:meshcert:gateway);
``gateway:audit`` (and admin) reads provision records; the harness's control plane
(``/_meshcert/gateway/...``, admin, outside the contract like the fault API) registers clients
and revokes consents. Usage: meshcert_simulators/gateway/README.md.

The behaviour lives in parts on ``app.state``, read by the routes at the time of each request,
so each can be replaced on its own: ``callers`` (who calls), ``clients`` (registrations),
``people`` (registry reads), ``consents`` (the consent recorder), ``revocation``, ``facts`` (the
facts provider), ``limits`` (the rate limiter), ``provision_records`` (the record reader) and
``store``; the peers ``jpki``, ``verifier`` / ``idp_keys``, ``introspection`` and
``registry_transport`` (tests put them in-process). Routes only translate HTTP.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi import Path as PathParam
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common import faults
from meshcert_simulators.common.app import build_stored_app
from meshcert_simulators.common.auth import ADMIN_ROLE
from meshcert_simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    only_query_parameters,
    problem_responses,
    validated_response,
)
from meshcert_simulators.common.registry_client import RegistryAccess, own_client
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.storage import Database
from meshcert_simulators.common.tls import trust_for
from meshcert_simulators.gateway.callers import Callers
from meshcert_simulators.gateway.clients import Clients
from meshcert_simulators.gateway.config import GatewayConfig
from meshcert_simulators.gateway.consents import ConsentRecorder
from meshcert_simulators.gateway.evidence import Jpki
from meshcert_simulators.gateway.facts import FactsProvider
from meshcert_simulators.gateway.limits import RateLimits
from meshcert_simulators.gateway.models import (
    CLIENT_ID,
    CONSENT_ID,
    JUMINHYO,
    SUB,
    ClientOut,
    ClientRegistration,
    ConsentOut,
    ConsentRequest,
    FactsOut,
    HarnessRevocation,
    ProvisionRecordPage,
    RevokedConsents,
)
from meshcert_simulators.gateway.people import People
from meshcert_simulators.gateway.records import ProvisionRecords
from meshcert_simulators.gateway.revocation import Revocation
from meshcert_simulators.gateway.store import SCHEMA, GatewayStore
from meshcert_simulators.gateway.tokens import (
    INTROSPECT_ROLE,
    AccessTokenVerifier,
    GatewayAuthenticator,
    IdpKeys,
    Introspection,
)

CONSENT_ROLE = "gateway:consent"
AUDIT_ROLE = "gateway:audit"
CONTROL = "/_meshcert/gateway"

ConsentId = Annotated[str, PathParam(pattern=CONSENT_ID, description="A consent's id")]
Errors = dict[int | str, dict[str, Any]]

_json = validated_response  # every answer is checked against its documented model


def create_app(settings: Settings) -> FastAPI:
    config = GatewayConfig.for_settings(settings)
    app, db = build_stored_app(
        settings, SCHEMA, title="meshcert gov-private API gateway simulator",
        description="Consent records with JPKI signature evidence, the basic facts of the "
                    "consented scopes for private services (read from the resident registry at "
                    "request time), per-client rate limits, and the provision records kept for "
                    "each person.")
    _install_parts(app, settings, config, db)
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 502, 503)
    # In the order of the published contract; the control plane last (outside it).
    _install_consents(app, bodies, errors)
    _install_facts(app, errors)
    _install_control(app)
    install_openapi(app, bodies)
    return app


def _verifier(settings: Settings, config: GatewayConfig) -> AccessTokenVerifier | None:
    if config.issuer is None:
        return None
    keys = (IdpKeys.from_file(config.jwks_file) if config.jwks_file
            else IdpKeys(config.jwks_url, verify=trust_for(settings.tls_dir)))
    return AccessTokenVerifier(config.issuer, config.audience, keys)


def _introspection(settings: Settings, config: GatewayConfig) -> Introspection | None:
    """Asking the provider whether a token is still live (RFC 7662): with a provider of the
    topology and a credential of the gateway's holding ``idp:introspect``; otherwise tokens
    are judged by their signature and lifetime alone."""
    client = own_client(settings)
    if config.jwks_url is None or client is None or client.token is None \
            or INTROSPECT_ROLE not in client.roles:
        return None
    return Introspection(f"{config.issuer}/introspect", client.token,
                         verify=trust_for(settings.tls_dir))


def _install_parts(app: FastAPI, settings: Settings, config: GatewayConfig,
                   db: Database) -> None:
    """Put the gateway's parts and peers on ``app.state``; each part reads the others from
    there at the time of use, so any one can be replaced on its own."""
    state = app.state
    verifier = _verifier(settings, config)
    state.verifier = verifier
    state.introspection = _introspection(settings, config)
    state.authenticator = GatewayAuthenticator(state.authenticator, verifier)
    state.store = GatewayStore(db, clock=faults.now)
    state.limits = RateLimits()
    # Peers over HTTP; tests put in-process transports on these.
    state.jpki = Jpki(config.jpki_url, verify=trust_for(settings.tls_dir))
    state.idp_keys = verifier.keys if verifier else None
    state.registry_access = RegistryAccess.or_problem(settings)
    state.registry_transport = None
    state.callers = Callers(state)
    state.clients = Clients(state)
    state.people = People(state)
    state.consents = ConsentRecorder(state, config.consent_lifetime)
    state.revocation = Revocation(state)
    state.facts = FactsProvider(state)
    state.provision_records = ProvisionRecords(state)
    state.clients.register_topology(settings, config.default_rate_limit)


def _install_consents(app: FastAPI, bodies: list[type[BaseModel]], errors: Errors) -> None:
    """Recording consents (the provider) and revoking them (the person)."""
    state = app.state

    @app.post("/v1/consents", response_model=ConsentOut, status_code=201, responses=errors,
              tags=["consents"], operation_id="recordConsent",
              summary="Record a person's consent with its signature evidence (the provider)",
              openapi_extra=body_doc(ConsentRequest, bodies))
    async def post_consent(request: Request) -> Response:
        state.callers.with_role(request, CONSENT_ROLE)
        body = await json_body(request, ConsentRequest)
        return _json(ConsentOut, await state.consents.record(body), 201)

    @app.delete("/v1/consents/{consent_id}", status_code=204, responses=errors,
                tags=["consents"], operation_id="revokeConsent",
                summary="The person revokes a consent: from the next request on, the client "
                        "gets nothing more",
                description="Authenticated as the person: the provider's access token of the "
                            "client and person of the consent (same client_id and sub), or "
                            "the provider itself acting for the person (gateway:consent).")
    async def delete_consent(request: Request, consent_id: ConsentId) -> Response:
        if state.callers.carries_access_token(request):
            claims = await state.callers.access_token(request)
            state.revocation.by_person(consent_id, claims)
        else:
            state.callers.with_role(request, CONSENT_ROLE)
            state.revocation.via_provider(consent_id)
        return Response(status_code=204)


def _install_facts(app: FastAPI, errors: Errors) -> None:
    """The facts for relying parties, and the provision records kept of them."""
    state = app.state

    @app.get("/v1/basic-facts", response_model=FactsOut, responses=errors, tags=["facts"],
             operation_id="getBasicFacts",
             summary="The person's basic facts of the consented scopes, read from the "
                     "registry now (the provider's access token of a relying party)")
    async def get_facts(request: Request) -> Response:
        only_query_parameters(request)
        requested_at = faults.now()
        claims = await state.callers.access_token(request)
        return _json(FactsOut, await state.facts.provide(claims, requested_at))

    @app.get("/v1/provision-records", response_model=ProvisionRecordPage, responses=errors,
             tags=["records"], operation_id="listProvisionRecords",
             summary="The provisions recorded for a person (by sub, or by 住民票コード for the "
                     "portal; gateway:audit), or a person's own with their access token")
    async def get_records(
            request: Request,
            sub: Annotated[str | None, Query(pattern=SUB)] = None,
            client_id: Annotated[str | None, Query(pattern=CLIENT_ID)] = None,
            juminhyo_code: Annotated[str | None, Query(pattern=JUMINHYO)] = None,
            after: Annotated[int, Query(ge=0, le=2**62)] = 0,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
        only_query_parameters(request, "sub", "client_id", "juminhyo_code", "after", "limit")
        filters = {k: v for k, v in (("sub", sub), ("client_id", client_id),
                                     ("juminhyo_code", juminhyo_code)) if v is not None}
        claims = None
        if state.callers.carries_access_token(request):
            claims = await state.callers.access_token(request)
        else:
            state.callers.with_role(request, AUDIT_ROLE)
        return _json(ProvisionRecordPage,
                     state.provision_records.page(filters, after, limit, claims))


def _install_control(app: FastAPI) -> None:
    """The harness's control plane (admin; outside the contract, like the fault API)."""
    state = app.state

    @app.post(f"{CONTROL}/clients", include_in_schema=False)
    async def post_client(request: Request) -> Response:
        state.callers.with_role(request, ADMIN_ROLE)
        body = await json_body(request, ClientRegistration)
        return _json(ClientOut, state.clients.register(
            body.client_id, body.purpose, body.scopes, body.rate_limit_per_s), 201)

    @app.post(f"{CONTROL}/consents/revoke", include_in_schema=False)
    async def post_harness_revoke(request: Request) -> Response:
        state.callers.with_role(request, ADMIN_ROLE)
        body = await json_body(request, HarnessRevocation)
        return _json(RevokedConsents, {"revoked": state.revocation.by_harness(
            body.client_id, body.juminhyo_code)})
