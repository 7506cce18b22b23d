"""Every way the harness can keep the income from an inquirer, and one application through each.

Kinds (each a fault plan on the mesh for the inquirer's client, or none):

- *gives up* — every attempt fails until the stated time: 503, 429, 502, 504, a timeout (the
  answer comes later than the stated time), a dropped connection, a slow body, and a 503 on
  the 符号 request (no inquiry can even be sent: the stated time counts from submission);
- *refused* — the mesh refuses: not permitted (the mesh's clock set to a day without a legal
  basis for 児童手当, so the mesh itself refuses and records it) and 符号 not issued (the mesh's
  404, injected);
- *no data* — the provider holds nothing for the person (no fault).

:func:`run_all` sends one fresh application through each kind, all kinds side by side: each
kind's fault plan names its own person (the 符号 of that person's inquiries, or their 住民票コード
in the 符号 request), so it hits that application's requests and no other. It keeps what the
harness saw. The suites judge it:
nothing decided (test_giving_up.py), given up in time and no attempt after, and the art. 23
records on both sides (test_records.py).
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from meshcert import HarnessFault
from meshcert_suites.mesh_inquirer.conftest import TERMINAL, Inquirer, Mesh, Person, Tax

SLACK_S = 1.0   # INQ-RES-005: measurement slack on the stated time
PATIENCE = 3    # how many stated times to wait for a late conclusion before judging the rest
ANSWER_BYTES = 500  # an inquiry's answer is longer than this
INQUIRIES = {"path_prefix": "/v1/inquiries"}
CODES = {"path_prefix": "/v1/codes"}
# A day on which no legal basis lets 児童手当 ask for 地方税関係情報 (the basis dates from
# 2024-04-01: fixtures/legal_basis/): the mesh, its clock set there, refuses the inquiry.
DAY_WITHOUT_BASIS = datetime(2020, 1, 6, 12, tzinfo=UTC)

# Transient failures of one attempt (INQ-RES-001 puts one on the first attempt only).
FAULTS: dict[str, dict[str, Any]] = {
    "503": {"error": {"rate": 1.0, "status": 503}},
    "429": {"error": {"rate": 1.0, "status": 429}},
    "502": {"error": {"rate": 1.0, "status": 502}},
    "504": {"error": {"rate": 1.0, "status": 504}},
    "dropped-connection": {"drop": {"rate": 1.0}},
    # The answer trickles in 16-byte pieces, so that the whole of it would come only after
    # the stated time; so does, with latency, any answer at all: only an attempt timeout and
    # a retry can decide in time.
    "slow-body": {"slow_body": "beyond-the-stated-time"},
    "timeout": {"latency": "beyond-the-stated-time"},
}


def fault_plan(kind: str, give_up_within_s: float, max_hits: int | None = None,
               match: dict[str, str] | None = None) -> dict[str, Any]:
    """The plan of transient fault ``kind`` on inquiries (or ``match``), on the first
    ``max_hits`` attempts or on all."""
    plan: dict[str, Any] = {"match": match or INQUIRIES, **FAULTS[kind]}
    if max_hits is not None:
        plan["max_hits"] = max_hits
    beyond_ms = (give_up_within_s + 1) * 1000
    if "latency" in plan:
        plan["latency"] = beyond_ms
    if "slow_body" in plan:
        plan["slow_body"] = {"chunk_bytes": 16, "delay_ms": beyond_ms / (ANSWER_BYTES / 16)}
    return plan


@dataclass(frozen=True)
class Kind:
    name: str
    ends: str                   # "gives-up", "refused" or "no-data"
    why: str                    # what kept the income from the inquirer, for messages
    clock_skew_s: float = 0.0   # the mesh's clock, as the plan shifts it

    def plan(self, stated: float, code: str, juminhyo_code: str) -> dict[str, Any] | None:
        """The plan for one application: its inquiries carry ``code``, its 符号 request
        ``juminhyo_code``."""
        inquiries = {**INQUIRIES, "body_contains": code}
        if self.name in FAULTS:
            return fault_plan(self.name, stated, match=inquiries)
        if self.name == "code-step-503":
            return fault_plan("503", stated, match={**CODES, "body_contains": juminhyo_code})
        if self.name == "not-permitted":
            return {"match": inquiries, "clock_skew_s": self.clock_skew_s}
        if self.name == "code-not-issued":
            return {"match": inquiries, "error": {"rate": 1.0, "status": 404}}
        return None

    @property
    def scope(self) -> str:
        return f"global.{self.name}"


def _kinds() -> list[Kind]:
    skew = (DAY_WITHOUT_BASIS - datetime.now(UTC)).total_seconds()
    every = "the mesh answered every attempt"
    return [
        *(Kind(name, "gives-up", f"{every} {name}") for name in ("503", "429", "502", "504")),
        Kind("timeout", "gives-up", "no attempt got an answer before the stated time"),
        Kind("dropped-connection", "gives-up", "the mesh dropped every attempt's connection"),
        Kind("slow-body", "gives-up", "every answer trickled in too slowly to arrive in time"),
        Kind("code-step-503", "gives-up", "the mesh answered every 符号 request 503"),
        Kind("not-permitted", "refused", "the mesh refused the inquiry: 照会は許可されていません",
             clock_skew_s=skew),
        Kind("code-not-issued", "refused", "the mesh refused the inquiry: 404 (符号が未取得)"),
        Kind("no-data", "no-data", "the provider has no income data for the person"),
    ]


KINDS = _kinds()
GIVES_UP = [k.name for k in KINDS if k.ends == "gives-up"]


@dataclass
class Outcome:
    """One application through one kind, as the harness saw it."""

    kind: Kind
    person: Person
    application_id: str
    stated: float
    mesh_after: int             # the mesh's exchange log before the submission
    records_after: int          # the inquirer's records before the submission
    submitted: float            # wall time (epoch seconds) just before the submission
    state_in_time: str          # the state at the stated time (+ slack), or the conclusion
    seconds: float | None       # submission to conclusion; None: not concluded in patience
    view: dict[str, Any] = field(default_factory=dict)  # the last view

    @property
    def in_time(self) -> bool:
        return self.seconds is not None and self.seconds <= self.stated + SLACK_S


def _state(inquirer: Inquirer, application_id: str) -> str | None:
    answer = inquirer.poller.get(f"{inquirer.path}/{application_id}")
    return answer.json().get("state") if answer.status_code in (200, 202) else None


def _through(kind: Kind, inquirer: Inquirer, mesh: Mesh, tax: Tax) -> Outcome:
    person = Person.fresh()
    if kind.ends != "no-data":
        tax.seed(person)
    stated = inquirer.give_up_within_s
    plan = kind.plan(stated, mesh.code_of(person), person.juminhyo_code)
    if plan is not None:
        mesh.fault(plan, kind.scope)
    mesh_after, records_after = mesh.last_seq(), inquirer.last_record_seq()
    submitted, started = time.time(), time.monotonic()
    application_id = inquirer.submit(person)
    seconds = state_in_time = None
    until = started + PATIENCE * stated
    while time.monotonic() < until:
        state = _state(inquirer, application_id)
        elapsed = time.monotonic() - started
        if state_in_time is None and (state in TERMINAL or elapsed > stated + SLACK_S):
            state_in_time = state
        if state in TERMINAL:
            seconds = elapsed
            break
        time.sleep(0.05)
    if plan is not None:
        mesh.clear_faults(kind.scope)
    return Outcome(kind, person, application_id, stated, mesh_after, records_after, submitted,
                   str(state_in_time), seconds)


def run_all(inquirer: Inquirer, mesh: Mesh, tax: Tax) -> dict[str, Outcome]:
    """One application through every kind, all at once (each kind's plan names its own
    person), so the whole takes about one stated time and its patience, not one per kind."""
    try:
        with ThreadPoolExecutor(max_workers=len(KINDS)) as pool:
            running = {kind.name: pool.submit(_through, kind, inquirer, mesh, tax)
                       for kind in KINDS}
            outcomes = {name: future.result() for name, future in running.items()}
        # One stated time more, so that an attempt made after a give-up has come (and shows)
        # before the suites judge.
        time.sleep(inquirer.give_up_within_s)
        return outcomes
    finally:
        # Never let a failed clean-up hide why the run stopped (each kind cleared its plan,
        # checked, when all went well).
        for kind in KINDS:
            with contextlib.suppress(HarnessFault):
                mesh.clear_faults(kind.scope)
