"""RFC 9457 problem details: the one error shape every simulator answers with."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:meshcert:problem:"


def problem_type(slug: str) -> str:
    """The stable type URI of a problem, e.g. ``urn:meshcert:problem:not-found``."""
    return PROBLEM_TYPE_BASE + slug


class Problem(Exception):
    """An error a handler raises to answer with problem+json.

    ``slug`` names the kind of problem and becomes a stable ``type`` URI that clients (and the
    suites) may switch on; ``extensions`` adds members beside the standard ones.
    """

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": problem_type(self.slug), "title": self.title,
                               "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        if instance:
            out["instance"] = instance
        out.update(self.extensions)
        return out

    def response(self, instance: str | None = None, request_id: str | None = None) -> Response:
        body = self.body(instance)
        if request_id:
            body.setdefault("request_id", request_id)
        return problem_response(body, self.status, self.headers)


def problem_response(body: dict[str, Any], status: int, headers: dict[str, str] | None = None
                     ) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


# Titles for the statuses the framework itself raises, keyed to a stable slug.
STANDARD_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed for this client"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Request failed validation"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-error", "Internal error"),
    503: ("unavailable", "Service unavailable"),
}


def standard_problem(status: int, detail: str | None = None, **extensions: Any) -> Problem:
    slug, title = STANDARD_PROBLEMS.get(status, ("error", "Error"))
    return Problem(status, slug, title, detail, **extensions)
