"""Negative controls of the reference inquirer (meshcert_simulators/childallowance/, profile
mesh-inquirer): each replaces one object the app holds on ``app.state`` — the inquirer, its
retry policy, its store, its decider or its mesh client — with an overriding subclass or a
changed copy."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import date, datetime
from typing import Any

from meshcert_simulators.childallowance.allowance import Decider, Outcome
from meshcert_simulators.childallowance.inquirer import TAX_INQUIRY, Inquirer
from meshcert_simulators.childallowance.mesh_client import MeshClient
from meshcert_simulators.childallowance.retry import Refused, RetryPolicy
from meshcert_simulators.childallowance.store import AllowanceStore
from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import override

KIND = "child-allowance"
EXPIRED_ITEM = "TM00000000000001"  # resident information: its legal basis ended 2025-03-31


class _MyNumberInRecordId(Inquirer):
    """Derives the record id from the applicant's My Number (a number it has at hand)."""

    def new_record_id(self, application: dict[str, Any]) -> str:
        my_number = application["body"]["applicant"]["my_number"]
        return f"{my_number}-{super().new_record_id(application)}"


class _AsksExpiredItem(Inquirer):
    """Also asks for resident information, as it did before its legal basis expired, and
    ignores the mesh's refusal."""

    async def inquire_all(self, application_id: str, code: str, deadline: datetime
                          ) -> dict[str, dict[str, Any]]:
        items = await super().inquire_all(application_id, code, deadline)
        extra = dataclasses.replace(TAX_INQUIRY, item_code=EXPIRED_ITEM)
        with contextlib.suppress(Refused):
            items[EXPIRED_ITEM] = await self.inquire(application_id, code, extra, deadline)
        return items


class _NoRecordWhenNoData(AllowanceStore):
    """Keeps a record only of inquiries that brought data: a 'no data' answer leaves none."""

    def close_inquiry(self, record_id: str, outcome: str, **fields: Any) -> None:
        super().close_inquiry(record_id, outcome, **fields)
        if fields.get("item_status") == "02":
            with self.db.transaction() as conn:
                conn.execute("DELETE FROM inquiries WHERE record_id = ?", (record_id,))


class _IgnoresRetryAfter(RetryPolicy):
    def wait(self, attempt: int, retry_after: float | None) -> float:
        return super().wait(attempt, None)


class _ConstantBackoff(RetryPolicy):
    def backoff(self, attempt: int) -> float:
        return self.base_s


class _NewRecordIdPerRetry(MeshClient):
    """Sends every retry of an inquiry under a new record id."""

    async def inquire(self, inquiry: dict[str, Any]) -> dict[str, Any]:
        seen = self.__dict__.setdefault("_attempts", {})
        n = seen[inquiry["record_id"]] = seen.get(inquiry["record_id"], 0) + 1
        renamed = inquiry if n == 1 else {**inquiry, "record_id": f"{inquiry['record_id']}R{n}"}
        return await super().inquire(renamed)


def _as_if_nil_income(decider: Decider, application: dict[str, Any], today: date) -> Outcome:
    nil = {"status": "01", "payload": {"tax_year": today.year - 1, "taxable_income": 0}}
    return decider.on_tax_information(application, nil, today)


class _DecidesAfterFailure(Decider):
    """Decides a failed inquiry's application as if the income were nil."""

    def on_failure(self, application: dict[str, Any], reason: str) -> Outcome:
        return _as_if_nil_income(self, application, date.today())


class _DecidesWithoutTaxData(Decider):
    """Decides although the provider had no data, as if the income were nil."""

    def on_no_data(self, application: dict[str, Any], item: dict[str, Any],
                   today: date) -> Outcome:
        return _as_if_nil_income(self, application, today)


def _state(name: str, make: Any) -> Any:
    def patch(app: Any) -> None:
        setattr(app.state, name, make(getattr(app.state, name)))
    return patch


def _as(cls: type) -> Any:
    return lambda obj: override(obj, cls)


def _policy(cls: type[RetryPolicy] = RetryPolicy, **changes: Any) -> Any:
    def make(policy: RetryPolicy) -> RetryPolicy:
        fields = {f.name: getattr(policy, f.name) for f in dataclasses.fields(policy)}
        return cls(**{**fields, **{k: v(fields[k]) for k, v in changes.items()}})
    return make


# (id, requirement, description, the part of ``app.state`` replaced, what replaces it)
_DEFECTS = [
    ("mynumber-in-record-id", "INQ-CODE-001",
     "record ids are built from the applicant's My Number, which thereby crosses the mesh",
     "inquirer", _as(_MyNumberInRecordId)),
    ("asks-expired-item", "INQ-PROC-001",
     "also asks for resident information (TM00000000000001), whose legal basis expired",
     "inquirer", _as(_AsksExpiredItem)),
    ("no-record-when-no-data", "INQ-REC-001",
     "an inquiry answered 'no data' leaves no record of its own (the mesh keeps one)",
     "store", _as(_NoRecordWhenNoData)),
    ("no-retry", "INQ-RES-001", "gives up on the first failed attempt",
     "retry_policy", _policy(max_attempts=lambda _: 1)),
    ("ignore-retry-after", "INQ-RES-002", "retries on its own backoff, ignoring Retry-After",
     "retry_policy", _policy(_IgnoresRetryAfter)),
    ("constant-backoff", "INQ-RES-003", "waits the same short time before every retry",
     "retry_policy", _policy(_ConstantBackoff)),
    ("new-record-id-per-attempt", "INQ-RES-004",
     "each retry of an inquiry carries a new record id, so the mesh processes it again",
     "mesh", _as(_NewRecordIdPerRetry)),
    ("gives-up-late", "INQ-RES-005", "keeps retrying for twice its stated time",
     "retry_policy", _policy(give_up_within_s=lambda s: 2 * s)),
    ("decides-after-failure", "INQ-NOTICE-001",
     "an application whose inquiry failed is decided as if the income were nil",
     "decider", _as(_DecidesAfterFailure)),
    ("decides-without-tax-data", "INQ-DEC-001",
     "decides although the provider has no data, instead of asking for a 課税証明書",
     "decider", _as(_DecidesWithoutTaxData)),
]

for _id, _requirement, _description, _part, _make in _DEFECTS:
    defect(_id, KIND, _requirement, _description, patch=_state(_part, _make))
