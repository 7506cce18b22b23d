"""The mesh's wire models: what inquirers send and get back (the provider side is in
meshcert_simulators/contracts/provider.py)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from meshcert_simulators.common.wire import WireModel
from meshcert_simulators.contracts.codes import (
    INSTITUTION_CODE,
    ITEM_CODE,
    MESH_CODE,
    PROCEDURE_CODE,
    RECORD_ID,
)

BULK_MAX_ROWS = 10_000  # docs/domain.md §7: a bulk query file has at most 10,000 rows


class CodeRequest(WireModel):
    juminhyo_code: Annotated[str, Field(pattern=r"^[0-9]{11}$", description="住民票コード")]


class CodeOut(WireModel):
    institution: str
    code: Annotated[str, Field(description="this institution's 符号 of the person")]
    newly_issued: bool


class InquiryRequest(WireModel):
    record_id: Annotated[str, Field(pattern=RECORD_ID,
                                    description="レコード識別番号, unique per inquirer")]
    procedure_code: Annotated[str, Field(pattern=PROCEDURE_CODE, description="事務手続コード")]
    item_code: Annotated[str, Field(pattern=ITEM_CODE, description="特定個人情報名コード")]
    provider: Annotated[str, Field(pattern=INSTITUTION_CODE)]
    code: Annotated[str, Field(pattern=MESH_CODE, description="the inquirer's own 符号")]
    non_disclosure: bool = False


class BulkInquiryRequest(WireModel):
    rows: Annotated[list[InquiryRequest], Field(min_length=1, max_length=BULK_MAX_ROWS,
                                                description="one inquiry per row")]


class BulkAccepted(WireModel):
    job_id: str
    state: str
    total: int
    status_url: str


class InquiryItem(WireModel):
    item_code: str
    status: str
    message: str | None = None
    payload: dict[str, Any] | None = None


class InquiryResult(WireModel):
    record_id: str
    status: str
    message: str | None = None
    provider: str
    procedure_code: str
    route: str
    requested_at: str
    provided_at: str
    items: list[InquiryItem]


class RowProblem(WireModel):
    type: str
    title: str
    status: int
    detail: str | None = None
    message: str | None = None


class BulkRow(WireModel):
    row: Annotated[int, Field(description="1-based position in the file")]
    record_id: str
    state: Annotated[str, Field(description="pending | ok | failed")]
    status: int | None = None
    problem: RowProblem | None = None
    result: InquiryResult | None = None


class BulkJob(WireModel):
    job_id: str
    state: Annotated[str, Field(description="queued | running | done")]
    submitted_at: str
    finished_at: str | None
    total: int
    done: Annotated[int, Field(description="rows answered")]
    failed: Annotated[int, Field(description="rows refused or failed")]
    pending: int
    rows: list[BulkRow]
    next_after: Annotated[int | None, Field(description="pass as `after` for the next page")]


class ProvisionRecord(WireModel):
    seq: int
    record_id: str
    inquirer: str
    provider: str
    procedure_code: str
    item_codes: list[str]
    requested_at: str
    provided_at: str | None
    outcome: str
    non_disclosure: bool


class ProvisionRecordList(WireModel):
    records: list[ProvisionRecord]
