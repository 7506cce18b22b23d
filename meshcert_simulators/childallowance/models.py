"""Wire shapes of the reference child-allowance system: the trigger the mesh-inquirer profile
defines (an application submitted by the harness), its status, and its own art. 23 records.

States of an application: ``received`` → ``inquiring`` → one of ``decided`` (the allowance is
decided from the provided tax information), ``certificate-requested`` (the provider holds no
data: the person is asked for a 課税証明書, nothing is decided) or ``inquiry-failed`` (the
inquiry kept failing until the stated time: the person is told, nothing is decided).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from meshcert_simulators.common.wire import WireModel

APPLICATION_ID = r"^[A-Za-z0-9._:-]{1,64}$"
State = Literal["received", "inquiring", "decided", "certificate-requested", "inquiry-failed"]
TERMINAL_STATES = ("decided", "certificate-requested", "inquiry-failed")
NoticeKind = Literal["decision", "certificate-requested", "inquiry-failed"]
Outcome = Literal["pending", "provided", "refused", "failed"]


class Applicant(WireModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    juminhyo_code: Annotated[str, Field(pattern=r"^[0-9]{11}$", description="住民票コード: "
                                        "presented to the mesh for this system's 符号")]
    my_number: Annotated[str, Field(pattern=r"^[0-9]{12}$", description="個人番号 as written on "
                                    "the form: kept inside this system, never sent to the mesh")]


class Child(WireModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    birth_date: date


class ApplicationRequest(WireModel):
    application_id: Annotated[str, Field(pattern=APPLICATION_ID, description="the submitter's "
                                         "id; a resend with the same id and body is the same "
                                         "application")]
    applicant: Applicant
    children: Annotated[list[Child], Field(min_length=1, max_length=20)]


class ChildAmount(WireModel):
    name: str
    birth_date: date
    monthly_amount: int


class Decision(WireModel):
    monthly_amount: Annotated[int, Field(description="児童手当 per month, yen")]
    children: list[ChildAmount]
    tax_year: int
    taxable_income: int
    decided_on: date


class Notice(WireModel):
    """What the person is told (in Japanese, as the real notice is)."""

    kind: NoticeKind
    title: str
    body: str
    next_steps: list[str]


class InquiryView(WireModel):
    record_id: str
    outcome: Outcome
    attempts: int


class ApplicationView(WireModel):
    application_id: str
    state: State
    received_at: str
    updated_at: str
    give_up_at: Annotated[str, Field(description="when a failing inquiry is given up")]
    decision: Decision | None
    notice: Notice | None
    inquiries: list[InquiryView]


class ProvisionRecord(WireModel):
    """This system's own art. 23 record of one inquiry (番号法 第23条): the same record id,
    procedure, item, provider and times as the mesh's record of it."""

    seq: int
    record_id: str
    procedure_code: str
    item_code: str
    provider: str
    requested_at: str
    provided_at: str | None
    outcome: Outcome
    item_status: str | None
    attempts: int


class ProvisionRecordPage(WireModel):
    records: list[ProvisionRecord]
    next_after: int
    has_more: bool
