"""A front service for the online move-out (a moving company's app) written from the published
contracts alone — OpenID Connect Core, RFC 7636, RFC 7523, the portal's README and contract and
the catalog's FRONT-* text — without any of meshcert's simulator code: Starlette, httpx and
joserfc.

``/start`` starts a login, ``/return`` completes it, ``/who`` shows who is signed in (the
provider's userinfo), ``POST /filings`` files a move-out on the portal (the key in an
``Idempotency-Key`` header, resent with it after a timeout), ``GET /filings/{id}`` shows the
portal's status now. Its habits differ from the reference on purpose: the login secrets ride in
a signed-by-nobody random session id, the key goes in a header, and a proxy's delegation is
looked up among the portal's ``received`` delegations before each filing.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

COOKIE = "mover"
SCOPE = "openid name address"
ALGS = ("ES256", "RS256", "PS256", "EdDSA")
LEEWAY_S = 30
PORTAL_WAIT_S = 2.5
TRIES = 4
FORM_FIELDS = {"moving_date", "new_address", "reason", "on_behalf_of"}


@dataclass
class Config:
    issuer: str
    portal: str
    client_id: str
    key: Key
    redirect_uri: str


@dataclass
class Memory:
    logins: dict[str, dict[str, str]] = field(default_factory=dict)
    people: dict[str, dict[str, str]] = field(default_factory=dict)
    meta: dict[str, Any] | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _problem(status: int, title: str, detail: str = "") -> JSONResponse:
    return JSONResponse({"type": "about:blank", "title": title, "status": status,
                         "detail": detail}, status_code=status,
                        media_type="application/problem+json")


def create(config: Config) -> Starlette:
    memory = Memory()
    http = httpx.AsyncClient(timeout=10)

    async def meta() -> dict[str, Any]:
        if memory.meta is None:
            found = (await http.get(f"{config.issuer}/.well-known/openid-configuration")).json()
            if found.get("issuer") != config.issuer:
                raise ValueError("discovery names another issuer")
            memory.meta = found
        return memory.meta

    async def keys() -> KeySet:
        # Fetched for every login: a rotation is followed at once.
        return KeySet.import_key_set((await http.get((await meta())["jwks_uri"])).json())

    def person(request: Request) -> dict[str, str] | None:
        return memory.people.get(request.cookies.get(COOKIE, ""))

    async def start(request: Request) -> Response:
        sid = secrets.token_urlsafe(24)
        secrets_ = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24),
                    "verifier": secrets.token_urlsafe(48)}
        memory.logins[sid] = secrets_
        challenge = _b64(hashlib.sha256(secrets_["verifier"].encode()).digest())
        query = urlencode({"response_type": "code", "client_id": config.client_id,
                           "redirect_uri": config.redirect_uri, "scope": SCOPE,
                           "state": secrets_["state"], "nonce": secrets_["nonce"],
                           "code_challenge": challenge, "code_challenge_method": "S256"})
        answer = RedirectResponse(f"{(await meta())['authorization_endpoint']}?{query}", 302)
        answer.set_cookie(COOKIE, sid, httponly=True, samesite="lax")
        return answer

    def assertion(audience: str) -> str:
        now = int(time.time())
        return jwt.encode({"alg": "ES256", "kid": config.key.kid},
                          {"iss": config.client_id, "sub": config.client_id, "aud": audience,
                           "iat": now, "exp": now + 60, "jti": secrets.token_hex(16)},
                          config.key)

    async def back(request: Request) -> Response:
        login = memory.logins.pop(request.cookies.get(COOKIE, ""), None)
        params = request.query_params
        if login is None or "error" in params or params.get("state") != login["state"] \
                or not params.get("code"):
            return _problem(401, "Login failed", "no matching login, or the provider refused")
        token_url = (await meta())["token_endpoint"]
        answer = await http.post(token_url, data={
            "grant_type": "authorization_code", "code": params["code"],
            "redirect_uri": config.redirect_uri, "code_verifier": login["verifier"],
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion(token_url)})
        if answer.status_code != 200:
            return _problem(401, "Login failed", "the token request was refused")
        tokens = answer.json()
        claims = await verified(tokens.get("id_token", ""), login["nonce"])
        if claims is None:
            return _problem(401, "Login failed", "the ID token did not verify")
        sid = secrets.token_urlsafe(24)
        memory.people[sid] = {"sub": claims["sub"], "token": tokens["access_token"]}
        done = RedirectResponse("/who", 303)
        done.set_cookie(COOKIE, sid, httponly=True, samesite="lax")
        return done

    async def verified(token: str, nonce: str) -> dict[str, Any] | None:
        try:
            decoded = jwt.decode(token, await keys(), algorithms=list(ALGS))
        except (JoseError, ValueError, KeyError, TypeError):
            return None
        claims = decoded.claims
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [
            claims.get("aud")]
        now = time.time()
        good = (decoded.header.get("alg") in ALGS
                and claims.get("iss") == config.issuer
                and config.client_id in audiences
                and claims.get("azp", config.client_id) == config.client_id
                and isinstance(claims.get("exp"), int | float) and claims["exp"] > now - LEEWAY_S
                and isinstance(claims.get("iat"), int | float) and claims["iat"] < now + LEEWAY_S
                and claims.get("nonce") == nonce and isinstance(claims.get("sub"), str))
        return claims if good else None

    async def who(request: Request) -> Response:
        me = person(request)
        if me is None:
            return _problem(401, "Not signed in")
        answer = await http.get((await meta())["userinfo_endpoint"],
                                headers={"Authorization": f"Bearer {me['token']}"})
        if answer.status_code != 200:
            return _problem(401, "Not signed in", "the provider no longer knows this login")
        info = answer.json()
        return JSONResponse({"name": info.get("name"), "address": info.get("address")})

    def bearer(me: dict[str, str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {me['token']}"}

    async def may_act(me: dict[str, str], delegation: str) -> bool:
        answer = await http.get(f"{config.portal}/v1/me/proxies", headers=bearer(me))
        if answer.status_code != 200:
            return False
        for found in answer.json().get("delegations", []):
            if found.get("id") != delegation or found.get("direction") != "received":
                continue
            until = datetime.fromisoformat(str(found.get("until")))
            return (found.get("revoked_at") is None and found.get("active") is True
                    and "moveout" in found.get("procedures", [])
                    and until > datetime.now(UTC))
        return False

    async def file(request: Request) -> Response:
        me = person(request)
        if me is None:
            return _problem(401, "Not signed in")
        try:
            entered = await request.json()
        except ValueError:
            return _problem(400, "Not JSON")
        if not isinstance(entered, dict) or not set(entered) <= FORM_FIELDS:
            return _problem(422, "Unknown fields in the form")
        body = {k: v for k, v in entered.items() if v is not None}
        if body.get("on_behalf_of") and not await may_act(me, str(body["on_behalf_of"])):
            return _problem(403, "Not delegated", "no live delegation covers the move-out")
        headers = {**bearer(me), "Idempotency-Key": uuid.uuid4().hex}
        for _ in range(TRIES):
            try:
                answer = await http.post(f"{config.portal}/v1/moveouts", json=body,
                                         headers=headers, timeout=PORTAL_WAIT_S)
            except httpx.TransportError:
                continue
            if answer.status_code < 500:
                return Response(answer.content, answer.status_code,
                                media_type=answer.headers.get("content-type"))
        return _problem(503, "The portal did not answer", "please try again")

    async def status(request: Request) -> Response:
        me = person(request)
        if me is None:
            return _problem(401, "Not signed in")
        try:
            answer = await http.get(f"{config.portal}/v1/moveouts/"
                                    f"{request.path_params['filing']}", headers=bearer(me))
        except httpx.TransportError:
            return _problem(503, "The portal did not answer")
        if answer.status_code >= 500:
            return _problem(503, "The portal cannot say now")
        return Response(answer.content, answer.status_code,
                        media_type=answer.headers.get("content-type"))

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[
        Route("/start", start), Route("/return", back), Route("/who", who),
        Route("/filings", file, methods=["POST"]),
        Route("/filings/{filing}", status), Route("/health", health)])
