"""The HTTP edge: RFC 9457 problems, request ids, JSON bodies checked against the committed
contract (fixtures/specs/resident-registry.openapi.json), query integers."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from starlette.requests import Request
from starlette.responses import JSONResponse

CONTRACT = Path(__file__).resolve().parents[3] / "fixtures" / "specs" / \
    "resident-registry.openapi.json"
MIB = 1024 * 1024
PROBLEM = "urn:independent-registry:problem:"
REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
INTEGER = re.compile(r"^[0-9]{1,19}$")


class Problem(Exception):
    """An answer of RFC 9457 problem details; ``headers`` e.g. a WWW-Authenticate."""

    def __init__(self, status: int, kind: str, title: str, detail: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or title)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.headers = headers or {}


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body = {"type": PROBLEM + problem.kind, "title": problem.title, "status": problem.status,
            "detail": problem.detail or problem.title, "instance": request.url.path,
            "request_id": request_id(request)}
    return JSONResponse(body, problem.status, headers=problem.headers,
                        media_type="application/problem+json")


def request_id(request: Request) -> str:
    """This request's id (set by app.with_request_ids)."""
    return str(request.scope.get("state", {}).get("request_id", ""))


@cache
def _validator(schema: str) -> Any:
    document = json.loads(CONTRACT.read_text(encoding="utf-8"))
    return jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": document["components"]},
        validate_formats=True)


async def json_body(request: Request, schema: str) -> dict[str, Any]:
    """The request's JSON body, valid against the contract's ``schema``; at most 1 MiB, also
    when sent in chunks without a Content-Length."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise Problem(415, "unsupported-media-type", "Send the body as application/json")
    raw, too_big = bytearray(), False
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MIB:
        too_big = True
    async for chunk in request.stream():  # read to the end, so the client sees the answer
        if not too_big:
            raw += chunk
            too_big = len(raw) > MIB
    if too_big:
        raise Problem(413, "payload-too-large", "The body is over 1 MiB")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise Problem(400, "malformed-json", "The body is not valid JSON", str(exc)[:200]) \
            from None
    errors = [f"{'/'.join(map(str, e.instance_path)) or 'body'}: {e.message[:300]}"
              for e in _validator(schema).iter_errors(body)]
    if errors:
        raise Problem(422, "validation-error", "The body does not match the contract",
                      "; ".join(errors[:3]))
    return dict(body)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not INTEGER.match(raw) or not low <= int(raw) <= high:
        raise Problem(422, "validation-error", f"Query parameter {name} is out of range",
                      f"{name} must be an integer from {low} to {high}")
    return int(raw)
