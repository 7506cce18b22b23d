"""The gov-private API gateway simulator (公金・民間連携の API ゲートウェイ): private services
(relying parties) registered with a purpose and allowed scopes get a person's basic facts with
the person's signed consent, read from the resident registry at request time, within the
consent's scopes only; every provision is recorded for the person.

Callers: the provider (idp) records consents (role ``gateway:consent``);
relying parties read facts with the provider's access tokens (``aud`` urn:meshcert:gateway);
``gateway:audit`` (and admin) reads provision records; the harness's control plane
(``/_meshcert/gateway/...``, admin, outside the contract like the fault API) registers clients
and revokes consents. Usage: meshcert_simulators/gateway/README.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi import Path as PathParam
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common import exchanges, faults
from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.auth import (
    ADMIN_ROLE,
    REALM,
    Caller,
    KeysUnavailable,
    TokenRejected,
    invalid_token,
    require,
)
from meshcert_simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    only_query_parameters,
    problem_responses,
    records_page,
    validated_response,
)
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.registry_client import RegistryAccess, find_person, own_client
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.storage import Database
from meshcert_simulators.common.tls import trust_for
from meshcert_simulators.contracts.basic_facts import (
    FACT_SCOPES,
    basic_facts,
    facts_for_scopes,
)
from meshcert_simulators.gateway.config import GatewayConfig
from meshcert_simulators.gateway.evidence import (
    Jpki,
    check_evidence,
    check_person,
    check_signed_text,
)
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
from meshcert_simulators.gateway.store import SCHEMA, GatewayStore, stamp
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


def create_app(settings: Settings) -> FastAPI:
    config = GatewayConfig.for_settings(settings)
    db = Database(Path(settings.data_dir) / f"{settings.name}.sqlite3", SCHEMA,
                  settings.sqlite_synchronous)
    store = GatewayStore(db, clock=faults.now)
    app = build_app(settings, title="meshcert gov-private API gateway simulator",
                    description="Consent records with JPKI signature evidence, the basic facts "
                                "of the consented scopes for private services (read from the "
                                "resident registry at request time), per-client rate limits, "
                                "and the provision records kept for each person.",
                    on_shutdown=db.close)
    exchanges.install(app)
    verifier = _verifier(settings, config)
    introspection = _introspection(settings, config)
    app.state.introspection = introspection
    app.state.authenticator = GatewayAuthenticator(app.state.authenticator, verifier)
    app.state.store = store
    app.state.limits = RateLimits()
    # Peers over HTTP; tests put in-process transports on these.
    app.state.jpki = Jpki(config.jpki_url, verify=trust_for(settings.tls_dir))
    app.state.idp_keys = verifier.keys if verifier else None
    app.state.registry_transport = None
    registry_access = RegistryAccess.or_problem(settings)
    _topology_clients(settings, store, config.default_rate_limit)
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 502, 503)

    def _json(model: type[BaseModel], content: dict[str, Any], status: int = 200) -> Response:
        return validated_response(model, content, status)

    def caller(request: Request, role: str) -> Caller:
        who = app.state.authenticator.authenticate(request)
        require(who, role)
        return who

    async def person_of(juminhyo_code: str) -> dict[str, Any] | None:
        if isinstance(registry_access, Problem):
            raise registry_access
        async with registry_access.client(app.state.registry_transport) as http:
            return await find_person(registry_access, http, juminhyo_code)

    async def access_token(request: Request) -> dict[str, Any]:
        """The claims of the provider's access token the request carries (401 otherwise)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "unauthorized", "Authentication required",
                          "send 'Authorization: Bearer <access token>' from the provider",
                          headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'})
        if verifier is None:
            raise Problem(503, "idp-not-configured", "No provider to trust",
                          "the topology has no idp simulator and no idp_jwks is configured")
        try:
            claims = await verifier.claims(token.strip())
            if introspection is not None and not await introspection.active(token.strip()):
                raise TokenRejected("revoked", "the provider says this access token is no "
                                               "longer active (revoked)")
        except TokenRejected as rejected:
            raise invalid_token(rejected) from None
        except KeysUnavailable as exc:
            raise Problem(503, "idp-keys-unavailable", "Cannot verify tokens now",
                          str(exc)) from None
        request.scope.setdefault("state", {})["client_id"] = claims["client_id"]
        return claims

    def registered(client_id: str) -> dict[str, Any]:
        client = store.client(client_id)
        if client is None:
            raise Problem(403, "unknown-client", "Not a client of the gateway",
                          f"client {client_id!r} is not registered at the gateway")
        return client

    # -- consents ----------------------------------------------------------------------------

    @app.post("/v1/consents", response_model=ConsentOut, status_code=201, responses=errors,
              tags=["consents"], operation_id="recordConsent",
              summary="Record a person's consent with its signature evidence (the provider)",
              openapi_extra=body_doc(ConsentRequest, bodies))
    async def post_consent(request: Request) -> Response:
        caller(request, CONSENT_ROLE)
        body = await json_body(request, ConsentRequest)
        client = store.client(body.client_id)
        if client is None:
            raise Problem(422, "unknown-client", "Not a client of the gateway",
                          f"client {body.client_id!r} is not registered at the gateway")
        outside = sorted(set(body.scopes) - set(client["scopes"]) - {"openid"})
        if outside:
            raise Problem(422, "scope-not-allowed", "Scopes outside the client's registration",
                          f"client {body.client_id!r} may not ask for {outside}",
                          scopes=outside)
        check_signed_text(body.signed_text, body.client_id, body.sub, body.scopes)
        certificate, evidence = await check_evidence(app.state.jpki, body.certificate,
                                                     body.signed_text, body.signature,
                                                     faults.now())
        check_person(certificate, await person_of(body.juminhyo_code))
        consent = store.add_consent(client, body.sub, body.juminhyo_code,
                                    sorted(set(body.scopes)), evidence,
                                    config.consent_lifetime)
        return _json(ConsentOut, consent, 201)

    @app.delete("/v1/consents/{consent_id}", status_code=204, responses=errors,
                tags=["consents"], operation_id="revokeConsent",
                summary="The person revokes a consent: from the next request on, the client "
                        "gets nothing more",
                description="Authenticated as the person: the provider's access token of the "
                            "client and person of the consent (same client_id and sub), or "
                            "the provider itself acting for the person (gateway:consent).")
    async def delete_consent(request: Request, consent_id: ConsentId) -> Response:
        row = store.consent(consent_id)
        if verifier is not None and verifier.is_its_token(_bearer(request)):
            claims = await access_token(request)
            if row is None or (claims["client_id"], claims["sub"]) != (row["client_id"],
                                                                       row["sub"]):
                raise Problem(404, "consent-not-found", "No such consent of this person",
                              consent_id)
            by = "person"
        else:
            caller(request, CONSENT_ROLE)
            by = "person-via-provider"
        if row is None:
            raise Problem(404, "consent-not-found", "No such consent", consent_id)
        store.revoke_consent(consent_id, by)
        return Response(status_code=204)

    # -- facts -------------------------------------------------------------------------------

    @app.get("/v1/basic-facts", response_model=FactsOut, responses=errors, tags=["facts"],
             operation_id="getBasicFacts",
             summary="The person's basic facts of the consented scopes, read from the "
                     "registry now (the provider's access token of a relying party)")
    async def get_facts(request: Request) -> Response:
        only_query_parameters(request)
        requested_at = faults.now()
        claims = await access_token(request)
        client = registered(claims["client_id"])
        wait = app.state.limits.take(client["client_id"], client["rate_limit_per_s"])
        if wait is not None:
            raise Problem(429, "too-many-requests", "Too many requests",
                          f"client {client['client_id']!r} may make "
                          f"{client['rate_limit_per_s']} request(s) a second",
                          headers={"Retry-After": str(wait)}, retry_after=wait)
        consent = _live_consent(store, client["client_id"], claims["sub"])
        scopes = sorted(set(_json_list(consent["scopes"])) & set(client["scopes"])
                        & set(str(claims.get("scope", "")).split()) & set(FACT_SCOPES))
        if not scopes:
            raise Problem(403, "insufficient-scope", "No consented scope in the token",
                          "the access token carries none of the consent's fact scopes",
                          headers={"WWW-Authenticate": f'Bearer realm="{REALM}", '
                                                       'error="insufficient_scope"'})
        person = await person_of(consent["juminhyo_code"])
        if person is None:
            raise Problem(404, "person-not-found", "The person is not in the registry",
                          "the registry no longer has the consent's person")
        facts = facts_for_scopes(basic_facts(person), set(scopes))
        record = store.record_provision(consent, scopes, sorted(facts), claims["jti"],
                                        requested_at)
        return _json(FactsOut, {"sub": consent["sub"], "consent_id": consent["id"],
                                "scopes": scopes, "facts": facts,
                                "provided_at": record["provided_at"]})

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
        if verifier is not None and verifier.is_its_token(_bearer(request)):
            claims = await access_token(request)
            if juminhyo_code is not None:
                raise Problem(403, "forbidden", "Not allowed with an access token",
                              "juminhyo_code is for the portal (gateway:audit)")
            filters |= {"sub": claims["sub"], "client_id": claims["client_id"]}
        else:
            caller(request, AUDIT_ROLE)
            if not filters:
                raise Problem(400, "person-required", "Name the person",
                              "give sub (with client_id) or juminhyo_code")
        records, more = store.records(filters, after, limit)
        return _json(ProvisionRecordPage, records_page(records, after, more))

    # -- the harness's control plane (outside the contract) ----------------------------------

    @app.post(f"{CONTROL}/clients", include_in_schema=False)
    async def post_client(request: Request) -> Response:
        caller(request, ADMIN_ROLE)
        body = await json_body(request, ClientRegistration)
        app.state.limits.reset(body.client_id)
        return _json(ClientOut, store.put_client(body.client_id, body.purpose,
                                                 sorted(set(body.scopes)),
                                                 body.rate_limit_per_s), 201)

    @app.post(f"{CONTROL}/consents/revoke", include_in_schema=False)
    async def post_harness_revoke(request: Request) -> Response:
        caller(request, ADMIN_ROLE)
        body = await json_body(request, HarnessRevocation)
        return _json(RevokedConsents, {"revoked": store.revoke_pair(
            body.client_id, body.juminhyo_code, "harness")})

    install_openapi(app, bodies)
    return app


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _json_list(raw: str) -> list[str]:
    return list(json.loads(raw))


