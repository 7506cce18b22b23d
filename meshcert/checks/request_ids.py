"""Request ids (ERR-REQID-001): an ``X-Request-ID`` the caller sent comes back on the answer,
and one is made when the caller sent none, so one exchange can be traced across the mesh."""

from __future__ import annotations

from typing import Any

__all__ = ["REQUEST_ID_HEADER", "ensure_request_id_echoed", "ensure_request_id_present"]

REQUEST_ID_HEADER = "X-Request-ID"


def ensure_request_id_echoed(response: Any, sent: str) -> None:
    """Assert that ``response`` (an httpx response) carries ``X-Request-ID: <sent>``."""
    got = response.headers.get(REQUEST_ID_HEADER)
    assert got == sent, (
        f"the request was sent with {REQUEST_ID_HEADER}: {sent!r}; the response carries "
        f"{got!r} instead of echoing it")


def ensure_request_id_present(response: Any) -> None:
    """Assert that ``response`` carries a non-empty ``X-Request-ID`` (one made by the target
    when the request had none)."""
    assert response.headers.get(REQUEST_ID_HEADER), f"no {REQUEST_ID_HEADER} on the response"
