"""The JPKI-like CA simulator (公的個人認証サービス, local test CA): each person of the
topology's resident registry has a simulated card with a signing certificate carrying the four
basic facts and a user-authentication certificate carrying none; a move or death recorded at
the registry revokes them (CRL and status endpoint).

Roles: ``jpki:sign`` (the provider and the holder, using a card), ``admin`` (a forced feed
pull). Lookups, status, the CRL and the CA certificate are public, as a CA's repository is.

The behaviour lives in parts on ``app.state``, read by the routes at the time of each request,
so each can be replaced on its own: ``ca`` (the test CA), ``store``, ``feed`` (revocation from
the registry's feed), ``cards`` (the card signer), ``directory`` (certificate lookups) and
``revocation_status`` (status and CRL); ``registry_transport`` reaches the registry (tests put
it in-process). Routes only translate HTTP: they parse, call a part and answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI
from fastapi import Path as PathParam
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common import faults
from meshcert_simulators.common.app import build_stored_app
from meshcert_simulators.common.auth import ADMIN_ROLE, require
from meshcert_simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    only_query_parameters,
    problem_responses,
    validated_response,
)
from meshcert_simulators.common.registry_client import RegistryAccess
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.storage import Database
from meshcert_simulators.jpki.ca import CertificateAuthority
from meshcert_simulators.jpki.cards import Cards, decode_data
from meshcert_simulators.jpki.directory import CRL_PATH, CertificateDirectory
from meshcert_simulators.jpki.feed import RegistryFeed, sync_interval
from meshcert_simulators.jpki.models import (
    JUMINHYO,
    SERIAL,
    CaOut,
    CertificateOut,
    SignRequest,
    SignResult,
    StatusOut,
    SyncResult,
)
from meshcert_simulators.jpki.status import RevocationStatus
from meshcert_simulators.jpki.store import SCHEMA, JpkiStore

SIGN_ROLE = "jpki:sign"
CRL_MEDIA_TYPE = "application/pkix-crl"
PUBLIC: dict[str, Any] = {"security": []}

Person = Annotated[str, PathParam(pattern=JUMINHYO, description="住民票コード: the card")]
Serial = Annotated[str, PathParam(pattern=SERIAL, description="Serial number, hex")]
Errors = dict[int | str, dict[str, Any]]

_json = validated_response  # every answer is checked against its documented model


def create_app(settings: Settings) -> FastAPI:
    interval = sync_interval(settings)
    app, db = build_stored_app(
        settings, SCHEMA, title="meshcert JPKI-like CA simulator",
        description="Simulated My Number cards (signing and user-authentication certificates "
                    "from a local test CA), certificate lookup, an OCSP-like status, and an "
                    "X.509 CRL; revocation follows the resident registry's difference feed. "
                    "The certificate profile is meshcert_simulators/contracts/jpki_profile.py.")
    _install_parts(app, settings, db, interval)
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 502, 503)
    # In the order of the published contract.
    _install_cards(app, bodies, errors)
    _install_repository(app, errors)
    _install_feed(app, errors)
    install_openapi(app, bodies)
    return app


def _install_parts(app: FastAPI, settings: Settings, db: Database, interval: float) -> None:
    """Put the CA's parts on ``app.state``; each reads the others from there at the time of
    use, so any one can be replaced on its own."""
    folder = Path(settings.data_dir)
    app.state.store = JpkiStore(db, clock=faults.now)
    app.state.ca = CertificateAuthority.load_or_create(folder / f"{settings.name}-ca",
                                                       faults.now())
    app.state.registry_access = RegistryAccess.or_problem(settings)
    app.state.registry_transport = None  # the network; tests put the registry in-process
    app.state.feed = RegistryFeed(app.state, interval)
    app.state.cards = Cards(app.state)
    app.state.directory = CertificateDirectory(app.state)
    app.state.revocation_status = RevocationStatus(app.state)


def _install_cards(app: FastAPI, bodies: list[type[BaseModel]], errors: Errors) -> None:
    """Signing with a card (``jpki:sign``)."""
    state = app.state

    @app.post("/v1/cards/{juminhyo_code}/sign", response_model=SignResult, responses=errors,
              tags=["cards"], operation_id="signWithCard",
              summary="The card signs the given bytes with its signing (or user-"
                      "authentication) key; the certificate is issued on first use",
              openapi_extra=body_doc(SignRequest, bodies))
    async def sign(request: Request, juminhyo_code: Person) -> Response:
        require(state.authenticator.authenticate(request), SIGN_ROLE)
        body = await json_body(request, SignRequest)
        data = decode_data(body.data)
        return _json(SignResult, await state.cards.sign(juminhyo_code, data, body.key))


def _install_repository(app: FastAPI, errors: Errors) -> None:
    """The CA's public repository: lookups, status, the CRL and the CA certificate."""
    state = app.state

    @app.get("/v1/certificates/{serial}", response_model=CertificateOut, responses=errors,
             tags=["repository"], operation_id="getCertificate",
             summary="A certificate this CA issued, with its status", openapi_extra=PUBLIC)
    async def get_certificate(request: Request, serial: Serial) -> Response:
        only_query_parameters(request)
        return _json(CertificateOut, await state.directory.certificate(serial))

    @app.get("/v1/status/{serial}", response_model=StatusOut, responses=errors,
             tags=["repository"], operation_id="getCertificateStatus",
             summary="OCSP-like status: good, revoked (with reason and time) or unknown",
             openapi_extra=PUBLIC)
    async def get_status(request: Request, serial: Serial) -> Response:
        only_query_parameters(request)
        return _json(StatusOut, await state.revocation_status.status(serial))

    @app.get(CRL_PATH, tags=["repository"], operation_id="getCrl", response_class=Response,
             summary="The CA's certificate revocation list (X.509 CRL, DER)",
             responses={200: {"description": "The CRL, DER encoded, signed by the CA",
                               "content": {CRL_MEDIA_TYPE: {"schema": {
                                   "type": "string", "format": "binary"}}}},
                        **problem_responses(400)},
             openapi_extra=PUBLIC)
    async def get_crl(request: Request) -> Response:
        only_query_parameters(request)
        return Response(await state.revocation_status.crl(), media_type=CRL_MEDIA_TYPE)

    @app.get("/v1/ca", response_model=CaOut, responses=errors, tags=["repository"],
             operation_id="getCaCertificate", summary="The CA certificate (the trust anchor)",
             openapi_extra=PUBLIC)
    async def get_ca(request: Request) -> Response:
        only_query_parameters(request)
        return _json(CaOut, state.directory.ca())


def _install_feed(app: FastAPI, errors: Errors) -> None:
    """A forced pull of the registry's feed (admin)."""
    state = app.state

    @app.post("/v1/sync", response_model=SyncResult, responses=errors, tags=["revocation"],
              operation_id="followRegistryFeed",
              summary="Follow the resident registry's feed now and revoke what changed "
                      "(admin; the CA also does so before each answer)")
    async def post_sync(request: Request) -> Response:
        require(state.authenticator.authenticate(request), ADMIN_ROLE)
        return _json(SyncResult, await state.feed.sync(force=True))
