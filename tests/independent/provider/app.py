"""An information provider (an individual-resident-tax system) written from the published
contract alone — fixtures/specs/tax.openapi.json and the catalog's PRV-* text — without any of
meshcert's simulator code: Starlette, its own SQLite (store.py), JWT access tokens checked
against the issuer's JWKS, request bodies checked against the contract's schemas.

``broken`` names one realistic defect to build in (see BROKEN); None is the correct system.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.independent.provider.store import Store, now

CONTRACT = Path(__file__).resolve().parents[3] / "fixtures" / "specs" / "tax.openapi.json"
TAX_ITEM = "TM00000000000002"
MIB = 1 << 20
BROKEN = {
    "mynumber-hyphens": "names the person by My Number, with hyphens, in each item's message",
    "mynumber-fullwidth": "names the person by My Number, in full-width digits, in messages",
    "refusals-unrecorded": "keeps no art. 23 record of a refused inquiry (403, 409)",
    "end-a-day-late": "registers each copy's publication end one day after the one asked for",
    "race-twice": "checks a record id, then writes after an await: a race processes it twice",
    "jlis-failures-ignored": "counts a copy J-LIS failed to take as registered",
}


@dataclass(frozen=True)
class Config:
    db: Path
    issuer: str
    audience: str
    jlis: str
    jlis_client: str
    jlis_token: str
    ca_file: str | None = None
    broken: str | None = None


class Problem(Exception):
    def __init__(self, status: int, kind: str, title: str, detail: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.headers = headers or {}


def problem_response(request: Request, problem: Problem) -> Response:
    body = {"type": f"urn:independent-provider:{problem.kind}", "title": problem.title,
            "status": problem.status, "detail": problem.detail, "instance": request.url.path}
    return JSONResponse(body, problem.status, headers=problem.headers,
                        media_type="application/problem+json")


@cache
def validator(name: str) -> Any:
    document = json.loads(CONTRACT.read_text(encoding="utf-8"))
    return jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]})


async def body_of(request: Request, schema: str) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise Problem(415, "unsupported-media-type", "Send application/json")
    raw = await request.body()
    if len(raw) > MIB:
        raise Problem(413, "too-large", "Body too large")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "malformed-json", "Body is not JSON") from None
    errors = [e.message for e in validator(schema).iter_errors(body)]
    if errors:
        raise Problem(422, "invalid-body", "Body does not match the contract", errors[0][:300])
    return dict(body)


def my_number(rng: random.Random) -> str:
    """A 12-digit number with a valid check digit (the published formula)."""
    digits = [rng.randrange(10) for _ in range(11)]
    total = sum(d * (n + 1 if n <= 6 else n - 5)
                for n, d in enumerate(reversed(digits), start=1))
    rest = total % 11
    return "".join(map(str, digits)) + str(0 if rest <= 1 else 11 - rest)


class Tokens:
    """Bearer access tokens of the issuer (ES256, RFC 9068), its JWKS fetched on first use."""

    def __init__(self, config: Config) -> None:
        self.config, self.keys = config, None

    def _trust(self) -> ssl.SSLContext | bool:
        return ssl.create_default_context(cafile=self.config.ca_file) if self.config.ca_file \
            else True

    async def caller(self, request: Request, scope: str) -> tuple[str, bool]:
        """(client id, whether it holds ``scope``); 401 without a valid token."""
        challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        kind, _, token = request.headers.get("authorization", "").partition(" ")
        if kind.lower() != "bearer" or not token:
            raise Problem(401, "unauthenticated", "Bearer token required",
                          headers={"WWW-Authenticate": "Bearer"})
        if self.keys is None:
            async with httpx.AsyncClient(verify=self._trust(), timeout=10) as client:
                got = await client.get(f"{self.config.issuer}/.well-known/jwks.json")
            self.keys = KeySet.import_key_set(got.json())
        try:
            claims = jwt.decode(token, self.keys, algorithms=["ES256"]).claims
        except (JoseError, ValueError):
            raise Problem(401, "invalid-token", "Invalid token", headers=challenge) from None
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        moment = time.time()
        if claims.get("iss") != self.config.issuer or self.config.audience not in audiences \
                or not claims.get("exp", 0) > moment or claims.get("nbf", 0) > moment + 5:
            raise Problem(401, "invalid-token", "Token not for this system", headers=challenge)
        scopes = str(claims.get("scope", "")).split()
        return str(claims.get("client_id", claims.get("sub", ""))), scope in scopes


def create(config: Config) -> Starlette:
    store = Store(config.db, unique_answers=config.broken != "race-twice")
    tokens = Tokens(config)

    async def allowed(request: Request, scope: str) -> str:
        client, ok = await tokens.caller(request, scope)
        if not ok:
            raise Problem(403, "forbidden", "Insufficient scope", f"needs {scope}")
        return client

    def record(body: dict[str, Any], client: str, requested: str, outcome: str,
               status: str | None, version: int | None) -> dict[str, Any]:
        return {"record_id": body["record_id"], "inquirer_client": client,
                "procedure_code": body["procedure_code"], "item_code": body["item_code"],
                "requested_at": requested, "provided_at": now(), "outcome": outcome,
                "item_status": status, "data_version": version}

    def refused(body: dict[str, Any], client: str) -> None:
        if config.broken != "refusals-unrecorded":
            store.record(record(body, client, now(), "refused", None, None))

    def answer_for(body: dict[str, Any]) -> tuple[dict[str, Any], str, int | None]:
        item: dict[str, Any] = {"item_code": body["item_code"], "message": None, "payload": None}
        version = None
        held = store.person(body["code"]) if body["item_code"] == TAX_ITEM else None
        if body["item_code"] != TAX_ITEM:
            item.update(status="03", message="not an item of this system")
        elif held is None:
            item.update(status="02", message="no data for this code")
        else:
            figures, version = held
            item.update(status="01", payload={
                **figures, "total_levy": figures["income_levy"] + figures["per_capita_levy"],
                "data_version": version})
        if config.broken in ("mynumber-hyphens", "mynumber-fullwidth"):
            number = my_number(random.Random(body["code"]))
            shown = "-".join((number[:4], number[4:8], number[8:]))
            if config.broken == "mynumber-fullwidth":
                shown = number.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
            item["message"] = f"本人(個人番号 {shown})の照会結果"
        outcome = {"01": "provided", "02": "no-data", "03": "not-provided"}[item["status"]]
        return {"status": "09", "message": None, "items": [item]}, outcome, version

    async def provide(request: Request) -> Response:
        client, ok = await tokens.caller(request, "tax:provide")
        body = await body_of(request, "ProvisionRequest")
        if not ok:
            refused(body, client)
            raise Problem(403, "forbidden", "Only the mesh may ask", "needs tax:provide")
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        requested = now()
        for _ in range(2):
            earlier = store.earlier(body["record_id"])
            if earlier is not None:
                if earlier[0] != digest:
                    refused(body, client)
                    raise Problem(409, "duplicate-record-id", "Record id already used")
                return JSONResponse(earlier[1])
            if config.broken == "race-twice":
                await asyncio.sleep(0.05)  # "the database is async": another request runs here
            answer, outcome, version = answer_for(body)
            if store.answer_once(body["record_id"], digest, answer,
                                 record(body, client, requested, outcome,
                                        answer["items"][0]["status"], version)):
                return JSONResponse(answer)
        raise Problem(409, "duplicate-record-id", "Record id already used")

    async def records(request: Request) -> Response:
        await allowed(request, "tax:audit")
        query = dict(request.query_params)
        if set(query) - {"after", "limit"}:
            raise Problem(400, "unknown-parameter", "Unknown query parameter")
        try:
            after, limit = int(query.get("after", "0")), int(query.get("limit", "100"))
        except ValueError:
            raise Problem(400, "bad-parameter", "after and limit are integers") from None
        if not (0 <= after <= 2**62 and 1 <= limit <= 1000):
            raise Problem(400, "bad-parameter", "after 0..2**62, limit 1..1000")
        found, more = store.records(after, limit)
        return JSONResponse({"records": found, "has_more": more,
                             "next_after": found[-1]["seq"] if found else after})

    async def seed(request: Request) -> Response:
        await allowed(request, "admin")
        body = await body_of(request, "SeedRequest")
        rows = []
        for row in body["rows"]:
            if "code" not in row or row.get("figures") is None:
                raise Problem(422, "unsupported-row", "Rows need a 符号 and figures")
            rows.append((row["code"], row["figures"]))
        version = store.seed(rows)
        return JSONResponse({"seeded": len(rows), "data_version": version,
                             "codes": [code for code, _ in rows]})

    async def publish(request: Request) -> Response:
        await allowed(request, "admin")
        body = await body_of(request, "PublishRequest")
        start = datetime.now(UTC) + timedelta(seconds=body.get("delay_s", 0))
        duration = body.get("duration_s")
        if duration is not None and config.broken == "end-a-day-late":
            duration += 86400
        end = start + timedelta(seconds=duration) if duration is not None else None
        window = {"publication_start": start.isoformat(),
                  "publication_end": end.isoformat() if end else None}
        registered = unchanged = 0
        async with httpx.AsyncClient(base_url=config.jlis, timeout=10, headers={
                "Authorization": f"Bearer {config.jlis_token}"}) as jlis:
            for code, figures, version in store.people():
                payload = {**figures, "data_version": version,
                           "total_levy": figures["income_levy"] + figures["per_capita_levy"]}
                try:
                    put = await jlis.put(
                        f"/v1/copies/{config.jlis_client}/{code}/{TAX_ITEM}", json={
                            "data_set_key": f"resident-tax-{figures['tax_year']}",
                            "version": version, **window, "payload": payload})
                    status = put.status_code
                except httpx.HTTPError:
                    status = 0  # no answer at all
                if status == 409:
                    unchanged += 1
                elif status in (200, 201) or config.broken == "jlis-failures-ignored":
                    registered += 1
                else:
                    raise Problem(502, "jlis-refused", "J-LIS did not take a copy",
                                  f"HTTP {status or 'no answer'}")
        return JSONResponse({"jlis": config.jlis, "data_version": store.version(), **window,
                             "registered": registered, "unchanged": unchanged})

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return problem_response(request, Problem(exc.status_code, "http", str(exc.detail),
                                                 headers=dict(exc.headers or {})))

    return Starlette(routes=[
        Route("/v1/provisions", provide, methods=["POST"]),
        Route("/v1/provision-records", records, methods=["GET"]),
        Route("/v1/admin/seed", seed, methods=["POST"]),
        Route("/v1/copies/publish", publish, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ], exception_handlers={Problem: on_problem, HTTPException: on_http})
