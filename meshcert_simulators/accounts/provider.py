"""The registry's answers to the mesh (the provider contract, contracts/provider.py): an agency's
query of a person's account by this registry's 符号, one answer per record id, every query an
art. 23 record with the person it was about (so the portal can show it), refusals included."""

from __future__ import annotations

from typing import Any

from meshcert_simulators.accounts.models import (
    ACCOUNT_ITEM,
    ITEM_NO_DATA,
    ITEM_NOT_PROVIDED,
    MSG_NO_DATA,
    MSG_NOT_PROVIDED,
)
from meshcert_simulators.accounts.store import PAYLOAD_FIELDS, AccountStore, iso
from meshcert_simulators.common.auth import Caller
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.contracts.provider import ITEM_OK, LINE_OK, ProvisionRequest


class AccountProvider:
    """Reads ``store`` from the app's state at the time of use (a negative control may replace
    it, or this object)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    async def provide(self, body: ProvisionRequest, who: Caller, digest: str) -> dict[str, Any]:
        store: AccountStore = self.state.store
        earlier = store.answer_of(body.record_id)
        if earlier is not None:
            return self.replay(body, who, digest, earlier)
        account = store.account_by_code(body.code)
        payload: dict[str, Any] | None = None
        if body.item_code != ACCOUNT_ITEM:
            outcome, status, message = "not-provided", ITEM_NOT_PROVIDED, MSG_NOT_PROVIDED
        elif account is None:
            outcome, status, message = "no-data", ITEM_NO_DATA, MSG_NO_DATA
        else:
            payload = {k: account[k] for k in PAYLOAD_FIELDS}
            outcome, status, message = "provided", ITEM_OK, None
        answer = {"status": LINE_OK, "message": None, "items": [
            {"item_code": body.item_code, "status": status, "message": message,
             "payload": payload}]}
        # Durable before it is sent: a query the person cannot see afterwards never happened.
        await store.db.durably(lambda: self._record(body, who, outcome, account, digest, answer))
        return answer

    def _record(self, body: ProvisionRequest, who: Caller, outcome: str,
                account: dict[str, Any] | None, digest: str | None,
                answer: dict[str, Any] | None) -> None:
        store: AccountStore = self.state.store
        person = account["juminhyo_code"] if account else None
        if person is None:  # a refused or item-less query still names its person if known
            found = store.account_by_code(body.code)
            person = found["juminhyo_code"] if found else None
        store.record(record_id=body.record_id, inquirer_client=who.client_id,
                     procedure_code=body.procedure_code, item_code=body.item_code,
                     code=body.code, juminhyo_code=person, requested_at=iso(store.clock()),
                     outcome=outcome, request_sha256=digest, response=answer)

    def record_refusal(self, body: ProvisionRequest, who: Caller) -> None:
        self._record(body, who, "refused", None, None, None)

    def replay(self, body: ProvisionRequest, who: Caller, digest: str,
               earlier: tuple[str, dict[str, Any]]) -> dict[str, Any]:
        """An identical resend gets the first answer and no second record; another query under
        a used record id is refused (409) and that refusal recorded."""
        if earlier[0] != digest:
            self.record_refusal(body, who)
            raise Problem(409, "duplicate-record-id", "Duplicate record id",
                          f"record id {body.record_id!r} was already used for another query; "
                          "it is never processed twice", record_id=body.record_id)
        return earlier[1]
