"""Wire shapes of a defined service, made from its definition: per item the payload (exactly the
item's fields), the provision answer (the mesh's provider contract with those payloads), and the
seeding body. The publish trigger, its result and the art. 23 export are the tax provider's
(meshcert_simulators/tax/models.py) — one contract for every provider the harness runs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model, model_validator

from meshcert_simulators.common.http import whole_number
from meshcert_simulators.common.wire import WireModel
from meshcert_simulators.contracts.codes import MESH_CODE
from meshcert_simulators.contracts.provider import ProvidedItem, ProvisionResponse
from meshcert_simulators.service.definition import FieldDef, Service, component
from meshcert_simulators.tax.models import (  # noqa: F401  (re-exported for the app)
    ProvisionRecordPage,
    PublishRequest,
    PublishResult,
    SeedResult,
)


def _type(field: FieldDef) -> Any:
    if field.type == "integer":
        return whole_number(int(field.min or 0), int(field.max or 0))
    if field.type == "boolean":
        return bool
    return Literal[tuple(field.values or ())]


@dataclass(frozen=True)
class ServiceModels:
    payloads: dict[str, type[BaseModel]]      # item code → payload model
    response: type[BaseModel]
    figures: type[BaseModel]
    seed: type[BaseModel]


class _Figures(WireModel):
    """Base of a seeding body's figures: every field optional; an item is held for the person
    when all its fields are given, and a field of an item given only in part is an error."""

    @model_validator(mode="after")
    def _whole_items(self) -> Any:
        given = {k for k, v in self.__dict__.items() if v is not None}
        held = 0
        for code, names in self.ITEM_FIELDS.items():  # type: ignore[attr-defined]
            present = given & set(names)
            if present and present != set(names):
                raise ValueError(f"item {code}: give all of {sorted(names)} or none "
                                 f"(missing {sorted(set(names) - present)})")
            held += bool(present)
        if not held:
            raise ValueError("give the fields of at least one item")
        return self


@cache
def models_of(service: Service) -> ServiceModels:
    d = service.definition
    payloads: dict[str, type[BaseModel]] = {}
    for item in d.items:
        fields: dict[str, Any] = {
            name: (_type(f), Field(description=f"{f.title.ja} ({f.title.en})"))
            for name, f in item.fields.items()}
        model = create_model(component(d, "Payload", item), __base__=WireModel, **fields)
        model.__doc__ = (f"Item {item.code} {item.title.ja} ({item.title.en}) when provided "
                         "(01): exactly these fields." + (" The code is assumed [I]."
                                                         if item.assumed else ""))
        payloads[item.code] = model
    union: Any = None
    for model in payloads.values():
        union = model if union is None else union | model
    provided = create_model(
        component(d, "ProvidedItem"), __base__=ProvidedItem,
        payload=(union | None, Field(default=None, description="the item's payload when "
                                     "provided (01); null for 02 (no data) and 03 (not "
                                     "provided)")))
    response = create_model(component(d, "ProvisionResponse"), __base__=ProvisionResponse,
                            items=(list[provided], ...))  # type: ignore[valid-type]
    optional = {name: (_type(f) | None, Field(default=None, description=f.title.ja))
                for name, f in d.fields.items()}
    figures = create_model(component(d, "Figures"), __base__=_Figures, **optional)
    figures.ITEM_FIELDS = {i.code: tuple(i.fields) for i in d.items}  # type: ignore[attr-defined]
    code_row = create_model(
        component(d, "SeedCodeRow"), __base__=WireModel,
        code=(Annotated[str, Field(pattern=MESH_CODE)], Field(description="this system's 符号, "
                                                                        "issued by the mesh")),
        figures=(figures, ...))
    juminhyo_row = create_model(
        component(d, "SeedRow"), __base__=WireModel,
        juminhyo_code=(Annotated[str, Field(pattern=r"^[0-9]{11}$")],
                       Field(description="住民票コード; exchanged for this system's 符号 at the "
                                         "mesh and not stored")),
        figures=(figures, ...))
    seed = create_model(
        component(d, "SeedRequest"), __base__=_SeedBase,
        rows=(Annotated[list[code_row | juminhyo_row] | None,  # type: ignore[valid-type]
                        Field(min_length=1, max_length=1000)], None))
    return ServiceModels(payloads, response, figures, seed)


class PopulationSeed(WireModel):
    """The registry's synthetic population (the same generator and arguments give the same
    persons): each person's data derived by the definition's rules, their 符号 from the mesh."""

    lg_code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    persons: whole_number(1, 1000)  # type: ignore[valid-type]
    seed: whole_number(0, 2**31 - 1) = 0  # type: ignore[valid-type]


class _SeedBase(WireModel):
    """Either ``rows`` (figures per person, as given) or ``population`` (derived)."""

    population: PopulationSeed | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Any:
        if (getattr(self, "rows", None) is None) == (self.population is None):
            raise ValueError("give exactly one of 'rows' and 'population'")
        return self
