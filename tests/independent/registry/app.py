"""The register's HTTP API: who may do what, and each operation of the contract."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.independent.registry import moveout
from tests.independent.registry.auth import Caller, Refused, Verifier
from tests.independent.registry.checkpoints import Checkpoints
from tests.independent.registry.movements import apply, shown
from tests.independent.registry.records import broken, seeded, served
from tests.independent.registry.store import Store
from tests.independent.registry.web import (
    REQUEST_ID,
    Problem,
    json_body,
    problem_response,
    query_int,
    request_id,
)

STARTED = datetime.now(UTC).isoformat()


class Registry:
    def __init__(self, store: Store, verifier: Verifier, municipalities: set[str]) -> None:
        self.store, self.verifier, self.municipalities = store, verifier, municipalities
        self.checkpoints = Checkpoints(store)

    # -- who may do what ---------------------------------------------------------------------

    def caller(self, request: Request) -> Caller:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "unauthorized", "A bearer access token is required",
                          headers={"WWW-Authenticate": 'Bearer realm="registry"'})
        try:
            return self.verifier.caller(token.strip())
        except Refused as why:
            reason = str(why).replace('"', "'")
            raise Problem(401, "invalid-token", "The access token is refused", reason, headers={
                "WWW-Authenticate": f'Bearer error="invalid_token", '
                                    f'error_description="{reason}"'}) from None

    def hosted(self, request: Request) -> str:
        lg = request.path_params.get("lg", "")
        if lg not in self.municipalities:
            raise Problem(404, "unknown-municipality", "This system hosts no such "
                          "municipality", lg)
        return lg

    def allowed(self, request: Request, scopes: tuple[str, ...], caller: Caller | None = None
                ) -> tuple[Caller, str]:
        """The caller and the municipality, when the token holds one of ``scopes`` and covers
        that municipality."""
        lg = self.hosted(request)
        caller = caller or self.caller(request)
        if not set(scopes) & caller.scopes:
            raise Problem(403, "insufficient-scope", "The token lacks the scope needed",
                          f"needs one of: {' '.join(scopes)}", headers={
                              "WWW-Authenticate": f'Bearer error="insufficient_scope", '
                                                  f'scope="{scopes[0]}"'})
        if caller.municipalities is not None and lg not in caller.municipalities:
            raise Problem(403, "municipality-not-permitted", "The token does not cover "
                          "this municipality", lg)
        return caller, lg

    def read(self, request: Request, action: str, asked: str,
             fetch: Callable[[str], list[dict[str, Any]]]) -> tuple[Caller, str, list[Any]]:
        """A read of resident records, logged: one entry per record served, or one
        ``<action>.refused`` entry when a known caller is refused (403, 404)."""
        self.hosted(request)
        caller = self.caller(request)  # refused before the caller is known: not logged
        try:
            caller, lg = self.allowed(request, ("registry:read",), caller)
            records = fetch(lg)
        except Problem as problem:
            if problem.status in (403, 404) and not broken("unaudited-refusal"):
                with self.store.transaction():
                    self.store.log(self.hosted(request), caller.operator, f"{action}.refused",
                                   asked, False, request_id(request))
            raise
        with self.store.transaction():
            for record in records:
                self.store.log(lg, caller.operator, action, record["atena_number"],
                               caller.sees_my_number, request_id(request))
        return caller, lg, [served(r, caller.sees_my_number) for r in records]

    # -- operations --------------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "simulator": "independent-registry",
                             "kind": "resident-registry", "version": "1",
                             "harness_version": "none", "started_at": STARTED})

    async def seed(self, request: Request) -> Response:
        caller = self.caller(request)
        if "admin" not in caller.scopes:
            raise Problem(403, "insufficient-scope", "Seeding needs the admin scope", headers={
                "WWW-Authenticate": 'Bearer error="insufficient_scope", scope="admin"'})
        body = await json_body(request, "SeedRequest")
        lg = body["lg_code"]
        if lg not in self.municipalities:
            raise Problem(404, "unknown-municipality", "This system hosts no such "
                          "municipality", lg)
        if body.get("generate"):
            raise Problem(422, "not-supported", "Send the residents themselves")
        with self.store.transaction():
            if body.get("reset"):
                self.store.reset(lg)
            for given in body.get("residents", []):
                self.store.put(seeded(lg, given), ("seed", None))
            self.store.log(lg, caller.operator, "admin.seed", lg, False, request_id(request))
        return JSONResponse({"lg_code": lg, "written": len(body.get("residents", [])),
                             "residents": self.store.count(lg)})

    async def resident(self, request: Request) -> Response:
        atena = request.path_params["atena"]
        _, _, [record] = self.read(request, "resident.read", atena, lambda lg: [
            self._found(self.store.resident(lg, atena), "resident", atena)])
        return JSONResponse(record)

    async def find(self, request: Request) -> Response:
        code = request.query_params.get("juminhyo_code", "")

        def fetch(lg: str) -> list[dict[str, Any]]:
            if not (len(code) == 11 and code.isascii() and code.isdigit()):
                raise Problem(422, "validation-error", "juminhyo_code must be 11 digits")
            return [self._found(self.store.by_juminhyo(lg, code), "resident", code)]

        _, _, [record] = self.read(request, "resident.find", code, fetch)
        return JSONResponse(record)

    async def household(self, request: Request) -> Response:
        setai = request.path_params["setai"]
        _, lg, members = self.read(request, "household.read", setai, lambda lg: sorted(
            self._found(self.store.household(lg, setai) or None, "household", setai),
            key=lambda r: (r["relationship"]["code"] != "02", r["atena_number"])))
        return JSONResponse({"lg_code": lg, "setai_number": setai,
                             "head_atena_number": members[0]["atena_number"],
                             "address": members[0]["address"], "members": members})

    @staticmethod
    def _found(value: Any, what: str, asked: str) -> Any:
        if value is None:
            raise Problem(404, f"{what}-not-found", f"No such {what}", asked)
        return value

    async def changes(self, request: Request) -> Response:
        after, limit = cursor(request)
        entries: list[dict[str, Any]] = []

        def fetch(lg: str) -> list[dict[str, Any]]:  # a page is logged as one entry, below
            entries.extend(self.store.changes(lg, after, limit + 1))
            return []

        caller, lg, _ = self.read(request, "changes.read", f"after {after}", fetch)
        answer = paged(entries, after, limit)
        if answer["entries"]:
            with self.store.transaction():
                self.store.log(lg, caller.operator, "changes.read",
                               f"seq {answer['entries'][0]['seq']}-{answer['next_after']}",
                               caller.sees_my_number, request_id(request))
        for entry in answer["entries"]:
            entry["record"] = served(entry["record"], caller.sees_my_number)
        return JSONResponse(answer)

    async def movements(self, request: Request) -> Response:
        caller, lg = self.allowed(request, ("registry:write",))
        body = await json_body(request, "MovementRequest")
        status, result = await apply(self.store, lg, body["movement"], caller,
                                     request_id(request))
        return JSONResponse(shown(result, caller), status)

    async def file_moveout(self, request: Request) -> Response:
        caller, lg = self.allowed(request, ("moveout:submit",))
        body = await json_body(request, "MoveoutNotification")
        status, state = moveout.file(self.store, lg, body, caller, request_id(request))
        return JSONResponse(state, status)

    async def moveout_status(self, request: Request) -> Response:
        _, lg = self.allowed(request, ("moveout:submit", "moveout:process"))
        return JSONResponse(moveout.status(self.store, lg, request.path_params["app"]))

    async def transition(self, request: Request) -> Response:
        caller, lg = self.allowed(request, ("moveout:process",))
        body = await json_body(request, "MoveoutTransition")
        return JSONResponse(moveout.advance(self.store, lg, request.path_params["app"],
                                            body["status"], caller, request_id(request)))

    async def audit_log(self, request: Request) -> Response:
        _, lg = self.allowed(request, ("audit:read",))
        after, limit = cursor(request)
        return JSONResponse({**paged(self.store.audit(lg, after, limit + 1), after, limit),
                             "checkpoint": self.checkpoints.sign(lg)})

    async def audit_keys(self, request: Request) -> Response:
        self.allowed(request, ("audit:read",))
        return JSONResponse(self.checkpoints.keys())

    async def verification(self, request: Request) -> Response:
        _, lg = self.allowed(request, ("audit:read",))
        given = request.query_params.get("checkpoint")
        held = [self.checkpoints.read(given, lg)] if given is not None else []
        result = self.store.verify(lg, held)
        result.setdefault("checkpoints_checked", len(held))
        result["checkpoint"] = self.checkpoints.sign(lg) if result["valid"] else None
        return JSONResponse(result)


def cursor(request: Request) -> tuple[int, int]:
    """(after, limit) of a paged read, within the contract's bounds."""
    return (query_int(request, "after", 0, 0, 4611686018427387904),
            query_int(request, "limit", 100, 1, 1000))


