"""What happens to an application after it is received: the person's 符号 from the mesh, the
tax inquiry (one record id, persisted before the first attempt and reused by every retry), the
decision, and the notice. Everything it uses is read from ``app.state`` at the time of use, so a
negative control can replace the policy, the clock, the store, the decider or this object.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from meshcert_simulators.childallowance.allowance import Outcome
from meshcert_simulators.childallowance.retry import GaveUp, Refused, Transient, with_retries

JST = timezone(timedelta(hours=9))
PROCEDURE = "JT01010000000214"  # 児童手当法による児童手当の支給に関する事務
TAX_ITEM = "TM00000000000002"   # 地方税関係情報
TAX_PROVIDER = "chiyoda-resident-tax"


@dataclass(frozen=True)
class Inquiry:
    procedure_code: str
    item_code: str
    provider: str


TAX_INQUIRY = Inquiry(PROCEDURE, TAX_ITEM, TAX_PROVIDER)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


class Inquirer:
    def __init__(self, state: Any) -> None:
        self.state = state  # the app's state: store, mesh, retry_policy, clock, decider

    def new_record_id(self, application: dict[str, Any]) -> str:
        """A fresh レコード識別番号. Base32 (letters and the digits 2-7 only), so it can never
        look like a 12-digit My Number."""
        return "CA" + base64.b32encode(secrets.token_bytes(15)).decode("ascii")

    async def process(self, application_id: str) -> None:
        store, clock = self.state.store, self.state.clock
        application = store.application(application_id)
        if application is None or application["state"] not in ("received", "inquiring"):
            return
        store.set_state(application_id, "inquiring", iso(clock.now()))
        deadline = datetime.fromisoformat(application["give_up_at"])
        form = application["body"]
        try:
            code = application["code"] or await self.code_of(form, deadline)
            store.set_code(application_id, code)
            items = await self.inquire_all(application_id, code, deadline)
            outcome = self.state.decider.decide(form, items[TAX_ITEM], self.today())
        except GaveUp as exc:
            outcome = self.state.decider.on_failure(form, str(exc))
        except Refused as exc:
            outcome = self.state.decider.on_failure(
                form, f"the mesh refused the inquiry: HTTP {exc.status} "
                      f"{exc.body.get('title', '')}")
        self.conclude(application_id, outcome)

    def conclude(self, application_id: str, outcome: Outcome) -> None:
        self.state.store.conclude(application_id, outcome.state, outcome.decision,
                                  outcome.notice, iso(self.state.clock.now()))

    def today(self) -> date:
        return self.state.clock.now().astimezone(JST).date()

    async def code_of(self, form: dict[str, Any], deadline: datetime) -> str:
        """This institution's 符号 of the applicant, presenting the 住民票コード (never the My
        Number)."""
        jumin = form["applicant"]["juminhyo_code"]
        return await with_retries("符号の取得", lambda: self.state.mesh.issue_code(jumin),
                                  deadline, self.state.retry_policy, self.state.clock)

    async def inquire_all(self, application_id: str, code: str, deadline: datetime
                          ) -> dict[str, dict[str, Any]]:
        """The items the decision needs, by item code."""
        return {TAX_ITEM: await self.inquire(application_id, code, TAX_INQUIRY, deadline)}

    async def inquire(self, application_id: str, code: str, inquiry: Inquiry,
                      deadline: datetime) -> dict[str, Any]:
        """One inquiry to the mesh; its record (and record id) is written before the first
        attempt and closed with the mesh's answer. Returns the answered item."""
        store, clock = self.state.store, self.state.clock
        record = store.inquiry(application_id, inquiry.item_code) or store.open_inquiry(
            application_id, self.new_record_id(store.application(application_id)),
            inquiry.procedure_code, inquiry.item_code, inquiry.provider, iso(clock.now()))
        record_id = record["record_id"]
        body = {"record_id": record_id, "procedure_code": inquiry.procedure_code,
                "item_code": inquiry.item_code, "provider": inquiry.provider, "code": code}

        async def attempt() -> tuple[dict[str, Any], dict[str, Any]]:
            store.count_attempt(record_id)
            answer = await self.state.mesh.inquire(body)
            return answer, self.item_of(answer, inquiry.item_code)

        try:
            answer, item = await with_retries("所得情報の照会", attempt, deadline,
                                              self.state.retry_policy, clock)
        except GaveUp:
            store.close_inquiry(record_id, "failed")
            raise
        except Refused as exc:
            store.close_inquiry(record_id, "refused", answer=dict(exc.body))
            raise
        store.close_inquiry(record_id, "provided", requested_at=answer.get("requested_at"),
                            provided_at=answer.get("provided_at"), item_status=item["status"],
                            answer=answer)
        return item

    @staticmethod
    def item_of(answer: dict[str, Any], item_code: str) -> dict[str, Any]:
        items = answer.get("items")
        found = [i for i in items if isinstance(i, dict) and i.get("item_code") == item_code] \
            if isinstance(items, list) else []
        if not found or not isinstance(found[0].get("status"), str):
            # A 200 without the item is a broken answer; the same record id gets it again.
            raise Transient(f"the answer has no item {item_code}")
        return found[0]
