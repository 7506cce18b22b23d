"""The bank's side of the OpenID Connect authorization code flow: the authorization request it
sends the person to, and the checks of the answer that comes back to its callback (OpenID
Connect Core §3.1.2, §3.1.3; RFC 7636 PKCE; RFC 9700 §2.1 state and nonce).

Each step is one method, so a negative control overrides exactly one of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from meshcert_simulators.bank.id_token import Expected, IdTokenValidator, Rejected
from meshcert_simulators.bank.provider import Provider, ProviderError
from meshcert_simulators.bank.sessions import PendingLogin, Session, code_challenge, new_secret
from meshcert_simulators.common.problems import Problem

# Account opening: 犯罪収益移転防止法 第4条 (取引時確認) needs 氏名, 住居, 生年月日 — not 性別.
PURPOSE = "預金口座の開設（犯罪収益移転防止法に基づく取引時確認）"
SCOPES = ("openid", "name", "address", "birthdate")


@dataclass(frozen=True)
class LoginFlow:
    provider: Provider
    validator: IdTokenValidator
    redirect_uri: str
    scopes: tuple[str, ...] = SCOPES

    async def authorization_url(self, login: PendingLogin) -> str:
        endpoint = (await self.provider.metadata())["authorization_endpoint"]
        return f"{endpoint}?{urlencode(self.authorization_params(login))}"

    def authorization_params(self, login: PendingLogin) -> dict[str, str]:
        return {"response_type": "code", "client_id": self.provider.client_id,
                "redirect_uri": self.redirect_uri, "scope": " ".join(self.scopes),
                "state": login.state, "nonce": login.nonce,
                "code_challenge": code_challenge(login.verifier),
                "code_challenge_method": "S256"}

    async def complete(self, params: Mapping[str, str], login: PendingLogin) -> Session:
        """The session of a successful callback; raises :class:`Rejected` otherwise."""
        self.check_error(params)
        self.check_state(params, login)
        code = params.get("code")
        if not code:
            raise Rejected("no-code", "the provider's answer carries no code")
        tokens = await self.redeem(code, login)
        claims = await self.validator.validate(tokens["id_token"], Expected(
            issuer=self.provider.issuer, client_id=self.provider.client_id,
            nonce=login.nonce))
        return Session(sub=str(claims["sub"]), access_token=tokens["access_token"])

    def check_error(self, params: Mapping[str, str]) -> None:
        if "error" in params:
            raise Rejected("provider-error", f"the provider answered {params['error']!r}: "
                                             f"{params.get('error_description', '')}")

    def check_state(self, params: Mapping[str, str], login: PendingLogin) -> None:
        if params.get("state") != login.state:
            raise Rejected("state", "the state is not the one this login sent")

    async def redeem(self, code: str, login: PendingLogin) -> dict[str, Any]:
        try:
            answer = await self.provider.exchange(code, login.verifier, self.redirect_uri)
        except (ProviderError, OSError) as exc:
            raise Rejected("token-request", f"the token request failed: {exc}") from None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if answer.status_code != 200 or not isinstance(body, dict):
            raise Rejected("token-request", f"the token endpoint answered "
                                            f"{answer.status_code}: {answer.text[:300]}")
        for name in ("id_token", "access_token"):
            if not isinstance(body.get(name), str):
                raise Rejected("token-request", f"the token answer has no {name}")
        return body


def set_cookie(response: Response, cookie: str, value: str) -> None:
    response.set_cookie(cookie, value, httponly=True, samesite="lax", path="/")


def install_login_routes(app: FastAPI, cookie: str, callback: str, signed_in: str) -> None:
    """GET /login and the callback of a relying party whose ``app.state`` holds ``sessions``
    and ``login_flow``: a refused answer is a 401 problem, an unreadable provider a 503 with
    Retry-After, a sound one signs the browser in and sends it to ``signed_in``."""

    def unavailable(exc: ProviderError, then: str) -> Problem:
        return Problem(503, "provider-unavailable", "Digital authentication is unavailable",
                       f"{then} ({exc})", headers={"Retry-After": "5"})

    @app.get("/login", tags=["login"], operation_id="startLogin",
             summary="Start a login with digital authentication (302 to the provider)")
    async def login(request: Request) -> Response:
        browser = request.cookies.get(cookie) or new_secret()
        pending = app.state.sessions.start_login(browser)
        try:
            url = await app.state.login_flow.authorization_url(pending)
        except ProviderError as exc:
            raise unavailable(exc, "try again later") from None
        response = RedirectResponse(url, status_code=302)
        set_cookie(response, cookie, browser)
        return response

    @app.get(callback, tags=["login"], operation_id="loginCallback",
             summary="The provider's answer: checked, then the person is signed in")
    async def login_callback(request: Request) -> Response:
        browser = request.cookies.get(cookie)
        pending = app.state.sessions.take_login(browser) if browser else None
        if pending is None:
            raise Problem(400, "no-login-in-progress", "No login in progress",
                          "start again at /login")
        try:
            session = await app.state.login_flow.complete(dict(request.query_params), pending)
        except Rejected as exc:
            raise Problem(401, "login-refused", "Login refused", exc.detail,
                          reason=exc.reason) from None
        except ProviderError as exc:  # its keys could not be read: nothing is trusted
            raise unavailable(exc, "log in again later") from None
        response = RedirectResponse(signed_in, status_code=303)
        set_cookie(response, cookie, app.state.sessions.sign_in(session))
        return response
