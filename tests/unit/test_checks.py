"""The shared checks of meshcert.checks (challenges, problem details, request ids): each passes
on a response that keeps its rule and fails, naming the flaw, on one that breaks it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from meshcert.checks import (
    ensure_bearer_challenge,
    ensure_problem_details,
    ensure_problem_media_type,
    ensure_request_id_echoed,
    ensure_request_id_present,
)

PROBLEM = "application/problem+json"


def response(status: int, *, headers: dict[str, str] | None = None, body: Any = None,
             content: bytes | None = None) -> httpx.Response:
    """A real httpx response (no mock): ``body`` is encoded as JSON, ``content`` sent as is."""
    raw = content if content is not None else (b"" if body is None else json.dumps(body).encode())
    return httpx.Response(status, headers=headers or {}, content=raw)


def problem(status: int, **members: Any) -> httpx.Response:
    body = {"type": "urn:meshcert:problem:not-found", "title": "Not found", "status": status,
            **members}
    return response(status, headers={"content-type": PROBLEM}, body=body)


# -- ensure_bearer_challenge ----------------------------------------------------------------------


def test_a_401_with_a_bearer_challenge_passes():
    ensure_bearer_challenge(response(401, headers={"WWW-Authenticate": 'Bearer realm="mesh"'}),
                            status=401, what="a request without a token")


def test_the_bearer_scheme_is_matched_in_any_case():
    ensure_bearer_challenge(response(401, headers={"WWW-Authenticate": "bearer"}), status=401,
                            what="a request without a token")


def test_a_refusal_with_another_status_fails():
    with pytest.raises(AssertionError, match="must be refused with 401; the target answered 200"):
        ensure_bearer_challenge(response(200, headers={"WWW-Authenticate": "Bearer"}),
                                status=401, what="a request without a token")


@pytest.mark.parametrize("challenge", [None, "", 'Basic realm="mesh"', "Token abc"])
def test_a_401_without_a_bearer_challenge_fails(challenge):
    headers = {} if challenge is None else {"WWW-Authenticate": challenge}
    with pytest.raises(AssertionError, match="carries no Bearer WWW-Authenticate challenge"):
        ensure_bearer_challenge(response(401, headers=headers), status=401,
                                what="a request without a token")


@pytest.mark.parametrize("challenge", ['Bearer error="insufficient_scope", scope="audit:read"',
                                       "Bearer error=insufficient_scope"])
def test_a_403_naming_the_error_passes(challenge):
    ensure_bearer_challenge(response(403, headers={"WWW-Authenticate": challenge}), status=403,
                            error="insufficient_scope", what="exporting the audit log")


@pytest.mark.parametrize("challenge", [None, 'Bearer realm="mesh"', 'Bearer error="invalid_token"'])
def test_a_403_not_naming_the_error_fails(challenge):
    headers = {} if challenge is None else {"WWW-Authenticate": challenge}
    with pytest.raises(AssertionError, match='must say error="insufficient_scope"'):
        ensure_bearer_challenge(response(403, headers=headers), status=403,
                                error="insufficient_scope", what="exporting the audit log")


def test_the_error_code_is_matched_literally():
    # "insufficient.scope" must not match as a regular expression would
    with pytest.raises(AssertionError, match="insufficient_scope"):
        ensure_bearer_challenge(
            response(403, headers={"WWW-Authenticate": 'Bearer error="insufficientXscope"'}),
            status=403, error="insufficient_scope", what="reading")


# -- ensure_problem_details / ensure_problem_media_type -------------------------------------------


def test_a_problem_passes():
    ensure_problem_details(problem(404), what="reading an unknown resident")
    ensure_problem_details(problem(404), what="reading", status=404)


def test_a_problem_with_a_charset_parameter_passes():
    ensure_problem_media_type(
        response(409, headers={"content-type": f"{PROBLEM}; charset=utf-8"}, body={}),
        what="a second inquiry")


def test_a_success_is_not_a_problem():
    with pytest.raises(AssertionError, match="should be an error; the target answered 200"):
        ensure_problem_details(problem(200), what="reading")


def test_another_status_than_the_expected_one_fails():
    with pytest.raises(AssertionError, match="must be answered 409; the target answered 404"):
        ensure_problem_details(problem(404), what="a second inquiry", status=409)


@pytest.mark.parametrize("media_type", [None, "application/json", "text/html; charset=utf-8"])
def test_an_error_of_another_media_type_fails(media_type):
    headers = {} if media_type is None else {"content-type": media_type}
    broken = response(404, headers=headers,
                      body={"type": "about:blank", "title": "Not found", "status": 404})
    with pytest.raises(AssertionError, match=r"every error must be application/problem\+json"):
        ensure_problem_details(broken, what="reading")
    with pytest.raises(AssertionError, match=r"every error must be application/problem\+json"):
        ensure_problem_media_type(broken, what="reading")


def test_a_problem_body_that_is_not_json_fails():
    broken = response(404, headers={"content-type": PROBLEM}, content=b"<html>not found</html>")
    with pytest.raises(AssertionError, match="body is not JSON"):
        ensure_problem_details(broken, what="reading")


def test_a_problem_that_is_not_an_object_fails():
    broken = response(404, headers={"content-type": PROBLEM}, body=["not found"])
    with pytest.raises(AssertionError, match="not a JSON object"):
        ensure_problem_details(broken, what="reading")


@pytest.mark.parametrize("member", ["type", "title", "status"])
def test_a_problem_lacking_a_member_fails(member):
    body = {"type": "about:blank", "title": "Not found", "status": 404}
    del body[member]
    broken = response(404, headers={"content-type": PROBLEM}, body=body)
    with pytest.raises(AssertionError, match=f"the problem lacks {member}"):
        ensure_problem_details(broken, what="reading")


@pytest.mark.parametrize("member", ["type", "title"])
def test_a_problem_whose_type_or_title_is_not_a_string_fails(member):
    with pytest.raises(AssertionError, match="type and title must be strings"):
        ensure_problem_details(problem(404, **{member: 42}), what="reading")


def test_a_problem_whose_status_differs_from_the_http_status_fails():
    body = {"type": "about:blank", "title": "Bad request", "status": 400}
    broken = response(404, headers={"content-type": PROBLEM}, body=body)
    with pytest.raises(AssertionError, match="says status 400 but the HTTP status is 404"):
        ensure_problem_details(broken, what="reading")


def test_the_problem_type_is_matched_by_slug_or_by_uri():
    duplicate = problem(409, type="urn:meshcert:problem:duplicate-record-id")
    ensure_problem_details(duplicate, what="a resend", type_="duplicate-record-id")
    ensure_problem_details(duplicate, what="a resend",
                           type_="urn:meshcert:problem:duplicate-record-id")
    with pytest.raises(AssertionError, match="expected 'urn:meshcert:problem:code-not-issued'"):
        ensure_problem_details(duplicate, what="a resend", type_="code-not-issued")


# -- ensure_request_id_echoed / ensure_request_id_present -----------------------------------------


def test_an_echoed_request_id_passes():
    ensure_request_id_echoed(response(200, headers={"X-Request-ID": "trace-1"}), "trace-1")


@pytest.mark.parametrize("got", [None, "", "trace-2", "TRACE-1"])
def test_a_request_id_not_echoed_fails(got):
    headers = {} if got is None else {"X-Request-ID": got}
    with pytest.raises(AssertionError, match="instead of echoing it"):
        ensure_request_id_echoed(response(200, headers=headers), "trace-1")


def test_a_made_request_id_passes():
    ensure_request_id_present(response(200, headers={"x-request-id": "made-by-the-target"}))


@pytest.mark.parametrize("got", [None, ""])
def test_a_missing_request_id_fails(got):
    headers = {} if got is None else {"X-Request-ID": got}
    with pytest.raises(AssertionError, match="no X-Request-ID on the response"):
        ensure_request_id_present(response(200, headers=headers))