def _live_consent(store: GatewayStore, client_id: str, sub: str) -> Any:
    """The pair's live consent, or the 403 that says why there is none."""
    consent = store.latest_consent(client_id, sub)
    if consent is None:
        raise Problem(403, "no-consent", "No consent",
                      "the person has not consented to this client")
    if consent["revoked_at"] is not None:
        raise Problem(403, "consent-revoked", "Consent revoked",
                      f"the consent was revoked at {consent['revoked_at']}",
                      consent_id=consent["id"])
    if consent["expires_at"] <= stamp(faults.now()):
        raise Problem(403, "consent-expired", "Consent expired",
                      f"the consent expired at {consent['expires_at']}",
                      consent_id=consent["id"])
    return consent


def _topology_clients(settings: Settings, store: GatewayStore, rate_limit: int) -> None:
    """Register the topology's clients that state a purpose (relying parties), unless the
    control plane has registered them already."""
    for client in settings.topology.clients:
        purpose = getattr(client, "purpose", None)  # a relying party's field in the topology
        if purpose and store.client(client.id) is None:
            scopes = [s for s in client.registered_scopes if s in (*FACT_SCOPES, "openid")]
            store.put_client(client.id, str(purpose), scopes,
                             int(getattr(client, "rate_limit_per_s", None) or rate_limit))
