"""Wire shapes of the J-LIS intermediate-server simulator (中間サーバー).

Status codes (docs/domain.md §4 "Linkage request"): the line status ``09`` means the inquiry was
processed; per item, ``01`` means the copy was provided and ``02`` means no data (no copy of that
item for that 符号, or none inside its publication window) — then ``payload`` is null and
``message`` says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field

from meshcert_simulators.common.http import whole_number
from meshcert_simulators.common.wire import WireModel
from meshcert_simulators.contracts.codes import ITEM_CODE, MESH_CODE
from meshcert_simulators.contracts.provider import (
    ProvidedItem,
    ProvisionRequest,
    ProvisionResponse,
)

LINE_PROCESSED = "09"
ITEM_PROVIDED = "01"
ITEM_NO_DATA = "02"

INSTITUTION_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
# The inquiry and answer shapes are the mesh's provider contract
# (meshcert_simulators/contracts/provider.py).
__all__ = ["ITEM_CODE", "MESH_CODE", "ProvidedItem", "ProvisionRequest", "ProvisionResponse"]


class CopyRegistration(WireModel):
    """A copy (副本) a provider institution registers for one person (its 符号) and one item."""

    data_set_key: Annotated[str, Field(min_length=1, max_length=128)]
    version: whole_number(1, 2**31 - 1)  # type: ignore[valid-type]
    publication_start: AwareDatetime
    publication_end: AwareDatetime | None = None
    payload: dict[str, Any]


class CopyOut(WireModel):
    institution: str
    code: str
    item_code: str
    data_set_key: str
    version: int
    publication_start: datetime
    publication_end: datetime | None
    registered_at: datetime


class CopyList(WireModel):
    """The versions registered for one (institution, 符号, item), oldest first, each with the
    publication window it was registered with — how a provider's stated window is seen."""

    copies: list[CopyOut]


class ProvisionRecord(WireModel):
    """This server's art. 23 record of one answered inquiry."""

    seq: int
    record_id: str
    inquirer_client: str
    provider: str | None
    procedure_code: str
    item_code: str
    requested_at: datetime
    provided_at: datetime
    outcome: Literal["provided", "no-data"]
    item_status: Literal["01", "02"]
    copy_version: int | None


class ProvisionRecordPage(WireModel):
    records: list[ProvisionRecord]
    next_after: int
    has_more: bool


class SyncedMunicipality(WireModel):
    lg_code: str
    institution: str  # whose copies they became (see meshcert_simulators/jlis/sync.py)
    after_before: int
    after_now: int
    registered: int
    skipped: int


class SyncResult(WireModel):
    source: str
    pulled_at: datetime
    publication_start: datetime
    delay_s: int
    item_code: str
    municipalities: list[SyncedMunicipality]
