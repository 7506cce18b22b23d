"""Negative controls of the reference front service (meshcert_simulators/frontapp/, profile
front-service): each puts an overriding subclass or another function in place of one object the
app holds on ``app.state`` — its portal view, delegation check, filing builder, sessions, login
flow or ID-token validator — or wraps the app, so exactly one habit of a front service goes
wrong. The relying-party ones are the private-service controls, applied to this app."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import override
from meshcert_simulators.defects.private_service import (
    _asks_gender,
    _IgnoresNonce,
    _PkceVerifierReused,
    _state_as,
    _validator_as,
)
from meshcert_simulators.frontapp.delegations import Delegations
from meshcert_simulators.frontapp.form import MoveoutForm, filing
from meshcert_simulators.frontapp.portal import Answer, Portal

KIND = "front-app"
SLOW_S = 61.0               # beyond the whole 60-second budget
# The online filing window as a moving date: from 10 days ago to 30 days ahead.
EARLIEST, LATEST = timedelta(days=-10), timedelta(days=30)


def _clamped_filing(form: MoveoutForm, key: str) -> dict[str, Any]:
    """Moves the person's moving date into the window, so every filing is 'accepted'."""
    today = date.today()
    moved = min(max(form.moving_date, today + EARLIEST), today + LATEST)
    return filing(form.model_copy(update={"moving_date": moved}), key)


def _clamps_moving_date(app: Any) -> None:
    app.state.filing = _clamped_filing


class _NewKeyOnResend(Portal):
    """Makes a new idempotency key for every resend, so a timeout makes a second filing."""

    async def post_once(self, token: str, body: dict[str, Any]) -> Answer:
        return await super().post_once(token, {**body, "idempotency_key": str(uuid.uuid4())})


class _CachesStatus(Portal):
    """Shows the status it read first for an application from then on."""

    async def moveout(self, token: str, moveout_id: str) -> Answer:
        cache: dict[str, Answer] = self.__dict__.setdefault("_status_cache", {})
        if moveout_id not in cache:
            cache[moveout_id] = await super().moveout(token, moveout_id)
        return cache[moveout_id]


class _IgnoresScope(Delegations):
    """Checks only that the delegation exists and is not revoked: any procedure, any time."""

    async def refusal(self, token: str, delegation_id: str) -> str | None:
        found = await self.portal.delegation(token, delegation_id)
        if found is None or found.get("revoked_at"):
            return "no live delegation"
        return None


class _RemembersDelegation(Delegations):
    """Checks a delegation once and remembers the verdict (a revocation goes unseen)."""

    async def refusal(self, token: str, delegation_id: str) -> str | None:
        seen: dict[str, str | None] = self.__dict__.setdefault("_verdicts", {})
        if delegation_id not in seen:
            seen[delegation_id] = await super().refusal(token, delegation_id)
        return seen[delegation_id]


def _portal_as(cls: type[Portal]) -> Callable[[Any], None]:
    """The app's portal view replaced everywhere it is held (app, delegation check)."""
    def patch(app: Any) -> None:
        portal = override(app.state.portal, cls)
        app.state.portal = portal
        app.state.delegations.portal = portal
    return patch


def _slow_when_complete(inner: ASGIApp) -> ASGIApp:
    """Holds back any answer that shows 完了 for longer than the whole budget."""
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await inner(scope, receive, send)
            return
        held: list[Message] = []

        async def keep(message: Message) -> None:
            held.append(message)

        await inner(scope, receive, keep)
        if any("完了".encode() in m.get("body", b"") for m in held):
            await asyncio.sleep(SLOW_S)
        for message in held:
            await send(message)
    return app


_DEFECTS: list[tuple[str, str, str, Callable[[Any], None] | None, Callable[[Any], Any] | None]] = [
    ("front-clamps-moving-date", "FRONT-MOVEOUT-WINDOW-001",
     "moves the person's moving date into the filing window", _clamps_moving_date, None),
    ("front-new-key-on-resend", "FRONT-MOVEOUT-IDEMP-001",
     "resends a timed-out move-out with a new idempotency key", _portal_as(_NewKeyOnResend),
     None),
    ("front-caches-status", "FRONT-STATUS-001",
     "shows the status it read first from then on", _portal_as(_CachesStatus), None),
    ("front-proxy-ignores-scope", "FRONT-PROXY-SCOPE-001",
     "lets a proxy file under any live delegation, whatever it covers and until when",
     _state_as("delegations", _IgnoresScope), None),
    ("front-proxy-remembers-delegation", "FRONT-PROXY-REVOKE-001",
     "checks a delegation once and keeps filing under it after the principal revoked it",
     _state_as("delegations", _RemembersDelegation), None),
    ("front-pkce-verifier-reused", "FRONT-AUTH-001", "sends the same PKCE verifier every login",
     _state_as("sessions", _PkceVerifierReused), None),
    ("front-ignores-nonce", "FRONT-AUTH-002", "never compares the ID token's nonce",
     _validator_as(_IgnoresNonce), None),
    ("front-asks-gender", "FRONT-DATA-001",
     "also asks digital authentication for gender, which the move-out does not need",
     _asks_gender, None),
    ("front-slow-status", "FRONT-60S-001",
     "holds back the status view showing 完了 for over a minute", None, _slow_when_complete),
]

for _id, _requirement, _description, _patch, _wrap in _DEFECTS:
    defect(_id, KIND, _requirement, f"the front app {_description}", patch=_patch, wrap=_wrap)
