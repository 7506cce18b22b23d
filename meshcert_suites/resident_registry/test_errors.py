"""Errors: problem+json for every error (ERR-PROB-001), no 5xx for malformed input
(ERR-PROB-002), oversized bodies refused (ERR-PROB-003), contract-violating requests refused
(ERR-SCHEMA-002)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meshcert import Exchange
from meshcert.checks import ensure_problem_details

MIB = 1024 * 1024  # ERR-PROB-003: "a request body over 1 MiB is refused with 413"
STORED_CHECK = "/municipalities/{m}/residents"


# -- ERR-PROB-001 ---------------------------------------------------------------------------------


@pytest.mark.requirement("ERR-PROB-001")
def test_an_unknown_path_is_answered_404_with_a_problem(api, lg):
    response = api.get(f"/municipalities/{lg}/no-such-collection")
    assert response.status_code == 404, (
        f"GET of a path the contract does not have: expected 404, got {response.status_code}")
    ensure_problem_details(response, what="GET of an unknown path")


@pytest.mark.requirement("ERR-PROB-001")
def test_an_unknown_resident_is_answered_with_a_problem(api, lg, population):
    known = {p["atena_number"] for p in population}
    atena = next(n for n in (f"{i:010d}" for i in range(1, 100)) if n not in known)
    ensure_problem_details(api.get(f"/municipalities/{lg}/residents/{atena}"),
                           what=f"reading the unknown resident {atena}")


@pytest.mark.requirement("ERR-PROB-001")
def test_an_unsupported_method_is_answered_405_with_a_problem(api, lg, population):
    path = f"/municipalities/{lg}/residents/{population[0]['atena_number']}"
    response = api.delete(path)
    assert response.status_code == 405, (
        f"DELETE {path} (not in the contract): expected 405, got {response.status_code}")
    ensure_problem_details(response, what=f"DELETE {path}")


@pytest.mark.requirement("ERR-PROB-001")
def test_a_body_of_another_media_type_is_answered_415_with_a_problem(api, sandbox):
    response = api.post(f"/municipalities/{sandbox}/movements", content=b"kind=move-in",
                        headers={"Content-Type": "text/plain"})
    assert response.status_code == 415, (
        f"a text/plain body where JSON is required: expected 415, got {response.status_code}")
    ensure_problem_details(response, what="a text/plain movement")


@pytest.mark.requirement("ERR-PROB-001")
def test_an_invalid_movement_is_answered_with_a_problem(api, sandbox):
    response = api.post(f"/municipalities/{sandbox}/movements",
                        json={"movement": {"kind": "move-in"}})
    assert response.status_code in (400, 422), (
        f"a movement lacking its required members: expected 422 (or 400), got "
        f"{response.status_code}")
    ensure_problem_details(response, what="a movement lacking its required members")


@pytest.mark.requirement("ERR-PROB-001")
def test_a_malformed_token_is_answered_401_with_a_problem(harness, request, lg, population):
    recorder = harness.recorder_for(request.node)
    with harness.client("not-a-token", recorder=recorder) as client:
        response = client.get(f"/municipalities/{lg}/residents/{population[0]['atena_number']}")
    assert response.status_code == 401, f"expected 401, got {response.status_code}"
    ensure_problem_details(response, what="a request with a malformed bearer token")


# -- ERR-PROB-002 ---------------------------------------------------------------------------------

MALFORMED: dict[str, bytes] = {
    "truncated": b'{"movement": {"kind": "move-in", "event_date": "2026-11-20"',
    "not-json": b"this is not json",
    "trailing-garbage": b'{"movement": {}} }}',
    "invalid-utf8": b'{"movement": {"kind": "move-in\xff\xfe"}}',
    "single-quotes": b"{'movement': {}}",
    "nan": b'{"movement": NaN}',
    "deeply-nested": b'{"movement": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "top-level-array": b"[]",
    "top-level-null": b"null",
    "top-level-string": b'"movement"',
}

WRONG_VALUES: dict[str, dict[str, Any]] = {
    "movement-is-a-string": {"movement": "move-in"},
    "empty-member-name": {"": 1, "movement": {"kind": "birth"}},
    "kind-is-a-number": {"movement": {"kind": 42}},
    "persons-is-a-number": {"movement": {"kind": "move-in", "event_date": "2026-11-20",
                                         "notified_date": "2026-11-20", "persons": 5}},
    "impossible-date": {"movement": {"kind": "death", "atena_number": "0000000019",
                                     "event_date": "2026-02-30",
                                     "notified_date": "2026-02-30"}},
    "huge-integer": {"movement": {"kind": "death", "atena_number": 10 ** 40,
                                  "event_date": "2026-11-20", "notified_date": "2026-11-20"}},
    "year-zero": {"movement": {"kind": "death", "atena_number": "0000000019",
                               "event_date": "0000-01-01", "notified_date": "0000-01-01"}},
}


def _assert_client_error(response, what: str) -> None:
    assert 400 <= response.status_code < 500, (
        f"{what} must be refused with a 4xx (never a 5xx, never accepted); the target answered "
        f"{response.status_code}: {response.text[:200]!r}")


@pytest.mark.requirement("ERR-PROB-002")
@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_json_is_answered_with_a_4xx(api, sandbox, name):
    response = api.post(f"/municipalities/{sandbox}/movements", content=MALFORMED[name],
                        headers={"Content-Type": "application/json"})
    _assert_client_error(response, f"a movement whose body is malformed JSON ({name})")


@pytest.mark.requirement("ERR-PROB-002")
@pytest.mark.parametrize("path", ["/municipalities/{m}/moveout-notifications",
                                  "/municipalities/{m}/moveout-notifications/x-1/transitions"])
def test_malformed_json_to_the_moveout_intake_is_answered_with_a_4xx(api, sandbox, path):
    for name in ("truncated", "not-json", "invalid-utf8"):
        response = api.post(path.format(m=sandbox), content=MALFORMED[name],
                            headers={"Content-Type": "application/json"})
        _assert_client_error(response, f"POST {path} with malformed JSON ({name})")


@pytest.mark.requirement("ERR-PROB-002")
@pytest.mark.parametrize("name", list(WRONG_VALUES))
def test_wrong_types_and_values_are_answered_with_a_4xx(api, sandbox, name):
    response = api.post(f"/municipalities/{sandbox}/movements", json=WRONG_VALUES[name])
    _assert_client_error(response, f"a movement with wrong types or values ({name})")


@pytest.mark.requirement("ERR-PROB-002")
@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "100000"}, {"after": "-1"},
                                   {"after": "9" * 40}, {"limit": "ten"}, {"after": "1e3"}],
                         ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_out_of_range_query_values_are_answered_with_a_4xx(api, lg, query):
    response = api.get(f"/municipalities/{lg}/changes", params=query)
    _assert_client_error(response, f"the feed with {query}")


# -- ERR-PROB-003 ---------------------------------------------------------------------------------


def _oversized(body: dict[str, Any]) -> bytes:
    """A valid JSON body padded with whitespace to just over 1 MiB."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    return raw[:-1] + b" " * (MIB + 1 - len(raw)) + b"}"


