"""A downstream standard system — a 印鑑登録 (seal registration) register, an area that does
not need the My Number — written from the profile's text alone (the catalog's DOWN-* entries,
fixtures/specs/resident-registry.openapi.json for the feed, fixtures/specs/nhi.openapi.json for
the shape of the read API) without any of meshcert's simulator code: Starlette, its own SQLite,
its own poller, JWT access tokens checked against the issuer's JWKS.

It has no sync trigger (the harness waits for its polls) and restarts as a real process:
``POST /admin/restart`` answers, then re-executes the program (same pid, same arguments).
``broken`` names one realistic defect to build in (see BROKEN); None is the correct system.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BROKEN = {
    "ghost-households": "lists every member ever recorded in a household, departed ones too",
    "retry-at-interval": "retries a refused feed read at its polling interval, Retry-After unread",
    "page-start-cursor": "stores the cursor at the first entry of the page it read",
}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCHEMA = """
CREATE TABLE IF NOT EXISTS person (atena TEXT PRIMARY KEY, setai TEXT NOT NULL,
    status TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applied (n INTEGER PRIMARY KEY, atena TEXT NOT NULL,
    seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Config:
    db: Path
    issuer: str
    audience: str
    registry: str
    lg_code: str
    client_id: str
    key_file: Path
    resource: str
    interval_s: float
    broken: str | None = None


class Problem(Exception):
    def __init__(self, status: int, title: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.status, self.title, self.headers = status, title, headers or {}


def problem(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status", None) or getattr(exc, "status_code", 500)
    title = getattr(exc, "title", None) or getattr(exc, "detail", "error")
    return JSONResponse({"type": "about:blank", "title": str(title), "status": status,
                         "instance": request.url.path}, status,
                        headers=getattr(exc, "headers", None) or {},
                        media_type="application/problem+json")


class Book:
    """The register's SQLite file: one transaction per feed page (records, applied, cursor)."""

    def __init__(self, path: Path, broken: str | None) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(SCHEMA)
        self.broken = broken

    def cursor(self) -> int:
        row = self.conn.execute("SELECT v FROM state WHERE k = 'cursor'").fetchone()
        return int(row[0]) if row else 0

    def take(self, page: dict[str, Any]) -> None:
        entries = page["entries"]
        mark = self.cursor()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for entry in entries:
                if entry["seq"] <= mark:
                    continue
                record = entry["record"]
                body = {k: record[k] for k in ("name", "birth_date", "address")}
                body["name"] = {k: record["name"][k] for k in
                                ("surname", "given_name", "surname_kana", "given_name_kana")}
                self.conn.execute("INSERT OR REPLACE INTO person VALUES (?,?,?,?)",
                                  (record["atena_number"], record["setai_number"],
                                   record["status"], json.dumps(body, ensure_ascii=False)))
                self.conn.execute("INSERT INTO applied (atena, seq) VALUES (?,?)",
                                  (record["atena_number"], entry["seq"]))
            new = page["next_after"]
            if self.broken == "page-start-cursor" and entries:
                new = entries[0]["seq"]
            self.conn.execute("INSERT OR REPLACE INTO state VALUES ('cursor', ?)",
                              (max(mark, new) if self.broken != "page-start-cursor" else new,))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def person(self, atena: str) -> tuple[tuple[Any, ...], list[int]] | None:
        row = self.conn.execute("SELECT setai, status, body FROM person WHERE atena = ?",
                                (atena,)).fetchone()
        if row is None:
            return None
        seqs = [r[0] for r in self.conn.execute(
            "SELECT seq FROM applied WHERE atena = ? ORDER BY n", (atena,))]
        return row, seqs

    def members(self, setai: str) -> list[str]:
        where = "" if self.broken == "ghost-households" else " AND status = 'resident'"
        return [r[0] for r in self.conn.execute(
            f"SELECT atena FROM person WHERE setai = ?{where} ORDER BY atena", (setai,))]


def retry_after(value: str | None) -> float:
    if not value:
        return 0.0
    if value.strip().isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError):
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    return 0.0


class Poller:
    """Reads the feed from the stored cursor to its end, then waits its interval; a 429/503
    waits its Retry-After first."""

    def __init__(self, config: Config, book: Book) -> None:
        self.config, self.book = config, book
        self.key = ECKey.import_key(json.loads(config.key_file.read_text(encoding="utf-8")))
        self.token: tuple[str, float] = ("", 0.0)

    async def access_token(self, http: httpx.AsyncClient) -> str:
        if self.token[1] > time.time() + 20:
            return self.token[0]
        endpoint = f"{self.config.issuer}/oauth/token"
        now = int(time.time())
        assertion = jwt.encode({"alg": "ES256", "typ": "JWT", "kid": self.key.kid},
                               {"iss": self.config.client_id, "sub": self.config.client_id,
                                "aud": endpoint, "iat": now, "exp": now + 60,
                                "jti": uuid.uuid4().hex}, self.key)
        got = await http.post(endpoint, data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion, "scope": "registry:read",  # no My Number here
            "resource": self.config.resource})
        got.raise_for_status()
        self.token = (got.json()["access_token"], time.time() + got.json()["expires_in"])
        return self.token[0]

    async def once(self, http: httpx.AsyncClient) -> float:
        """One poll to the feed's end; how long to wait before the next."""
        url = f"{self.config.registry}/municipalities/{self.config.lg_code}/changes"
        while True:
            token = await self.access_token(http)
            got = await http.get(url, params={"after": self.book.cursor(), "limit": 100},
                                 headers={"Authorization": f"Bearer {token}"})
            if got.status_code in (429, 503):
                if self.config.broken == "retry-at-interval":
                    return self.config.interval_s
                return max(self.config.interval_s, retry_after(got.headers.get("retry-after")))
            got.raise_for_status()
            page = got.json()
            self.book.take(page)
            if not page["has_more"]:
                return self.config.interval_s

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            while True:
                try:
                    wait = await self.once(http)
                except (httpx.HTTPError, KeyError, ValueError):
                    wait = self.config.interval_s
                await asyncio.sleep(wait)


class Tokens:
    """The read API's bearer tokens: ES256 JWTs of the issuer, its JWKS fetched once."""

    def __init__(self, config: Config) -> None:
        self.config, self.keys = config, None

    async def scopes(self, request: Request) -> set[str]:
        kind, _, token = request.headers.get("authorization", "").partition(" ")
        if kind.lower() != "bearer" or not token:
            raise Problem(401, "Bearer token required", {"WWW-Authenticate": "Bearer"})
        if self.keys is None:
            async with httpx.AsyncClient(timeout=10) as http:
                got = await http.get(f"{self.config.issuer}/.well-known/jwks.json")
            self.keys = KeySet.import_key_set(got.json())
        try:
            claims = jwt.decode(token, self.keys, algorithms=["ES256"]).claims
        except (JoseError, ValueError):
            raise Problem(401, "Invalid token",
                          {"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [
            claims.get("aud")]
        if claims.get("iss") != self.config.issuer or self.config.audience not in audiences \
                or not claims.get("exp", 0) > time.time():
            raise Problem(401, "Token not for this system",
                          {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return set(str(claims.get("scope", "")).split())


def create(config: Config, argv: list[str]) -> Starlette:
    book = Book(config.db, config.broken)
    tokens = Tokens(config)

    async def reader(request: Request) -> None:
        if "downstream:read" not in await tokens.scopes(request):
            raise Problem(403, "downstream:read required",
                          {"WWW-Authenticate": 'Bearer error="insufficient_scope"'})
        if request.query_params:
            raise Problem(400, "No query parameters are taken")

    def number(request: Request, name: str) -> str:
        value = request.path_params[name]
        if len(value) != 10 or not value.isdigit():
            raise Problem(422, f"{name} is 10 digits")
        return value

    async def resident(request: Request) -> Response:
        await reader(request)
        atena = number(request, "atena_number")
        found = book.person(atena)
        if found is None:
            raise Problem(404, "No such resident here")
        (setai, status, body), seqs = found
        return JSONResponse({"atena_number": atena, "lg_code": config.lg_code,
                             "setai_number": setai, "status": status,
                             "current": status == "resident", **json.loads(body),
                             "applied_seqs": seqs})

    async def household(request: Request) -> Response:
        await reader(request)
        setai = number(request, "setai_number")
        return JSONResponse({"setai_number": setai, "members": book.members(setai)})

    async def feed(request: Request) -> Response:
        await reader(request)
        return JSONResponse({"lg_code": config.lg_code, "cursor": book.cursor(),
                             "poll_interval_s": config.interval_s})

    async def restart(request: Request) -> Response:
        if "downstream:sync" not in await tokens.scopes(request):
            raise Problem(403, "downstream:sync required")
        # A real restart: the same program again, in this process, once the answer is out.
        asyncio.get_running_loop().call_later(
            0.2, lambda: os.execv(sys.executable, [sys.executable, *argv]))
        return JSONResponse({"restarting": True}, 202)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(Poller(config, book).run())
        yield
        task.cancel()

    return Starlette(routes=[
        Route("/health", health),
        Route("/seal/residents/{atena_number}", resident),
        Route("/seal/households/{setai_number}", household),
        Route("/seal/feed", feed),
        Route("/admin/restart", restart, methods=["POST"]),
    ], exception_handlers={Problem: problem, 404: problem, 405: problem}, lifespan=lifespan)
