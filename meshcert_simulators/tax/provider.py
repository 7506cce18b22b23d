"""The tax system's answers to the mesh: one per record id, each an art. 23 record, refusals
included (the rules are in app.py's docstring)."""

from __future__ import annotations

from typing import Any

from meshcert_simulators.common.auth import Caller
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.tax.models import (
    ITEM_NO_DATA,
    ITEM_NOT_PROVIDED,
    ITEM_PROVIDED,
    LINE_PROCESSED,
    MSG_NO_DATA,
    MSG_NOT_PROVIDED,
    PROVIDED_ITEMS,
    ProvisionRequest,
    TaxPayload,
)
from meshcert_simulators.tax.store import TaxStore

Earlier = tuple[str, dict[str, Any]]  # request digest, answer
# outcome (of the art. 23 record), item status, message, payload, data version
ItemAnswer = tuple[str, str, str | None, dict[str, Any] | None, int | None]


class TaxProvider:
    """Answers provision requests. Reads ``store`` from the app's state at the time of use, so
    a test or a negative control can replace it (or this object)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    async def provide(self, body: ProvisionRequest, who: Caller, digest: str) -> dict[str, Any]:
        """The answer (a ``TaxProvisionResponse`` body) to an inquiry of the mesh, recorded
        durably before it is returned; a resend gets the first answer (see :meth:`replay`)."""
        store: TaxStore = self.state.store
        earlier = store.answer_of(body.record_id)
        if earlier is not None:  # answered before: never processed twice
            return self.replay(body, who, digest, earlier)
        requested = store.clock()
        outcome, status, message, payload, version = self.item_answer(body)
        answer = {"status": LINE_PROCESSED, "message": None, "items": [
            {"item_code": body.item_code, "status": status, "message": message,
             "payload": payload}]}
        # The record commits with those of the other answers of this loop turn (one commit
        # for them all); the answer goes out only once it is durable.
        kept = await store.db.durably(lambda: store.record(
            record_id=body.record_id, inquirer_client=who.client_id,
            procedure_code=body.procedure_code, item_code=body.item_code, requested_at=requested,
            outcome=outcome, item_status=status, data_version=version, request_sha256=digest,
            response=answer))
        if not kept:
            # A concurrent twin won the record id: answer as it did.
            again = store.answer_of(body.record_id)
            assert again is not None
            return self.replay(body, who, digest, again)
        return answer

    def item_answer(self, body: ProvisionRequest) -> ItemAnswer:
        """What this system answers for the asked item: provided, no data or not provided
        (a provider of other items overrides this one method)."""
        if body.item_code not in PROVIDED_ITEMS:
            return "not-provided", ITEM_NOT_PROVIDED, MSG_NOT_PROVIDED, None, None
        found = self.state.store.figures(body.code)
        if found is None:
            return "no-data", ITEM_NO_DATA, MSG_NO_DATA, None, None
        figures, version = found
        payload = TaxPayload(**figures, total_levy=figures["income_levy"]
                             + figures["per_capita_levy"], data_version=version).model_dump()
        return "provided", ITEM_PROVIDED, None, payload, version

    def record_refusal(self, body: ProvisionRequest, who: Caller) -> None:
        store: TaxStore = self.state.store
        store.record(record_id=body.record_id, inquirer_client=who.client_id,
                     procedure_code=body.procedure_code, item_code=body.item_code,
                     requested_at=store.clock(), outcome="refused", item_status=None,
                     data_version=None)

    def replay(self, body: ProvisionRequest, who: Caller, digest: str,
               earlier: Earlier) -> dict[str, Any]:
        """An identical resend (the mesh retrying after losing the answer) gets the first
        answer, with no second record; another inquiry under the same record id is refused,
        and that refusal recorded."""
        if earlier[0] != digest:
            self.record_refusal(body, who)
            raise Problem(409, "duplicate-record-id", "Duplicate record id",
                          f"record id {body.record_id!r} was already used for another inquiry; "
                          "it is never processed twice", record_id=body.record_id)
        return earlier[1]
