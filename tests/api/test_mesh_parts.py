"""The mesh's parts on ``app.state`` are what its routes use: each can be replaced on its own
(the provider call, the inquiry pipeline) and tested without HTTP (the provider caller)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from meshcert_simulators.common.problems import Problem
from meshcert_simulators.contracts.provider import ProvidedItem, ProvisionRequest, ProvisionResponse
from meshcert_simulators.mesh.provider_call import ProviderCaller
from tests.api import mesh_support as ms

TOPO = ms.mesh_topology()


class _Answering:
    """A provider caller that answers without any HTTP, and notes what it was asked."""

    def __init__(self) -> None:
        self.asked: list[ProvisionRequest] = []

    async def call(self, provider: Any, outgoing: ProvisionRequest,
                   record: Any) -> ProvisionResponse:
        self.asked.append(outgoing)
        return ProvisionResponse(status="09", items=[ProvidedItem(
            item_code=outgoing.item_code, status="01", payload={"from": "replacement"})])


def _inquire(client: Any, record_id: str) -> httpx.Response:
    mine = client.post("/v1/codes", json={"juminhyo_code": ms.person(1)},
                       headers=ms.auth(TOPO, ms.CHILD)).json()["code"]
    return client.post("/v1/inquiries", headers=ms.auth(TOPO, ms.CHILD), json={
        "record_id": record_id, "procedure_code": ms.CHILD_PROC, "item_code": ms.TAX_ITEM,
        "provider": ms.TAX, "code": mine})


def test_a_replaced_provider_caller_answers_the_inquiry(tmp_path):
    app = ms.mesh_app(tmp_path)  # no provider transport: the network would be tried
    caller = _Answering()
    app.state.provider_caller = caller
    with ms.client_for(app) as client:
        r = _inquire(client, "parts-1")
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["payload"] == {"from": "replacement"}
    assert [a.record_id for a in caller.asked] == ["parts-1"]


def test_a_replaced_pipeline_answers_single_inquiries(tmp_path):
    app = ms.mesh_app(tmp_path, provider=ms.FakeProvider())

    class Refusing:
        async def answer(self, inst: Any, body: Any, digest: str,
                         row: Any = None) -> tuple[int, dict[str, Any]]:
            refusal = Problem(409, "duplicate-record-id", "Duplicate record id",
                              "refused by the replacement")
            return refusal.status, refusal.body()

    app.state.inquiries = Refusing()
    with ms.client_for(app) as client:
        r = _inquire(client, "parts-2")
    assert r.status_code == 409, r.text
    assert r.json()["detail"] == "refused by the replacement"


def test_the_provider_caller_refuses_an_answer_with_a_my_number_without_http(tmp_path):
    app = ms.mesh_app(tmp_path)
    app.state.provider_transport = httpx.ASGITransport(
        app=ms.FakeProvider(mode="mynumber").app())
    caller = ProviderCaller(app.state, TOPO, token=None)
    recorded: list[tuple[str, str | None]] = []
    outgoing = ProvisionRequest(record_id="parts-3", procedure_code=ms.CHILD_PROC,
                                item_code=ms.TAX_ITEM, code="A" * 32)
    provider = TOPO.institution(ms.TAX)
    assert provider is not None

    async def call() -> Problem:
        try:
            await caller.call(provider, outgoing, lambda *a: recorded.append(a))
        except Problem as problem:
            return problem
        raise AssertionError("an answer with a My Number was passed on")

    problem = asyncio.run(call())
    assert (problem.status, problem.body()["type"]) == (
        502, "urn:meshcert:problem:provider-bad-answer")
    assert recorded == [("provider-bad-answer", None)]
    app.state.store.close()
