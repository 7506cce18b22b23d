"""The reference front service's parts: the filing it sends carries only the procedure's
fields, a delegation lets a proxy file only while it covers the move-out, and a filing the
portal does not answer in time is resent with the same idempotency key."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from meshcert_simulators.frontapp.form import PROCEDURE_FIELDS, MoveoutForm, filing
from meshcert_simulators.frontapp.portal import Portal, PortalUnavailable, allows_moveout

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _form(**changes: object) -> MoveoutForm:
    raw = {"moving_date": "2026-12-11", "new_address": {"lg_code": "131130",
                                                       "address": "渋谷区宇田川町1-1"}}
    return MoveoutForm.model_validate_json(json.dumps({**raw, **changes}))


def test_the_filing_carries_only_the_procedures_fields():
    body = filing(_form(reason="転勤", on_behalf_of="dg-" + "0" * 24), "key-1")
    assert set(body) <= set(PROCEDURE_FIELDS)
    assert body["moving_date"] == date(2026, 12, 11).isoformat()
    assert body["idempotency_key"] == "key-1"
    assert "reason" not in filing(_form(), "key-2") and "on_behalf_of" not in filing(_form(),
                                                                                     "key-2")


def _delegation(**changes: object) -> dict[str, object]:
    return {"id": "dg-1", "direction": "received", "procedures": ["moveout"],
            "until": (NOW + timedelta(hours=1)).isoformat(), "revoked_at": None,
            "active": True, **changes}


@pytest.mark.parametrize(("changes", "allowed"), [
    ({}, True),
    ({"procedures": ["child-allowance"]}, False),
    ({"until": (NOW - timedelta(seconds=1)).isoformat()}, False),
    ({"revoked_at": NOW.isoformat()}, False),
    ({"direction": "granted"}, False),
    ({"active": False}, False),
])
def test_a_delegation_lets_a_proxy_file_only_while_it_covers_the_move_out(changes, allowed):
    assert (allows_moveout(_delegation(**changes), NOW) is None) is allowed
    assert allows_moveout(None, NOW) is not None


def test_a_timed_out_filing_is_resent_with_the_same_key():
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Idempotency-Key"])
        if len(seen) == 1:
            raise httpx.ReadTimeout("no answer", request=request)
        return httpx.Response(201, json={"id": "mo-1", "status": "受付"})

    async def run() -> object:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            return await Portal("http://portal", http).file_moveout(
                "token", filing(_form(), "key-9"))

    filed = asyncio.run(run())
    assert seen == ["key-9", "key-9"]
    assert filed.status == 201 and filed.body["id"] == "mo-1"  # type: ignore[attr-defined]


def test_a_portal_that_never_answers_gives_no_result():
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            await Portal("http://portal", http).file_moveout("token", filing(_form(), "k"))

    with pytest.raises(PortalUnavailable):
        asyncio.run(run())