def paged(entries: list[dict[str, Any]], after: int, limit: int) -> dict[str, Any]:
    """A page of at most ``limit`` of ``entries`` (fetched with one more, to know if more)."""
    page = entries[:limit]
    return {"entries": page, "has_more": len(entries) > limit,
            "next_after": page[-1]["seq"] if page else after}


def create_app(store: Store, verifier: Verifier, municipalities: set[str]) -> Any:
    r = Registry(store, verifier, municipalities)
    m = "/municipalities/{lg}"
    routes = [
        Route("/health", r.health), Route("/admin/seed", r.seed, methods=["POST"]),
        Route(m + "/residents/{atena}", r.resident), Route(m + "/residents", r.find),
        Route(m + "/households/{setai}", r.household), Route(m + "/changes", r.changes),
        Route(m + "/movements", r.movements, methods=["POST"]),
        Route(m + "/moveout-notifications", r.file_moveout, methods=["POST"]),
        Route(m + "/moveout-notifications/{app}", r.moveout_status),
        Route(m + "/moveout-notifications/{app}/transitions", r.transition, methods=["POST"]),
        Route(m + "/audit-log", r.audit_log), Route(m + "/audit-log/keys", r.audit_keys),
        Route(m + "/audit-log/verification", r.verification)]

    async def problem(request: Request, exc: Exception) -> Response:
        return problem_response(request, exc if isinstance(exc, Problem) else Problem(
            500, "internal-error", "The register failed to answer"))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        kind = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        return problem_response(request, Problem(exc.status_code, kind, str(exc.detail),
                                                 headers=dict(exc.headers or {})))

    app = Starlette(routes=routes, exception_handlers={
        Problem: problem, HTTPException: http_error, Exception: problem})
    return with_request_ids(app)


def with_request_ids(app: Any) -> Any:
    """Every response carries X-Request-ID: the caller's, or one made for the request."""
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        # Letters only: a hex id has a 12-digit run passing the My Number check ~0.15 % of the
        # time, which an identifier scan of the headers rightly cannot tell from a leak.
        rid = given if REQUEST_ID.match(given) else "".join(
            secrets.choice(string.ascii_lowercase) for _ in range(26))
        scope.setdefault("state", {})["request_id"] = rid

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", rid.encode())]
            await send(message)

        await app(scope, receive, sending)
    return wrapped
