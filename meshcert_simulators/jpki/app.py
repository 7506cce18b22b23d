"""The JPKI-like CA simulator (公的個人認証サービス, local test CA): each person of the
topology's resident registry has a simulated card with a signing certificate carrying the four
basic facts and a user-authentication certificate carrying none; a move or death recorded at
the registry revokes them (CRL and status endpoint).

Roles: ``jpki:sign`` (the provider and the holder, using a card), ``admin`` (a forced feed
pull). Lookups, status, the CRL and the CA certificate are public, as a CA's repository is.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI
from fastapi import Path as PathParam
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common import exchanges, faults
from meshcert_simulators.common.app import build_app
from meshcert_simulators.common.auth import ADMIN_ROLE, require
from meshcert_simulators.common.http import (
    body_doc,
    install_openapi,
    json_body,
    only_query_parameters,
    problem_responses,
    validated_response,
)
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.registry_client import RegistryAccess
from meshcert_simulators.common.settings import Settings, SettingsError
from meshcert_simulators.common.storage import Database
from meshcert_simulators.jpki.ca import CertificateAuthority, Revocation, cert_pem, serial_hex
from meshcert_simulators.jpki.cards import Cards, decode_data
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
from meshcert_simulators.jpki.store import SCHEMA, JpkiStore

SIGN_ROLE = "jpki:sign"
CRL_PATH = "/crl"
CRL_MEDIA_TYPE = "application/pkix-crl"
# How long a CRL and a status answer stay current (nextUpdate); the CA re-reads the registry
# on each request, so a relying party that fetches again sees a revocation at once.
CRL_VALIDITY = timedelta(hours=1)
PUBLIC: dict[str, Any] = {"security": []}

Person = Annotated[str, PathParam(pattern=JUMINHYO, description="住民票コード: the card")]
Serial = Annotated[str, PathParam(pattern=SERIAL, description="Serial number, hex")]


def _interval(settings: Settings) -> float:
    raw = settings.extra.get("sync_interval_s") or os.environ.get(
        "MESHCERT_JPKI_SYNC_INTERVAL_S", "0")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise SettingsError(f"MESHCERT_JPKI_SYNC_INTERVAL_S must be seconds >= 0, not {raw!r}")
    return value


def create_app(settings: Settings) -> FastAPI:
    folder = Path(settings.data_dir)
    db = Database(folder / f"{settings.name}.sqlite3", SCHEMA, settings.sqlite_synchronous)
    store = JpkiStore(db, clock=faults.now)
    ca = CertificateAuthority.load_or_create(folder / f"{settings.name}-ca", faults.now())
    cards = Cards(ca, store, RegistryAccess.or_problem(settings), _interval(settings))
    app = build_app(settings, title="meshcert JPKI-like CA simulator",
                    description="Simulated My Number cards (signing and user-authentication "
                                "certificates from a local test CA), certificate lookup, an "
                                "OCSP-like status, and an X.509 CRL; revocation follows the "
                                "resident registry's difference feed. The certificate profile "
                                "is meshcert_simulators/contracts/jpki_profile.py.",
                    on_shutdown=db.close)
    exchanges.install(app)
    app.state.cards = cards  # tests set ``cards.transport`` (the registry in-process)
    bodies: list[type[BaseModel]] = []
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 502, 503)

    def _json(model: type[BaseModel], content: dict[str, Any], status: int = 200) -> Response:
        return validated_response(model, content, status)

    def canonical(serial: str) -> str:
        return serial_hex(int(serial, 16))

    @app.post("/v1/cards/{juminhyo_code}/sign", response_model=SignResult, responses=errors,
              tags=["cards"], operation_id="signWithCard",
              summary="The card signs the given bytes with its signing (or user-"
                      "authentication) key; the certificate is issued on first use",
              openapi_extra=body_doc(SignRequest, bodies))
    async def sign(request: Request, juminhyo_code: Person) -> Response:
        require(app.state.authenticator.authenticate(request), SIGN_ROLE)
        body = await json_body(request, SignRequest)
        data = decode_data(body.data)
        return _json(SignResult, await cards.sign(juminhyo_code, data, body.key))

    @app.get("/v1/certificates/{serial}", response_model=CertificateOut, responses=errors,
             tags=["repository"], operation_id="getCertificate",
             summary="A certificate this CA issued, with its status", openapi_extra=PUBLIC)
    async def get_certificate(request: Request, serial: Serial) -> Response:
        only_query_parameters(request)
        await cards.sync_quietly()
        row = store.get(canonical(serial))
        if row is None:
            raise Problem(404, "certificate-not-found", "No such certificate",
                          f"this CA issued no certificate with serial {serial}")
        return _json(CertificateOut, store.describe(row))

    @app.get("/v1/status/{serial}", response_model=StatusOut, responses=errors,
             tags=["repository"], operation_id="getCertificateStatus",
             summary="OCSP-like status: good, revoked (with reason and time) or unknown",
             openapi_extra=PUBLIC)
    async def get_status(request: Request, serial: Serial) -> Response:
        only_query_parameters(request)
        await cards.sync_quietly()
        now = faults.now()
        row = store.get(canonical(serial))
        out: dict[str, Any] = {"serial": canonical(serial), "status": "unknown",
                               "this_update": now, "next_update": now + CRL_VALIDITY}
        if row is not None:
            out |= {"status": "revoked" if row["revoked_at"] else "good",
                    "revoked_at": row["revoked_at"], "reason": row["reason"]}
        return _json(StatusOut, out)

    @app.get(CRL_PATH, tags=["repository"], operation_id="getCrl", response_class=Response,
             summary="The CA's certificate revocation list (X.509 CRL, DER)",
             responses={200: {"description": "The CRL, DER encoded, signed by the CA",
                               "content": {CRL_MEDIA_TYPE: {"schema": {
                                   "type": "string", "format": "binary"}}}},
                        **problem_responses(400)},
             openapi_extra=PUBLIC)
    async def get_crl(request: Request) -> Response:
        only_query_parameters(request)
        await cards.sync_quietly()
        revoked = [Revocation(int(r["serial"], 16), datetime.fromisoformat(r["revoked_at"]),
                              r["reason"]) for r in store.revoked()]
        now = faults.now()
        # Revocations are never undone, so their count numbers the CRLs monotonically (one
        # number per content: a CRL fetched twice without a change keeps its number).
        der = ca.crl(revoked, len(revoked) + 1, now, now + CRL_VALIDITY)
        return Response(der, media_type=CRL_MEDIA_TYPE)

    @app.get("/v1/ca", response_model=CaOut, responses=errors, tags=["repository"],
             operation_id="getCaCertificate", summary="The CA certificate (the trust anchor)",
             openapi_extra=PUBLIC)
    async def get_ca(request: Request) -> Response:
        only_query_parameters(request)
        return _json(CaOut, {"certificate": cert_pem(ca.certificate), "crl_path": CRL_PATH})

    @app.post("/v1/sync", response_model=SyncResult, responses=errors, tags=["revocation"],
              operation_id="followRegistryFeed",
              summary="Follow the resident registry's feed now and revoke what changed "
                      "(admin; the CA also does so before each answer)")
    async def post_sync(request: Request) -> Response:
        require(app.state.authenticator.authenticate(request), ADMIN_ROLE)
        return _json(SyncResult, await cards.sync(force=True))

    install_openapi(app, bodies)
    return app
