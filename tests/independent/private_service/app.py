"""A relying party (a mobile carrier's contract service) written from the published contract
alone — OpenID Connect Core, RFC 7636, RFC 7523, the gateway's GET /v1/basic-facts and the
catalog's RP-* text — without any of meshcert's simulator code: Starlette, httpx and joserfc.

``/signin`` starts a login, ``/cb`` completes it, ``/account`` shows the facts (asked of the
gateway on every request). Its habits differ from the reference bank's on purpose: sessions
are random ids in a dict, the JWKS is refreshed hourly and on an unknown kid, and the
gateway's Retry-After is kept per process.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
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

COOKIE = "sid"
SCOPE = "openid name address birthdate"
ALLOWED_ALGS = ("ES256", "RS256", "PS256", "EdDSA")
LEEWAY_S = 30
JWKS_MAX_AGE_S = 3600
GATEWAY_TIMEOUT_S = 1.5
FACT_NAMES = ("name", "name_kana", "address", "address_kana", "birthdate")
BROKEN = {
    "nonce-unchecked": "never compares the ID token's nonce with the login's",
    "facts-remembered": "remembers each session's facts and shows them without asking again",
}


@dataclass
class Config:
    issuer: str
    gateway: str
    client_id: str
    key: Key                 # the private JWK of its private_key_jwt assertions
    redirect_uri: str
    broken: str | None = None   # one of BROKEN: a realistic defect built in


@dataclass
class State:
    pending: dict[str, dict[str, str]] = field(default_factory=dict)   # sid -> login secrets
    signed_in: dict[str, dict[str, str]] = field(default_factory=dict)  # sid -> sub, token
    meta: dict[str, Any] | None = None
    jwks: KeySet | None = None
    jwks_at: float = 0.0
    not_before: float = 0.0       # no gateway request before this (a 429's Retry-After)
    remembered: dict[str, dict[str, str]] = field(default_factory=dict)  # sid -> facts


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _problem(status: int, title: str, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"type": "about:blank", "title": title, "status": status,
                         "detail": detail}, status_code=status,
                        media_type="application/problem+json", headers=headers or None)


def _retry_after(value: str | None) -> float:
    if not value:
        return 1.0
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 1.0


class Refused(Exception):
    pass


def create(config: Config) -> Starlette:
    state = State()
    http = httpx.AsyncClient(timeout=10)

    async def meta() -> dict[str, Any]:
        if state.meta is None:
            answer = await http.get(f"{config.issuer}/.well-known/openid-configuration")
            answer.raise_for_status()
            data = answer.json()
            if data.get("issuer") != config.issuer:
                raise Refused("discovery names another issuer")
            state.meta = data
        return state.meta

    async def keys(force: bool) -> KeySet:
        if force or state.jwks is None or time.time() - state.jwks_at > JWKS_MAX_AGE_S:
            answer = await http.get((await meta())["jwks_uri"])
            answer.raise_for_status()
            state.jwks, state.jwks_at = KeySet.import_key_set(answer.json()), time.time()
        return state.jwks

    async def verified_claims(id_token: str, nonce: str) -> dict[str, Any]:
        try:
            header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "=="))
        except (ValueError, IndexError):
            raise Refused("malformed ID token") from None
        if header.get("alg") not in ALLOWED_ALGS:
            raise Refused(f"alg {header.get('alg')!r} refused")
        kid = header.get("kid")
        found = [k for k in (await keys(False)).keys if k.kid == kid]
        if not found:
            found = [k for k in (await keys(True)).keys if k.kid == kid]
        if not found or kid is None:
            raise Refused("no such key")
        try:
            token = jwt.decode(id_token, found[0], algorithms=[header["alg"]])
        except (JoseError, ValueError):
            raise Refused("signature") from None
        claims = dict(token.claims)
        now = time.time()
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        checks = [
            claims.get("iss") == config.issuer,
            config.client_id in audiences,
            claims.get("azp", config.client_id) == config.client_id
            and (len(audiences) == 1 or claims.get("azp") == config.client_id),
            isinstance(claims.get("exp"), int | float) and claims["exp"] > now - LEEWAY_S,
            isinstance(claims.get("iat"), int | float) and claims["iat"] < now + LEEWAY_S,
            config.broken == "nonce-unchecked"
            or secrets.compare_digest(str(claims.get("nonce")), nonce),
            bool(claims.get("sub")),
        ]
        if not all(checks):
            raise Refused(f"claims refused: {checks}")
        return claims

    async def signin(request: Request) -> Response:
        sid = secrets.token_urlsafe(24)
        login = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24),
                 "verifier": secrets.token_urlsafe(48)}
        state.pending[sid] = login
        challenge = _b64(hashlib.sha256(login["verifier"].encode()).digest())
        query = urlencode({"response_type": "code", "client_id": config.client_id,
                           "redirect_uri": config.redirect_uri, "scope": SCOPE,
                           "state": login["state"], "nonce": login["nonce"],
                           "code_challenge": challenge, "code_challenge_method": "S256"})
        response = RedirectResponse(f"{(await meta())['authorization_endpoint']}?{query}", 302)
        response.set_cookie(COOKIE, sid, httponly=True, samesite="lax")
        return response

    async def callback(request: Request) -> Response:
        login = state.pending.pop(request.cookies.get(COOKIE, ""), None)
        params = request.query_params
        try:
            if login is None:
                raise Refused("no login in progress")
            if "error" in params:
                raise Refused(f"provider error {params['error']}")
            if not secrets.compare_digest(params.get("state", ""), login["state"]):
                raise Refused("state")
            endpoint = (await meta())["token_endpoint"]
            now = int(time.time())
            assertion = jwt.encode(
                {"alg": "ES256", "kid": config.key.kid},
                {"iss": config.client_id, "sub": config.client_id, "aud": endpoint,
                 "iat": now, "exp": now + 60, "jti": secrets.token_hex(16)}, config.key)
            answer = await http.post(endpoint, data={
                "grant_type": "authorization_code", "code": params.get("code", ""),
                "redirect_uri": config.redirect_uri, "code_verifier": login["verifier"],
                "client_assertion_type":
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion})
            if answer.status_code != 200:
                raise Refused(f"token endpoint {answer.status_code}")
            tokens = answer.json()
            claims = await verified_claims(tokens.get("id_token", ""), login["nonce"])
        except (Refused, httpx.HTTPError, ValueError, KeyError) as exc:
            return _problem(401, "Sign-in failed", str(exc)[:200])
        sid = secrets.token_urlsafe(24)
        state.signed_in[sid] = {"sub": str(claims["sub"]),
                                "token": str(tokens["access_token"])}
        response = RedirectResponse("/account", 303)
        response.set_cookie(COOKIE, sid, httponly=True, samesite="lax")
        return response

    async def account(request: Request) -> Response:
        sid = request.cookies.get(COOKIE, "")
        session = state.signed_in.get(sid)
        if session is None:
            return _problem(401, "Not signed in", "sign in at /signin")
        if config.broken == "facts-remembered" and sid in state.remembered:
            return JSONResponse({"customer": session["sub"], "facts": state.remembered[sid]})
        wait = state.not_before - time.time()
        if wait > 0:
            return _problem(503, "Busy", "try again shortly",
                            **{"Retry-After": str(int(wait) + 1)})
        try:
            answer = await http.get(f"{config.gateway}/v1/basic-facts",
                                    timeout=GATEWAY_TIMEOUT_S,
                                    headers={"Authorization": f"Bearer {session['token']}"})
        except httpx.HTTPError:
            return _problem(503, "Unavailable", "the facts cannot be read now; try again")
        if answer.status_code == 429:
            state.not_before = time.time() + _retry_after(answer.headers.get("retry-after"))
            return _problem(503, "Busy", "try again shortly",
                            **{"Retry-After": answer.headers.get("retry-after", "1")})
        if answer.status_code in (401, 403):
            state.signed_in.pop(sid, None)
            return _problem(403, "No consent", "sign in again to consent")
        if answer.status_code != 200:
            return _problem(503, "Unavailable", f"gateway answered {answer.status_code}")
        body = answer.json()
        source = body.get("facts", body) if isinstance(body, dict) else {}
        facts = {k: v for k, v in source.items() if k in FACT_NAMES}
        state.remembered[sid] = facts
        return JSONResponse({"customer": session["sub"], "facts": facts})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/signin", signin), Route("/cb", callback),
                             Route("/account", account), Route("/health", health)])
