"""Wire models of the resident-registry standard linkage API (strict pydantic, at the edge only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from meshcert_simulators.common.text import KANA_PATTERN, TEXT_PATTERN, check_kana, check_text
from meshcert_simulators.common.wire import WireModel

LG_CODE = r"^[0-9]{6}$"
ATENA = r"^[0-9]{10}$"
JUMINHYO = r"^[0-9]{11}$"
MY_NUMBER = r"^[0-9]{12}$"
MACHIAZA_ID = r"^[0-9]{7}$"

# Patterns put the rules in the contract; the validators keep the reasons in the error message.
Text = Annotated[str, Field(min_length=1, max_length=100, pattern=TEXT_PATTERN),
                 AfterValidator(check_text)]
LongText = Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT_PATTERN),
                     AfterValidator(check_text)]
Kana = Annotated[str, Field(min_length=1, max_length=100, pattern=KANA_PATTERN),
                 AfterValidator(check_kana)]
IsoDate = Annotated[date, Field(description="ISO 8601 date, YYYY-MM-DD")]

# 続柄 codes. 02/11/12/20 are those seen in public code; the rest are the harness's own [I].
RELATIONSHIPS: dict[str, str] = {
    "02": "世帯主", "11": "夫", "12": "妻", "20": "子", "31": "父", "32": "母",
    "40": "孫", "50": "兄弟姉妹", "60": "同居人", "99": "その他",
}
RelationshipCode = Literal["02", "11", "12", "20", "31", "32", "40", "50", "60", "99"]
SexCode = Literal["0", "1", "2", "9"]  # JIS X 0303: unknown, male, female, not applicable
Status = Literal["resident", "moved-out", "deceased", "removed"]


class PersonName(WireModel):
    surname: Text
    given_name: Text
    surname_kana: Kana
    given_name_kana: Kana
    roman: Text | None = None


class WireDate(WireModel):
    """A date as it crosses the wire: ISO when known; 不詳日 kept as written and flagged.

    A sender may give just ``iso`` or just ``text`` (和暦 or a 不詳日 as written); the receiver
    fills in the rest. Given fields must agree with each other.
    """

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"anyOf": [
        {"properties": {"iso": {"type": "string"}}, "required": ["iso"]},
        {"properties": {"text": {"type": "string"}}, "required": ["text"]}]})

    iso: IsoDate | None = None
    uncertain: bool = False
    text: LongText | None = None
    earliest: IsoDate | None = None
    latest: IsoDate | None = None

    @model_validator(mode="after")
    def _known_or_written(self) -> WireDate:
        if self.iso is None and self.text is None:
            raise ValueError("give 'iso' for a known date or 'text' (as written) for a 不詳日")
        return self


class Address(WireModel):
    lg_code: Annotated[str, Field(pattern=LG_CODE)]
    machiaza_id: Annotated[str, Field(pattern=MACHIAZA_ID)] | None = None
    prefecture: Text
    city: Text
    town: Text
    banchi: Annotated[str, Field(max_length=50, pattern=r"^[0-9]+(-[0-9]+)*$")] | None = None
    building: LongText | None = None


class ResidentDates(WireModel):
    became_resident: IsoDate
    address_fixed: IsoDate
    notified: IsoDate
    processed: IsoDate


class NewPerson(WireModel):
    """A person entering the register (move-in, birth, seeding)."""

    name: PersonName
    former_surname: Text | None = None
    sex: SexCode
    birth_date: WireDate
    relationship: RelationshipCode
    my_number: Annotated[str, Field(pattern=MY_NUMBER)] | None = None
    juminhyo_code: Annotated[str, Field(pattern=JUMINHYO)] | None = None


class SeedResident(NewPerson):
    """A full record as the population generator writes it (one JSON line each)."""

    atena_number: Annotated[str, Field(pattern=ATENA)]
    setai_number: Annotated[str, Field(pattern=ATENA)]
    my_number: Annotated[str, Field(pattern=MY_NUMBER)]
    juminhyo_code: Annotated[str, Field(pattern=JUMINHYO)]
    address: Address
    dates: ResidentDates
    status: Status = "resident"


class Relationship(WireModel):
    code: RelationshipCode
    label: str


class Departure(WireModel):
    departed_on: IsoDate
    destination: str
    destination_lg_code: str | None = None
    abroad: bool = False


class Resident(WireModel):
    """A resident record as served. ``my_number`` is present only for permitted roles."""

    lg_code: str
    atena_number: str
    setai_number: str
    juminhyo_code: str
    my_number: str | None = Field(default=None, description="Only for roles allowed to read it")
    name: PersonName
    former_surname: str | None = None
    sex: SexCode
    birth_date: WireDate
    relationship: Relationship
    address: Address
    dates: ResidentDates
    status: Status
    departure: Departure | None = None
    version: int
    updated_at: datetime


class Household(WireModel):
    lg_code: str
    setai_number: str
    head_atena_number: str | None
    address: Address | None
    members: list[Resident]


class ChangeEntry(WireModel):
    seq: int
    changed_at: datetime
    change_type: str
    event_id: str | None
    atena_number: str
    record: Resident


class ChangePage(WireModel):
    entries: list[ChangeEntry]
    next_after: int = Field(description="Pass as 'after' to get the next page")
    has_more: bool


# -- movement events (異動) ---------------------------------------------------------------------

EventId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
Atena = Annotated[str, Field(pattern=ATENA)]
# A 続柄 map takes 宛名番号 keys only: say so in the contract (patternProperties alone lets any
# other key through, which the model refuses).
ONLY_ATENA_KEYS: dict[str, Any] = {"additionalProperties": False}


class MovementBase(WireModel):
    event_id: EventId | None = Field(
        default=None, description="Caller's id; resending the same event returns the first result")
    event_date: IsoDate
    notified_date: IsoDate
    processed_date: IsoDate | None = Field(default=None, description="Defaults to today (JST)")


class MoveIn(MovementBase):
    """転入 (or 国外からの転入): people enter; a new household unless ``setai_number`` is given."""

    kind: Literal["move-in"]
    persons: Annotated[list[NewPerson], Field(min_length=1, max_length=20)]
    address: Address
    setai_number: Atena | None = None
    origin: Literal["domestic", "abroad"] = "domestic"
    previous_address: LongText | None = None


class Birth(MovementBase):
    """出生: a child enters an existing household and is given a new My Number."""

    kind: Literal["birth"]
    person: NewPerson
    setai_number: Atena


class MoveOut(MovementBase):
    """転出 (or 国外転出): the listed people leave the municipality."""

    kind: Literal["move-out"]
    atena_numbers: Annotated[list[Atena], Field(min_length=1, max_length=20)]
    destination: LongText
    destination_lg_code: Annotated[str, Field(pattern=LG_CODE)] | None = None
    abroad: bool = False


class Death(MovementBase):
    kind: Literal["death"]
    atena_number: Atena


class MoveWithin(MovementBase):
    """転居: the whole household moves to another address in the same municipality."""

    kind: Literal["move-within"]
    setai_number: Atena
    address: Address


class HouseholdSplit(MovementBase):
    """世帯分離: the listed members form a new household; the first becomes its head."""

    kind: Literal["household-split"]
    atena_numbers: Annotated[list[Atena], Field(min_length=1, max_length=20)]
    address: Address | None = None


class HouseholdMerge(MovementBase):
    """世帯合併: every member of ``setai_number`` joins ``into_setai_number``."""

    kind: Literal["household-merge"]
    setai_number: Atena
    into_setai_number: Atena
    relationships: dict[Atena, RelationshipCode] = Field(
        default_factory=dict, description="New 続柄 for joining members; default 99 (その他)",
        json_schema_extra=ONLY_ATENA_KEYS)


class HeadChange(MovementBase):
    """世帯主変更: ``new_head`` becomes 02; the others get the given 続柄."""

    kind: Literal["head-change"]
    setai_number: Atena
    new_head: Atena
    relationships: dict[Atena, RelationshipCode] = Field(default_factory=dict,
                                                        json_schema_extra=ONLY_ATENA_KEYS)


class MovementRequest(WireModel):
    movement: Annotated[
        MoveIn | Birth | MoveOut | Death | MoveWithin | HouseholdSplit | HouseholdMerge
        | HeadChange, Field(discriminator="kind")]


class MovementResult(WireModel):
    event_id: str
    kind: str
    lg_code: str
    event_date: IsoDate
    notified_date: IsoDate
    processed_date: IsoDate
    affected: list[Resident]
    recorded_at: datetime


# -- online move-out notification (転出届) ------------------------------------------------------

ApplicationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
MoveoutStatus = Literal["受付", "処理中", "完了"]


class Applicant(WireModel):
    """Who files: identified by 住民票コード (via the signing certificate) and checked by name."""

    juminhyo_code: Annotated[str, Field(pattern=JUMINHYO)]
    surname: Text
    given_name: Text
    birth_date: IsoDate


class Destination(WireModel):
    lg_code: Annotated[str, Field(pattern=LG_CODE)]
    address: LongText
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "JP"


class MoveoutNotification(WireModel):
    application_id: ApplicationId
    applicant: Applicant
    moving_date: IsoDate
    destination: Destination
    companions: Annotated[list[Annotated[str, Field(pattern=JUMINHYO)]],
                          Field(max_length=19)] = Field(
        default_factory=list, description="住民票コード of household members moving too")
    planned_visit_date: IsoDate | None = None


class MoveoutTransition(WireModel):
    status: Literal["処理中", "完了"]


class MoveoutState(WireModel):
    application_id: str
    lg_code: str
    status: MoveoutStatus
    atena_numbers: list[str]
    moving_date: IsoDate
    destination: Destination
    received_at: datetime
    updated_at: datetime
    event_id: str | None = None
