"""Request bodies and documented responses for simulator routes.

Bodies are validated from the raw JSON bytes (``model_validate_json``): strict models then accept
ISO date strings, as JSON has no date type, and still refuse a number where a date belongs.
FastAPI's own body parameters validate the decoded Python objects, where strict mode refuses
every date string; so routes take bodies through :func:`json_body` and document them with
:func:`body_doc`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common.paging import next_after
from meshcert_simulators.common.problems import PROBLEM_MEDIA_TYPE, Problem

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})  # the methods whose bodies the edge reads


# The request headers the edge reads (it decodes only these, not every header of a request).
_EDGE_HEADERS = frozenset({b"x-request-id", b"content-length", b"content-type"})


def edge_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The headers the edge reads, by lower-case name (the last of repeated ones)."""
    found: dict[str, str] = {}
    for key, value in raw:
        name = key.lower()
        if name in _EDGE_HEADERS:
            found[name.decode("latin-1")] = value.decode("latin-1")
    return found


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or a ``+json`` type (RFC 6839), parameters ignored."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


# orjson serialising as json.dumps(..., default=str) would: datetimes and dataclasses through
# str(), non-string keys as strings.
_AS_JSON_DUMPS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                  | orjson.OPT_NON_STR_KEYS)


def json_text(content: Any) -> bytes:
    """``content`` as the JSON text a response model validates: what
    ``json.dumps(content, ensure_ascii=False, default=str)`` gives, made by orjson (~8× faster)."""
    return orjson.dumps(content, default=str, option=_AS_JSON_DUMPS)

M = TypeVar("M", bound=BaseModel)


def _integral_float(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def whole_number(ge: int, le: int) -> Any:
    """An int field bounded to [ge, le] that also takes integral floats such as 5.0.

    JSON Schema counts 5.0 as an integer, so strict pydantic alone would refuse a schema-valid
    request; strings and booleans stay refused.
    """
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_integral_float)]


_REF = "#/components/schemas/{model}"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "Stable URI naming the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
    },
    "additionalProperties": True,
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for errors (problem+json), including a default."""
    content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    out: dict[int | str, dict[str, Any]] = {
        s: {"description": "Problem details (RFC 9457)", "content": content} for s in statuses}
    out["default"] = {"description": "Problem details (RFC 9457)", "content": content}
    return out


async def json_body(request: Request, model: type[M]) -> M:
    """Validate the request body against ``model``; a 400/422 problem says what is wrong."""
    raw = await request.body()
    if not raw:
        raise Problem(400, "missing-body", "Request body required",
                      f"send a JSON object matching {model.__name__}")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{"location": ["body", *map(str, e["loc"])], "message": e["msg"],
                   "kind": e["type"]} for e in exc.errors(include_input=False)]
        if errors and errors[0]["kind"] == "json_invalid":
            raise Problem(400, "malformed-json", "Body is not valid JSON",
                          errors[0]["message"]) from None
        detail = "; ".join(f"{'.'.join(e['location'])}: {e['message']}" for e in errors[:5])
        raise Problem(422, "validation-error", "Request failed validation", detail,
                      errors=errors) from None


def only_query_parameters(request: Request, *allowed: str) -> None:
    """Refuse a query parameter the operation does not take (400), rather than ignore it: a
    misspelt ``after`` would silently restart a paged export from the beginning."""
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise Problem(400, "unknown-query-parameter", "Unknown query parameter",
                      f"this operation takes {' and '.join(map(repr, allowed))}, not {unknown}")


def records_page(records: list[dict[str, Any]], after: int, has_more: bool) -> dict[str, Any]:
    """One page of an art. 23 records export: the records, the cursor to pass next, more?"""
    return {"records": records, "next_after": next_after(records, after), "has_more": has_more}


def validated_response(model: type[BaseModel], content: dict[str, Any], status: int = 200, *,
                       exclude_unset: bool = False) -> Response:
    """Send ``content`` as JSON after validating it against the documented response model, so
    a simulator can never answer outside its own contract. ``exclude_unset`` leaves out fields
    the content does not have (a My Number the caller may not see) instead of sending null."""
    checked = model.model_validate_json(json_text(content))
    return Response(checked.model_dump_json(exclude_unset=exclude_unset), status,
                    media_type="application/json")


def body_doc(model: type[BaseModel], app_models: list[type[BaseModel]]) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body read with :func:`json_body`."""
    app_models.append(model)
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": _REF.format(model=model.__name__)}}}}}


def add_schemas(doc: dict[str, Any], models: list[type[BaseModel]]) -> None:
    """Put the JSON schemas of ``models`` (and their parts) under ``components.schemas``."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in models:
        schema = model.model_json_schema(ref_template=_REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema


def install_openapi(app: FastAPI, body_models: list[type[BaseModel]], *,
                    bearer: bool = True) -> None:
    """Generate the document once, adding the body models and the Problem schema; with
    ``bearer``, every operation takes a bearer token unless it says otherwise (the
    authorization server's do not: a client authenticates there with its assertion)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description,
                          routes=app.routes)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        add_schemas(doc, body_models)
        if bearer:
            doc["components"]["securitySchemes"] = {"bearer": {"type": "http",
                                                               "scheme": "bearer"}}
            doc["security"] = [{"bearer": []}]
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
