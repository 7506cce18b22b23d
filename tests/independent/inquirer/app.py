"""The independent inquirer: an ASGI app (Starlette) with its own SQLite store.

What it serves (fixtures/specs/child-allowance.openapi.json): ``POST /v1/applications``
(idempotent by application_id; 202, the work continues in the background),
``GET /v1/applications/{id}`` and ``GET /v1/provision-records`` (its art. 23 records), each with
an access token of the topology's issuer for its audience. What it calls
(fixtures/specs/mesh.openapi.json): ``POST /v1/codes`` and ``POST /v1/inquiries``, with tokens
it gets by client credentials and a ``private_key_jwt`` assertion.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import secrets
import sqlite3
import string
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
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

PROCEDURE, TAX_ITEM, PROVIDER = "JT01010000000214", "TM00000000000002", "chiyoda-resident-tax"
JST = timezone(timedelta(hours=9))
DEFECTS = {
    "decides-in-other-words": "a failed or refused inquiry ends inquiry-failed, but the notice "
                              "says the applicant is not eligible, 月額 0 円",
    "mynumber-with-separators": "record ids carry the applicant's My Number, with hyphens",
    "mynumber-full-width": "record ids carry the applicant's My Number in full-width digits",
    "no-record-for-refusal": "an inquiry the mesh refused leaves no record of its own",
    "racy-resends": "every submission, resends at the same moment included, starts an inquiry "
                    "of its own under a new record id",
    "gives-up-late": "keeps retrying until 1.5 s after its stated time",
}
TRANSIENT = {408, 429, 500, 502, 503, 504}
ATTEMPT_S = 1.0
STATE_IN_PROGRESS = ("received", "inquiring")


@dataclass(frozen=True)
class Config:
    mesh_url: str
    issuer: str
    client_id: str
    key_file: Path
    audience: str             # its own, in the harness's tokens
    mesh_audience: str        # the mesh's resource identifier
    give_up_within_s: float
    db: Path
    defect: str | None = None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse({"type": "about:blank", "title": title, "status": status,
                         "detail": detail}, status, media_type="application/problem+json")


class Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Refused(Exception):
    pass


class GaveUp(Exception):
    pass


# -- the store ---------------------------------------------------------------------------------


class Store:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.executescript("""
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS applications (id TEXT PRIMARY KEY, digest TEXT,
                form TEXT, state TEXT, received_at TEXT, updated_at TEXT, give_up_at TEXT,
                decision TEXT, notice TEXT);
            CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                application_id TEXT, record_id TEXT UNIQUE, requested_at TEXT,
                provided_at TEXT, outcome TEXT, item_status TEXT, attempts INTEGER);""")

    def application(self, app_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM applications WHERE id = ?", (app_id,)).fetchone()

    def receive(self, app_id: str, digest: str, form: dict[str, Any], stated: float) -> None:
        received = datetime.now(UTC)
        self.db.execute("INSERT INTO applications VALUES (?, ?, ?, 'received', ?, ?, ?, NULL, "
                        "NULL)", (app_id, digest, json.dumps(form, ensure_ascii=False),
                                  received.isoformat(), received.isoformat(),
                                  (received + timedelta(seconds=stated)).isoformat()))

    def set_state(self, app_id: str, state: str, decision: Any = None, notice: Any = None
                  ) -> None:
        self.db.execute("UPDATE applications SET state = ?, decision = ?, notice = ?, "
                        "updated_at = ? WHERE id = ?",
                        (state, json.dumps(decision, ensure_ascii=False),
                         json.dumps(notice, ensure_ascii=False), now_iso(), app_id))

    def open_record(self, app_id: str, record_id: str) -> None:
        self.db.execute("INSERT INTO records (application_id, record_id, requested_at, "
                        "outcome, attempts) VALUES (?, ?, ?, 'pending', 0)",
                        (app_id, record_id, now_iso()))

    def count_attempt(self, record_id: str) -> None:
        self.db.execute("UPDATE records SET attempts = attempts + 1 WHERE record_id = ?",
                        (record_id,))

    def close_record(self, record_id: str, outcome: str, provided_at: str | None = None,
                     item_status: str | None = None) -> None:
        self.db.execute("UPDATE records SET outcome = ?, provided_at = ?, item_status = ? "
                        "WHERE record_id = ?", (outcome, provided_at, item_status, record_id))

    def drop_record(self, record_id: str) -> None:
        self.db.execute("DELETE FROM records WHERE record_id = ?", (record_id,))

    def records_of(self, app_id: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM records WHERE application_id = ? ORDER BY seq",
                               (app_id,)).fetchall()

    def records(self, after: int, limit: int) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
                               (after, limit)).fetchall()


# -- the form ----------------------------------------------------------------------------------


def form_problems(form: Any) -> list[str]:
    """What makes ``form`` not an ApplicationRequest of the contract."""
    if not isinstance(form, dict):
        return ["the body is not a JSON object"]
    problems = []
    if set(form) != {"application_id", "applicant", "children"}:
        problems.append("fields must be application_id, applicant and children")
    if not re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", str(form.get("application_id", ""))):
        problems.append("application_id: 1-64 of A-Z a-z 0-9 . _ : -")
    applicant = form.get("applicant")
    if not isinstance(applicant, dict) or set(applicant) != {"name", "juminhyo_code",
                                                             "my_number"}:
        problems.append("applicant: name, juminhyo_code and my_number")
    else:
        if not isinstance(applicant["name"], str) or not 1 <= len(applicant["name"]) <= 100:
            problems.append("applicant.name: 1-100 characters")
        if not re.fullmatch(r"[0-9]{11}", str(applicant["juminhyo_code"])):
            problems.append("applicant.juminhyo_code: 11 digits")
        if not re.fullmatch(r"[0-9]{12}", str(applicant["my_number"])):
            problems.append("applicant.my_number: 12 digits")
    children = form.get("children")
    if not isinstance(children, list) or not 1 <= len(children) <= 20:
        problems.append("children: 1-20 children")
    else:
        for n, child in enumerate(children):
            try:
                assert isinstance(child, dict) and set(child) == {"name", "birth_date"}
                assert isinstance(child["name"], str) and 1 <= len(child["name"]) <= 100
                date.fromisoformat(child["birth_date"])
            except (AssertionError, TypeError, ValueError):
                problems.append(f"children[{n}]: a name and an ISO birth_date")
    return problems


# -- the decision (児童手当法 as amended October 2024) -----------------------------------------


def _anniversary(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # born on 29 February
        return date(born.year + years, 3, 1)


def _until_march_after(born: date, years: int) -> date:
    """The 31 March that ends the school year in which the child turns ``years``."""
    turned = _anniversary(born, years) - timedelta(days=1)
    return date(turned.year + (turned > date(turned.year, 3, 31)), 3, 31)


def amounts(births: list[date], today: date) -> list[int]:
    """Monthly yen per child: 15,000 under 3, 10,000 up to 高校生年代, 30,000 from the third
    child (counting children up to 大学生年代)."""
    counted = sorted((b, n) for n, b in enumerate(births) if today <= _until_march_after(b, 22))
    rank = {n: r for r, (_, n) in enumerate(counted, start=1)}
    out = []
    for n, born in enumerate(births):
        if born > today or today > _until_march_after(born, 18):
            out.append(0)
        elif rank[n] >= 3:
            out.append(30_000)
        else:
            out.append(15_000 if today < _anniversary(born, 3) else 10_000)
    return out


FAILED_NOTICE = {"kind": "inquiry-failed", "title": "所得情報を確認できませんでした",
                 "body": "情報連携で所得を確認できなかったため、この申請はまだ決定していません。",
                 "next_steps": ["照会をやり直し、改めてお知らせします。",
                                "課税証明書をご提出いただくこともできます。"]}
OTHER_WORDS_NOTICE = {"kind": "inquiry-failed", "title": "審査結果のお知らせ",
                      "body": "審査の結果、児童手当の支給対象外となりました（not eligible）。"
                              "支給額: 0 円。",
                      "next_steps": ["ご不明な点は担当課へお問い合わせください。"]}


# -- the mesh ----------------------------------------------------------------------------------


class Mesh:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.key = ECKey.import_key(json.loads(config.key_file.read_text()))
        self.http = httpx.AsyncClient(timeout=None)
        self.token: tuple[str, float] | None = None

    async def access_token(self) -> str:
        if self.token and self.token[1] > time.time() + 10:
            return self.token[0]
        endpoint = f"{self.config.issuer}/oauth/token"
        issued = int(time.time())
        assertion = jwt.encode({"alg": "ES256", "kid": self.key.kid}, {
            "iss": self.config.client_id, "sub": self.config.client_id, "aud": endpoint,
            "iat": issued, "exp": issued + 60, "jti": uuid.uuid4().hex}, self.key)
        try:
            answer = await self.http.post(endpoint, data={
                "grant_type": "client_credentials", "client_assertion": assertion,
                "client_assertion_type":
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "resource": self.config.mesh_audience})
        except httpx.HTTPError as exc:
            raise Transient(f"issuer: {type(exc).__name__}") from None
        if answer.status_code != 200:
            raise Transient(f"issuer answered {answer.status_code}")
        body = answer.json()
        self.token = (body["access_token"], time.time() + float(body.get("expires_in", 60)))
        return self.token[0]

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {await self.access_token()}",
                   "Content-Type": "application/json"}
        try:
            answer = await self.http.post(self.config.mesh_url + path, headers=headers,
                                          content=json.dumps(body, ensure_ascii=False))
        except httpx.HTTPError as exc:
            raise Transient(type(exc).__name__) from None
        if answer.status_code in (200, 201):
            try:
                return dict(answer.json())
            except ValueError:
                raise Transient("an answer that is not JSON") from None
        retry_after = answer.headers.get("retry-after")
        wait = float(retry_after) if retry_after and retry_after.isdigit() else None
        if answer.status_code == 401:
            self.token = None
            raise Transient("token refused")
        kind = answer.headers.get("content-type", "")
        in_progress = answer.status_code == 409 and "json" in kind \
            and str(answer.json().get("type", "")).endswith("duplicate-record-id")
        if answer.status_code in TRANSIENT or in_progress:
            raise Transient(f"HTTP {answer.status_code}", wait)
        raise Refused(f"HTTP {answer.status_code}: {answer.text[:200]}")


async def retrying(call: Any, deadline: float) -> Any:
    """``call()`` until it answers; transient failures retried with exponential backoff
    (Retry-After honoured) until ``deadline`` (time.monotonic())."""
    for attempt in range(1, 10_000):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise GaveUp("the stated time ran out")
        retry_after = None
        try:
            return await asyncio.wait_for(call(), min(ATTEMPT_S, remaining))
        except TimeoutError:
            pass
        except Transient as exc:
            retry_after = exc.retry_after
        wait = min(1.6, 0.2 * 2 ** (attempt - 1)) * (1 + 0.2 * random.random())
        wait = max(wait, retry_after or 0.0)
        await asyncio.sleep(max(0.0, min(wait, deadline - time.monotonic())))
    raise GaveUp("too many attempts")


# -- the app -----------------------------------------------------------------------------------


def create_app(config: Config) -> Starlette:
    store, mesh = Store(config.db), Mesh(config)
    keys: dict[str, KeySet] = {}
    running: dict[str, asyncio.Task[None]] = {}

    async def authorised(request: Request, scope: str) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return False
        for fresh in (False, True):
            if fresh or "jwks" not in keys:
                answer = await mesh.http.get(f"{config.issuer}/.well-known/jwks.json")
                keys["jwks"] = KeySet.import_key_set(answer.json())
            try:
                token = jwt.decode(header[7:], keys["jwks"], algorithms=["ES256"])
                break
            except (JoseError, ValueError):
                continue
        else:
            return False
        claims = token.claims
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        return (claims.get("iss") == config.issuer and config.audience in audiences
                and float(claims.get("exp", 0)) > time.time()
                and float(claims.get("nbf", 0)) <= time.time() + 30
                and scope in str(claims.get("scope", "")).split())

    def new_record_id(form: dict[str, Any]) -> str:
        letters = "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))
        number = form["applicant"]["my_number"]
        if config.defect == "mynumber-with-separators":
            return f"IA-{number[:4]}-{number[4:8]}-{number[8:]}-{letters}"
        if config.defect == "mynumber-full-width":
            return "IA" + number.translate(str.maketrans("0123456789", "０１２３４５６７８９")) \
                + letters
        return "IA" + letters

    def conclude_without_income(app_id: str) -> None:
        notice = OTHER_WORDS_NOTICE if config.defect == "decides-in-other-words" \
            else FAILED_NOTICE
        store.set_state(app_id, "inquiry-failed", None, notice)

    async def process(app_id: str) -> None:
        row = store.application(app_id)
        assert row is not None
        form = json.loads(row["form"])
        late = 1.5 if config.defect == "gives-up-late" else -0.25  # a margin inside the edge
        received = datetime.fromisoformat(row["received_at"]).timestamp()
        deadline = time.monotonic() + received + config.give_up_within_s + late - time.time()
        store.set_state(app_id, "inquiring")
        record_id = None
        try:
            code = (await retrying(lambda: mesh.post("/v1/codes", {
                "juminhyo_code": form["applicant"]["juminhyo_code"]}), deadline))["code"]
            record_id = new_record_id(form)
            store.open_record(app_id, record_id)
            inquiry = {"record_id": record_id, "procedure_code": PROCEDURE,
                       "item_code": TAX_ITEM, "provider": PROVIDER, "code": code}

            async def attempt() -> dict[str, Any]:
                store.count_attempt(record_id)
                return await mesh.post("/v1/inquiries", inquiry)

            answer = await retrying(attempt, deadline)
        except GaveUp:
            if record_id:
                store.close_record(record_id, "failed")
            conclude_without_income(app_id)
            return
        except Refused:
            if record_id:
                if config.defect == "no-record-for-refusal":
                    store.drop_record(record_id)
                else:
                    store.close_record(record_id, "refused")
            conclude_without_income(app_id)
            return
        item = next((i for i in answer.get("items", []) if i.get("item_code") == TAX_ITEM), {})
        store.close_record(record_id, "provided", answer.get("provided_at"), item.get("status"))
        if item.get("status") == "02":
            store.set_state(app_id, "certificate-requested", None, {
                "kind": "certificate-requested", "title": "課税証明書をご提出ください",
                "body": "提供機関に所得の情報がありませんでした。申請はまだ決定していません。",
                "next_steps": ["課税（所得）証明書をご提出ください。"]})
        elif item.get("status") == "01" and isinstance(item.get("payload"), dict):
            today = datetime.now(JST).date()
            children = form["children"]
            each = amounts([date.fromisoformat(c["birth_date"]) for c in children], today)
            decision = {"monthly_amount": sum(each), "tax_year": item["payload"]["tax_year"],
                        "taxable_income": item["payload"]["taxable_income"],
                        "decided_on": today.isoformat(),
                        "children": [{"name": c["name"], "birth_date": c["birth_date"],
                                      "monthly_amount": a} for c, a in zip(children, each,
                                                                           strict=True)]}
            store.set_state(app_id, "decided", decision, {
                "kind": "decision", "title": "児童手当 認定通知",
                "body": f"児童手当を月額 {sum(each):,} 円で認定しました。",
                "next_steps": ["偶数月にお支払いします。"]})
        else:
            conclude_without_income(app_id)

    def start(app_id: str) -> None:
        task = running.get(app_id)
        if config.defect == "racy-resends" or task is None or task.done():
            running[app_id] = asyncio.get_running_loop().create_task(process(app_id))

    def view(app_id: str) -> JSONResponse:
        row = store.application(app_id)
        if row is None:
            return problem(404, "No such application", f"no application {app_id!r}")
        body = {"application_id": app_id, "state": row["state"],
                "received_at": row["received_at"], "updated_at": row["updated_at"],
                "give_up_at": row["give_up_at"], "decision": json.loads(row["decision"] or
                                                                        "null"),
                "notice": json.loads(row["notice"] or "null"),
                "inquiries": [{"record_id": r["record_id"], "outcome": r["outcome"],
                               "attempts": r["attempts"]} for r in store.records_of(app_id)]}
        return JSONResponse(body, 202 if row["state"] in STATE_IN_PROGRESS else 200)

    async def submit(request: Request) -> Response:
        if not await authorised(request, "allowance:apply"):
            return problem(401, "Unauthorized", "an access token with allowance:apply")
        try:
            form = json.loads(await request.body())
        except ValueError:
            return problem(400, "Not JSON", "the body must be an ApplicationRequest")
        problems = form_problems(form)
        if problems:
            return problem(422, "Invalid application", "; ".join(problems))
        digest = hashlib.sha256(json.dumps(form, sort_keys=True).encode()).hexdigest()
        app_id = form["application_id"]
        row = store.application(app_id)
        if row is None:
            store.receive(app_id, digest, form, config.give_up_within_s)
        elif row["digest"] != digest:
            return problem(409, "Application id already used", "with another content")
        elif row["state"] not in STATE_IN_PROGRESS:
            return view(app_id)
        start(app_id)
        return view(app_id)

    async def get_application(request: Request) -> Response:
        if not await authorised(request, "allowance:read"):
            return problem(401, "Unauthorized", "an access token with allowance:read")
        return view(request.path_params["app_id"])

    async def provision_records(request: Request) -> Response:
        if not await authorised(request, "allowance:audit"):
            return problem(401, "Unauthorized", "an access token with allowance:audit")
        try:
            after = int(request.query_params.get("after", 0))
            limit = int(request.query_params.get("limit", 100))
            assert after >= 0 and 1 <= limit <= 1000
        except (ValueError, AssertionError):
            return problem(400, "Bad paging", "after ≥ 0, 1 ≤ limit ≤ 1000")
        rows = store.records(after, limit + 1)
        records = [{"seq": r["seq"], "record_id": r["record_id"], "procedure_code": PROCEDURE,
                    "item_code": TAX_ITEM, "provider": PROVIDER,
                    "requested_at": r["requested_at"], "provided_at": r["provided_at"],
                    "outcome": r["outcome"], "item_status": r["item_status"],
                    "attempts": r["attempts"]} for r in rows[:limit]]
        return JSONResponse({"records": records,
                             "next_after": records[-1]["seq"] if records else after,
                             "has_more": len(rows) > limit})

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[
        Route("/health", health),
        Route("/v1/applications", submit, methods=["POST"]),
        Route("/v1/applications/{app_id}", get_application),
        Route("/v1/provision-records", provision_records)])
