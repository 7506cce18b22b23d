"""Wire shapes of the reference 国民健康保険 subscriber register's read API: the profile
downstream-system's view of a resident by 宛名番号, a household's members, and the feed state.

Names, kana, addresses and dates are the registry's, byte for byte (no normalisation): the
read API shows what the system holds, so the harness can compare it with the registry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from meshcert_simulators.common.wire import WireModel

Status = Literal["resident", "moved-out", "deceased", "removed"]


class ViewName(WireModel):
    surname: str
    given_name: str
    surname_kana: str
    given_name_kana: str


class ViewDate(WireModel):
    """A date as the registry gave it: ISO when known; a 不詳日 as written and flagged."""

    iso: str | None = None
    uncertain: bool = False
    text: str | None = None
    earliest: str | None = None
    latest: str | None = None


class ViewAddress(WireModel):
    lg_code: str
    machiaza_id: str | None = None
    prefecture: str
    city: str
    town: str
    banchi: str | None = None
    building: str | None = None


class ResidentView(WireModel):
    """What the system holds of one resident: the registry's facts as last applied, whether
    it holds the person as current (国保: insured, only while resident), the My Number (only
    to a caller with ``downstream:read-mynumber``, only in an area that needs it), and the seq
    of every feed entry of the person it applied, in the order applied."""

    atena_number: str
    lg_code: str
    setai_number: str
    status: Status
    current: bool = Field(description="Held as a current resident of its area (国保: "
                          "insured); false once moved out or deceased")
    name: ViewName
    birth_date: ViewDate
    address: ViewAddress
    my_number: str | None = Field(default=None, description="Only for downstream:read-mynumber")
    applied_seqs: list[int]


class HouseholdView(WireModel):
    """The members the system holds as resident in a household (世帯), by 宛名番号."""

    setai_number: str
    members: list[str]


class SyncState(WireModel):
    """Where the system is in the registry's feed: the cursor it stored (the ``after`` of its
    next read) and its stated polling interval."""

    lg_code: str
    cursor: int
    poll_interval_s: float
    last_polled_at: datetime | None
