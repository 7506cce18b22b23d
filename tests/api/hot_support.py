"""Shared pieces of the hot-route tests: answers made comparable across two apps, and a hot
route wrapped so the requests it served are listed."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from meshcert_simulators.common.hot_routes import HotRoute

VOLATILE = {"x-request-id", "date", "content-length"}


def comparable(response: Any) -> tuple[int, dict[str, str], Any]:
    """Status, headers but the volatile ones, and the body (JSON without its request id)."""
    headers = {k: v for k, v in response.headers.items() if k not in VOLATILE}
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body.pop("request_id", None)
    return response.status_code, headers, body


def counting(app: Any) -> list[str]:
    """Wrap the app's (only) hot route so the paths it serves are listed (proof it took them)."""
    [route] = app.state.hot_routes
    served: list[str] = []

    async def endpoint(request: Request) -> Response:
        served.append(request.url.path)
        return await route.endpoint(request)

    app.state.hot_routes[0] = HotRoute(route.method, route.pattern, endpoint)
    return served
