"""Wire shapes of the reference individual-resident-tax system (個人住民税), a provider of the
public service mesh on the real-time route.

Answers to ``POST /v1/provisions`` (the mesh's provider contract,
meshcert_simulators/contracts/provider.py): the line status is always ``09`` (processed); per item,
``01`` provided (tax info of the 符号, payload below), ``02`` no data (this system holds no
figures for the 符号; payload null), ``03`` not provided (the item is not one this system
provides; only ``TM00000000000002`` is). No answer ever carries a My Number or 住民票コード.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from meshcert_simulators.common.http import whole_number
from meshcert_simulators.common.wire import WireModel
from meshcert_simulators.contracts.codes import MESH_CODE
from meshcert_simulators.contracts.provider import (
    ProvidedItem,
    ProvisionRequest,
    ProvisionResponse,
)

TAX_ITEM = "TM00000000000002"  # 地方税関係情報 (tax info)
PROVIDED_ITEMS = (TAX_ITEM,)
LINE_PROCESSED = "09"
ITEM_PROVIDED = "01"
ITEM_NO_DATA = "02"
ITEM_NOT_PROVIDED = "03"
MSG_NO_DATA = "該当データなし (no data for this code)"
MSG_NOT_PROVIDED = "提供対象外の特定個人情報 (item not provided by this system)"
# Figures stay below 11 digits, so no figure can ever look like a 12-digit My Number.
MAX_YEN = 9_999_999_999

__all__ = ["MESH_CODE", "ProvidedItem", "ProvisionRequest", "ProvisionResponse"]


class TaxFigures(WireModel):
    """One person's resident-tax figures for a tax year (課税年度)."""

    tax_year: whole_number(2000, 2100)  # type: ignore[valid-type]
    taxable_income: whole_number(0, MAX_YEN)  # type: ignore[valid-type]
    income_levy: whole_number(0, MAX_YEN)  # type: ignore[valid-type]
    per_capita_levy: whole_number(0, 100_000)  # type: ignore[valid-type]
    dependants: whole_number(0, 30)  # type: ignore[valid-type]


class TaxPayload(TaxFigures):
    """The payload of item ``TM00000000000002`` when provided: the figures, their total and
    the data version they come from — nothing else about the person."""

    total_levy: whole_number(0, 2 * MAX_YEN)  # type: ignore[valid-type]
    data_version: whole_number(1, 2**62)  # type: ignore[valid-type]


class TaxProvidedItem(ProvidedItem):
    """One answered item. The contract names the payload: the suites judge an answer by this
    document alone, so a field it does not list is one the provider must not send."""

    payload: TaxPayload | None = Field(
        default=None, description=f"item {TAX_ITEM} provided (01): its figures; null for 02 "
                                  "(no data) and 03 (not provided)")


class TaxProvisionResponse(ProvisionResponse):
    items: list[TaxProvidedItem]


class SeedRow(WireModel):
    """One person by 住民票コード: this system asks the mesh for its 符号 and keeps only that."""

    juminhyo_code: Annotated[str, Field(pattern=r"^[0-9]{11}$", description="住民票コード; "
                                        "exchanged for this system's 符号 and not stored")]
    figures: TaxFigures | None = Field(
        default=None, description="omitted: deterministic synthetic figures from the seed")


class SeedCodeRow(WireModel):
    """One person by this system's 符号, which the mesh issued already — how the harness,
    playing the mesh, seeds a provider under certification (profile information-provider)."""

    code: Annotated[str, Field(pattern=MESH_CODE, description="this system's 符号")]
    figures: TaxFigures | None = Field(
        default=None, description="omitted: deterministic synthetic figures from the seed")


class SeedRequest(WireModel):
    rows: Annotated[list[SeedRow | SeedCodeRow], Field(min_length=1, max_length=1000)]
    seed: whole_number(0, 2**31 - 1) = 0  # type: ignore[valid-type]


class SeedResult(WireModel):
    seeded: int
    data_version: int
    codes: list[str]


class PublishRequest(WireModel):
    """Which publication window the copies get: from ``delay_s`` after the trigger, for
    ``duration_s`` (omitted or null: no end)."""

    delay_s: whole_number(0, 30 * 86400) = 0  # type: ignore[valid-type]
    duration_s: whole_number(1, 10 * 366 * 86400) | None = Field(  # type: ignore[valid-type]
        default=None, description="publication_end = publication_start + duration_s")


class PublishResult(WireModel):
    jlis: str
    data_version: int
    publication_start: datetime
    publication_end: datetime | None
    registered: int
    unchanged: int


class ProvisionRecord(WireModel):
    """This system's art. 23 record of one provision asked for: answered (provided, no data,
    not provided) or refused (a client other than the mesh, another inquiry under a used
    record id) — art. 23 records whether data was provided, so a refusal is recorded too."""

    seq: int
    record_id: str
    inquirer_client: str
    procedure_code: str
    item_code: str
    requested_at: datetime
    provided_at: datetime
    outcome: Literal["provided", "no-data", "not-provided", "refused"]
    item_status: Literal["01", "02", "03"] | None = Field(
        description="the item status answered; null when refused")
    data_version: int | None


class ProvisionRecordPage(WireModel):
    records: list[ProvisionRecord]
    next_after: int
    has_more: bool
