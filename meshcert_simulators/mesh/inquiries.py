"""One inquiry through the mesh, single or a row of a bulk file (one code path): claim its
record id, check the 符号 and the legal basis, convert the 符号 to the provider's, call the
provider, and keep the outcome with its art. 23 records (the checks and their order are in
app.py's docstring)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from meshcert_simulators.common import faults
from meshcert_simulators.common.problems import Problem
from meshcert_simulators.common.topology import Institution, Topology
from meshcert_simulators.contracts.provider import ProvisionRequest
from meshcert_simulators.mesh.codes import CodeDeriver
from meshcert_simulators.mesh.models import InquiryRequest
from meshcert_simulators.mesh.store import MeshStore

JST = timezone(timedelta(hours=9))

# The fixed messages of docs/domain.md §5 F2.
MSG_CODE_NOT_ISSUED = "符号が未取得"
MSG_NOT_PERMITTED = "照会は許可されていません"

Outcome = tuple[int, dict[str, Any]]  # HTTP status, result or problem body


def now() -> datetime:
    # Shifted by a clock-skew fault plan on the request: the harness can put the mesh's
    # "today" outside a legal basis, so that it refuses an inquiry as not permitted.
    return faults.now()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def digest(row: Any) -> str:
    """What tells an identical resend from another inquiry under the same record id."""
    return hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()


def problem_of(status: int, content: dict[str, Any]) -> Problem:
    """The problem a stored refusal (a problem+json body) stands for."""
    return Problem(status, content["type"].rsplit(":", 1)[1], content["title"],
                   content.get("detail"), **{k: v for k, v in content.items() if k not in
                                              ("type", "title", "status", "detail",
                                               "instance", "request_id")})


def duplicate(inst: Institution, record_id: str) -> Problem:
    return Problem(409, "duplicate-record-id", "Duplicate record id",
                   f"record id {record_id!r} was already used by {inst.code!r}; "
                   "it is never processed twice", record_id=record_id)


def code_not_issued(detail: str) -> Problem:
    return Problem(404, "code-not-issued", "符号が未取得 (code not issued)", detail,
                   message=MSG_CODE_NOT_ISSUED)


class InquiryPipeline:
    """Answers inquiries. Everything it uses — ``store``, ``clock``, ``legal_basis``, ``codes``
    and ``provider_caller`` — is read from the app's state at the time of use, so a test or a
    negative control can replace any of them (or this object)."""

    def __init__(self, state: Any, topology: Topology) -> None:
        self.state = state
        self.topology = topology

    async def answer(self, inst: Institution, body: InquiryRequest, digest: str,
                     row: tuple[str, int] | None = None) -> Outcome:
        """One inquiry, single or a bulk ``row`` (job id, row number): claim its record id,
        check, convert, route, record, and keep the outcome (status, result or problem body).
        A bulk row never replays another inquiry's answer: an used record id is refused."""
        store: MeshStore = self.state.store
        requested = self.state.clock()
        requested_at = iso(requested)
        # Claims and outcomes commit with those of the other inquiries of their loop turn (one
        # commit for them all); each inquiry goes on only once its own is durable.
        db = store.db
        if row is None:
            kind, earlier = await db.durably(lambda: store.reserve(
                inst.code, body.record_id, digest, requested_at))
        else:
            kind, earlier = await db.durably(lambda: store.claim_row(
                *row, inst.code, body.record_id, digest, requested_at))
        if kind == "replay":
            if row is not None:
                store.finish_row(*row, inst.code, None, *earlier)
            return earlier
        if kind == "duplicate":
            refusal = duplicate(inst, body.record_id)
            if row is not None:
                store.finish_row(*row, inst.code, None, refusal.status, refusal.body())
            return refusal.status, refusal.body()
        # The art. 23 records made while processing are written with the outcome, in one
        # transaction (one durable write, not two); should processing fail unexpectedly, they
        # are written on their own, as each was before.
        records: list[dict[str, Any]] = []
        try:
            status, content = await self.process(inst, body, requested, requested_at, records)
        except Problem as problem:
            status, content = problem.status, problem.body()
        except BaseException:
            for fields in records:
                store.record(**fields)
            raise
        if row is None:
            await db.durably(lambda: store.finish(inst.code, body.record_id, status, content,
                                                  records))
        else:
            await db.durably(lambda: store.finish_row(*row, inst.code, body.record_id, status,
                                                      content, records))
        return status, content

    async def process(self, inst: Institution, body: InquiryRequest, requested: datetime,
                      requested_at: str, records: list[dict[str, Any]]) -> Outcome:
        """Check, convert and route one claimed inquiry; its art. 23 records go to
        ``records``. A refusal is raised as a Problem."""
        store: MeshStore = self.state.store
        person = store.person_of(inst.code, body.code)
        if person is None:
            raise code_not_issued(
                "this 符号 was not issued to the inquirer; get it with POST /v1/codes")

        def record(outcome: str, provided: str | None) -> None:
            records.append(dict(
                record_id=body.record_id, inquirer=inst.code, provider=body.provider,
                procedure_code=body.procedure_code, item_codes=[body.item_code],
                person_key=person, requested_at=requested_at,
                provided_at=provided, outcome=outcome,
                non_disclosure=body.non_disclosure))

        today: date = requested.astimezone(JST).date()
        rule = self.state.legal_basis.permits(body.procedure_code, inst.code, body.provider,
                                              body.item_code, today)
        provider = self.topology.institution(body.provider)
        if rule is None or provider is None or "provider" not in provider.roles:
            record("refused-not-permitted", None)
            raise Problem(403, "not-permitted", "照会は許可されていません (not permitted)",
                          f"no legal basis on {today} for {body.procedure_code} / "
                          f"{body.item_code} from {inst.code} to {body.provider}",
                          message=MSG_NOT_PERMITTED)
        deriver: CodeDeriver = self.state.codes
        provider_code = deriver.code(provider.code, person)
        store.ensure_code(provider.code, provider_code, person, requested_at)
        outgoing = ProvisionRequest(record_id=body.record_id, procedure_code=body.procedure_code,
                                    item_code=body.item_code, code=provider_code)
        answer = await self.state.provider_caller.call(provider, outgoing, record)
        provided = iso(self.state.clock())
        record("provided", provided)
        return 200, {"record_id": body.record_id, "status": answer.status,
                     "message": answer.message, "provider": provider.code,
                     "procedure_code": body.procedure_code, "route": provider.route,
                     "requested_at": requested_at, "provided_at": provided,
                     "items": [i.model_dump() for i in answer.items]}