def _assert_not_stored(api, sandbox: str, juminhyo_code: str, what: str) -> None:
    found = api.get(STORED_CHECK.format(m=sandbox), params={"juminhyo_code": juminhyo_code})
    assert found.status_code == 404, (
        f"{what} was refused, yet a resident with its 住民票コード {juminhyo_code} can be read "
        f"({found.status_code}): something was stored")


@pytest.mark.requirement("ERR-PROB-003")
def test_a_body_over_1_mib_is_refused_with_413_and_nothing_is_stored(api, sandbox,
                                                                     sandbox_move_in):
    body = sandbox_move_in()
    code = body["movement"]["persons"][0]["juminhyo_code"]
    content = _oversized(body)
    response = api.post(f"/municipalities/{sandbox}/movements", content=content,
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 413, (
        f"a {len(content)}-byte movement (over 1 MiB, Content-Length given) must be refused "
        f"with 413; the target answered {response.status_code}: {response.text[:200]}")
    _assert_not_stored(api, sandbox, code, "the oversized movement")


@pytest.mark.requirement("ERR-PROB-003")
def test_a_streamed_body_over_1_mib_is_refused_with_413_and_nothing_is_stored(
        api, harness, request, sandbox, sandbox_move_in):
    body = sandbox_move_in()
    code = body["movement"]["persons"][0]["juminhyo_code"]
    content = _oversized(body)
    path = f"/municipalities/{sandbox}/movements"

    def chunks():  # no Content-Length: the limit must hold for chunked bodies too
        for start in range(0, len(content), 64 * 1024):
            yield content[start:start + 64 * 1024]

    # Recorded by hand: the recorder's hooks read request bodies, which a stream does not allow.
    exchange = Exchange("POST", f"{harness.target.base_url}{path}",
                        {"content-type": "application/json", "transfer-encoding": "chunked"},
                        f"[{len(content)} bytes streamed in 64 KiB chunks: a valid move-in "
                        "padded with whitespace]")
    harness.recorder_for(request.node).exchanges.append(exchange)
    with harness.client() as client:
        response = client.post(path, content=chunks(), headers={"Content-Type": "application/json"})
    exchange.status, exchange.response_body = response.status_code, response.text[:2000]
    exchange.response_headers = dict(response.headers)
    assert response.status_code == 413, (
        f"a chunked {len(content)}-byte movement (over 1 MiB) must be refused with 413; the "
        f"target answered {response.status_code}: {response.text[:200]}")
    _assert_not_stored(api, sandbox, code, "the oversized chunked movement")


# -- ERR-SCHEMA-002 -------------------------------------------------------------------------------


def _with_unknown(body: dict[str, Any], where: str) -> dict[str, Any]:
    if where == "request":
        body["priority"] = "urgent"
    elif where == "movement":
        body["movement"]["applied_by"] = "clerk-7"
    elif where == "person":
        body["movement"]["persons"][0]["nickname"] = "タロ"
    elif where == "address":
        body["movement"]["address"]["floor"] = "3"
    return body


@pytest.mark.requirement("ERR-SCHEMA-002")
@pytest.mark.parametrize("where", ["request", "movement", "person", "address"])
def test_a_movement_with_an_unknown_member_is_refused(api, sandbox, sandbox_move_in, where):
    body = _with_unknown(sandbox_move_in(), where)
    code = body["movement"]["persons"][0]["juminhyo_code"]
    response = api.post(f"/municipalities/{sandbox}/movements", json=body)
    assert 400 <= response.status_code < 500, (
        f"a move-in with a member the contract does not declare (in the {where}) must be "
        f"refused with a 4xx, not silently accepted; the target answered "
        f"{response.status_code}: {response.text[:200]}")
    _assert_not_stored(api, sandbox, code, f"the move-in with an unknown member in the {where}")


VIOLATIONS: dict[str, tuple[str, Any]] = {
    "sex-as-a-number": ("sex", 1),
    "relationship-not-in-the-code-list": ("relationship", "03"),
    "juminhyo-code-of-10-digits": ("juminhyo_code", "1234567890"),
    "birth-date-not-an-object": ("birth_date", "1980-05-01"),
}


@pytest.mark.requirement("ERR-SCHEMA-002")
@pytest.mark.parametrize("name", list(VIOLATIONS))
def test_a_movement_violating_the_contract_is_refused(api, sandbox, sandbox_move_in, name):
    body = sandbox_move_in()
    field, value = VIOLATIONS[name]
    body["movement"]["persons"][0][field] = value
    response = api.post(f"/municipalities/{sandbox}/movements", json=body)
    assert 400 <= response.status_code < 500, (
        f"a move-in whose person has {field} = {value!r} violates the contract and must be "
        f"refused with a 4xx; the target answered {response.status_code}: "
        f"{response.text[:200]}")


@pytest.mark.requirement("ERR-SCHEMA-002")
def test_an_address_code_of_five_digits_is_refused(api, sandbox, sandbox_move_in):
    body = sandbox_move_in()
    body["movement"]["address"]["lg_code"] = sandbox[:5]
    response = api.post(f"/municipalities/{sandbox}/movements", json=body)
    assert 400 <= response.status_code < 500, (
        f"a move-in whose address.lg_code is {sandbox[:5]!r} (the pattern is 6 digits) must be "
        f"refused with a 4xx; the target answered {response.status_code}")
