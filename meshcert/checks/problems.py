"""RFC 9457 problem details: how every error of a mesh system is answered (ERR-PROB-001,
PRV-DUP-001).

An error is ``application/problem+json``: a JSON object with ``type`` and ``title`` (strings)
and ``status`` equal to the HTTP status. The mesh's problem types are ``urn:meshcert:problem:``
followed by a slug (the contracts in fixtures/specs/ name each).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PROBLEM_MEDIA_TYPE", "PROBLEM_TYPE_PREFIX", "ensure_problem_details",
           "ensure_problem_media_type"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:meshcert:problem:"


def _media_type(response: Any) -> str:
    return response.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def ensure_problem_media_type(response: Any, *, what: str) -> None:
    """Assert that ``response`` (an httpx response) is ``application/problem+json`` (parameters
    such as ``charset`` allowed), whatever its body; ``what`` names the request."""
    assert _media_type(response) == PROBLEM_MEDIA_TYPE, (
        f"{what} was answered {response.status_code} as {_media_type(response) or 'no media type'}"
        f"; every error must be {PROBLEM_MEDIA_TYPE} (RFC 9457). Body: {response.text[:200]!r}")


def ensure_problem_details(response: Any, *, what: str, status: int | None = None,
                           type_: str | None = None) -> None:
    """Assert that ``response`` is an RFC 9457 problem: an error status (``status`` exactly, if
    given), ``application/problem+json``, a JSON object with string ``type`` and ``title`` and
    a ``status`` member equal to the HTTP status. With ``type_`` (a slug such as
    ``"duplicate-record-id"`` or a whole URI) the ``type`` must be that problem type."""
    if status is None:
        assert response.status_code >= 400, (
            f"{what} should be an error; the target answered {response.status_code}: "
            f"{response.text[:200]}")
    else:
        assert response.status_code == status, (
            f"{what} must be answered {status}; the target answered {response.status_code}: "
            f"{response.text[:200]}")
    ensure_problem_media_type(response, what=what)
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{what}: the {PROBLEM_MEDIA_TYPE} body is not JSON: "
                             f"{response.text[:200]!r}") from None
    assert isinstance(body, dict), f"{what}: the problem is not a JSON object: {body!r:.200}"
    missing = [m for m in ("type", "title", "status") if m not in body]
    assert not missing, f"{what}: the problem lacks {', '.join(missing)}: {body!r:.300}"
    assert isinstance(body["type"], str) and isinstance(body["title"], str), (
        f"{what}: type and title must be strings: {body!r:.300}")
    assert body["status"] == response.status_code, (
        f"{what}: the problem says status {body['status']!r} but the HTTP status is "
        f"{response.status_code}")
    if type_ is not None:
        expected = type_ if ":" in type_ else PROBLEM_TYPE_PREFIX + type_
        assert body["type"] == expected, (
            f"{what}: the problem type is {body['type']!r}; expected {expected!r}")
