"""Service definitions: one folder of data per service (fixtures/services/<name>/) that the
generic provider simulator (kind ``service``) is built from.

``service.yaml`` names the service, its institution and route on the mesh, its items
(特定個人情報 codes, each with the fields of its answer and the rule deriving each field from
the synthetic population, meshcert_simulators/service/rules.py) and the legal-basis rules that
let procedures ask for them. ``openapi.json`` beside it is the service's contract, generated
from the definition (``meshcert service contract``) and kept in step by ``meshcert service
check``. Everything is validated at once; each problem names its file and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from meshcert_simulators.common.yaml_errors import yaml_error_line
from meshcert_simulators.contracts.codes import ITEM_CODE, PROCEDURE_CODE
from meshcert_simulators.fixtures import fixture_path
from meshcert_simulators.service.rules import Rule, RuleError, parse

SERVICES_DIR = fixture_path("services")
DEFINITION_FILE = "service.yaml"
CONTRACT_FILE = "openapi.json"
# What a rule may read of a synthetic person (meshcert_simulators/service/population.py).
ATTRIBUTES = ("age", "sex", "birth_year", "is_head", "household_size", "household_children",
              "household_elderly")
# Figures stay below 11 digits: no answer can carry a 12-digit, My-Number-shaped value.
MAX_FIGURE = 9_999_999_999

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
InstitutionCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,31}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Text(_Model):
    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)


class InstitutionDef(_Model):
    """The institution this service is on the mesh (its code in topologies and legal basis)."""

    code: InstitutionCode
    name: str = Field(min_length=1)


class FieldDef(_Model):
    """One field of an item's answer: its type and the rule that derives it."""

    type: Literal["integer", "boolean", "enum"]
    title: Text
    rule: str = Field(min_length=1)
    min: int | None = Field(default=None, ge=-MAX_FIGURE, le=MAX_FIGURE)
    max: int | None = Field(default=None, ge=-MAX_FIGURE, le=MAX_FIGURE)
    values: tuple[Annotated[str, Field(min_length=1, max_length=40)], ...] | None = None

    @model_validator(mode="after")
    def _typed(self) -> FieldDef:
        if self.type == "integer":
            if self.min is None or self.max is None or self.min > self.max:
                raise ValueError("an integer field needs min <= max")
        elif self.min is not None or self.max is not None:
            raise ValueError(f"min/max are for integer fields, not {self.type}")
        if self.type == "enum":
            if not self.values or len(set(self.values)) != len(self.values):
                raise ValueError("an enum field needs 'values', each once")
            if any(v.isdigit() for v in self.values):
                raise ValueError("enum values must not be digits only (codes read as numbers)")
        elif self.values is not None:
            raise ValueError(f"values are for enum fields, not {self.type}")
        return self


class ItemDef(_Model):
    """One 特定個人情報 the service provides. ``assumed``: the code is the harness's own
    assumption [I], not the published one."""

    code: Annotated[str, Field(pattern=ITEM_CODE)]
    key: Name
    title: Text
    assumed: bool = False
    fields: Annotated[dict[Name, FieldDef], Field(min_length=1, max_length=40)]


class LegalRuleDef(_Model):
    """Which procedure (事務) of which inquiring institution may ask for which items, when."""

    procedure_code: Annotated[str, Field(pattern=PROCEDURE_CODE)]
    procedure: Text
    inquirer: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,32}$")]
    items: Annotated[tuple[Annotated[str, Field(pattern=ITEM_CODE)], ...], Field(min_length=1)]
    valid_from: Annotated[date, Field(strict=False)]
    valid_to: Annotated[date | None, Field(strict=False)] = None
    assumed: bool = False


class ServiceDefinition(_Model):
    service: Literal[1] = Field(description="definition format version")
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,30}$")]
    title: Text
    institution: InstitutionDef
    route: Literal["realtime", "copy"]
    # Per-person variables, in order: each rule reads the attributes and earlier variables.
    variables: dict[Name, str] = {}
    # At least one of each (checked with the cross-references: a length constraint here would
    # also be reported, confusingly, when one entry is invalid).
    items: Annotated[tuple[ItemDef, ...], Field(max_length=20)]
    legal_basis: tuple[LegalRuleDef, ...]

    @property
    def provide_role(self) -> str:
        return f"{self.name}:provide"

    @property
    def audit_role(self) -> str:
        return f"{self.name}:audit"

    @property
    def client_id(self) -> str:
        """The topology client this service's institution authenticates as."""
        return f"mesh-{self.institution.code}"

    @property
    def client_token(self) -> str:
        return f"meshcert-service-{self.institution.code}-local-only"

    def item(self, code: str) -> ItemDef | None:
        return next((i for i in self.items if i.code == code), None)

    @property
    def fields(self) -> dict[str, FieldDef]:
        return {name: f for item in self.items for name, f in item.fields.items()}


@dataclass(frozen=True, eq=False)  # by identity: caches key on it
class Service:
    """A loaded, checked definition: the model, its folder and its parsed rules (variables
    first, then every field, in evaluation order)."""

    definition: ServiceDefinition
    folder: Path
    rules: tuple[Rule, ...]

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def contract_path(self) -> Path:
        return self.folder / CONTRACT_FILE


class DefinitionError(ValueError):
    """A service definition is missing or invalid; ``problems`` lists each as
    ``file: field: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def folder_of(ref: str | Path) -> Path:
    """A definition's folder: a name of fixtures/services/, or a path."""
    text = str(ref)
    if re.fullmatch(r"[a-z][a-z0-9-]{1,30}", text) and not Path(text).exists():
        return SERVICES_DIR / text
    return Path(text)


def all_folders(root: Path = SERVICES_DIR) -> list[Path]:
    return sorted(p.parent for p in root.glob(f"*/{DEFINITION_FILE}"))


def _tuples(value: Any) -> Any:
    """YAML gives lists; the strict frozen models hold tuples."""
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(map(str, loc)) or "(top level)"


def read(folder: Path) -> tuple[Service | None, list[str]]:
    """The service of ``folder`` and every problem of its definition (the rules are parsed;
    the contract and the sample evaluation are :func:`check`'s)."""
    path = folder / DEFINITION_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [f"{path}: no such file (a service folder holds {DEFINITION_FILE})"]
    except yaml.YAMLError as exc:
        return None, [f"{path}: not valid YAML: {yaml_error_line(exc)}"]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path}: cannot read: {exc}"]
    if not isinstance(raw, dict):
        return None, [f"{path}: expected a mapping at the top level"]
    try:
        definition = ServiceDefinition.model_validate(_tuples(raw))
    except ValidationError as exc:
        return None, [f"{path}: {_loc(e['loc'])}: {e['msg']}" for e in exc.errors()]
    problems = [f"{path}: {p}" for p in _cross_problems(definition, folder)]
    rules, rule_problems = _rules(definition)
    problems += [f"{path}: {p}" for p in rule_problems]
    return (None if problems else Service(definition, folder.resolve(), rules)), problems


def _cross_problems(d: ServiceDefinition, folder: Path) -> list[str]:
    problems = [f"{name}: give at least one" for name in ("items", "legal_basis")
                if not getattr(d, name)]
    if folder.name != d.name:
        problems.append(f"name: {d.name!r} differs from its folder's name {folder.name!r}")
    codes = [i.code for i in d.items]
    keys = [i.key for i in d.items]
    for label, values in (("code", codes), ("key", keys)):
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            problems.append(f"items: {label} used twice: {', '.join(twice)}")
    seen: dict[str, str] = {}
    for n, item in enumerate(d.items):
        for name in item.fields:
            if name in seen:
                problems.append(f"items.{n}.fields.{name}: also a field of item {seen[name]} "
                                "(field names are unique within a service)")
            if name in d.variables or name in ATTRIBUTES:
                problems.append(f"items.{n}.fields.{name}: also the name of a variable or "
                                "attribute")
            seen[name] = item.code
    for name in d.variables:
        if name in ATTRIBUTES:
            problems.append(f"variables.{name}: the name of a population attribute")
    for n, rule in enumerate(d.legal_basis):
        unknown = [c for c in rule.items if c not in codes]
        if unknown:
            problems.append(f"legal_basis.{n}.items: {', '.join(unknown)} not an item of "
                            "this service")
        if rule.valid_to is not None and rule.valid_to < rule.valid_from:
            problems.append(f"legal_basis.{n}.valid_to: before valid_from")
        if rule.inquirer == d.institution.code:
            problems.append(f"legal_basis.{n}.inquirer: the service itself")
    return problems


def _rules(d: ServiceDefinition) -> tuple[tuple[Rule, ...], list[str]]:
    rules: list[Rule] = []
    problems: list[str] = []
    known = list(ATTRIBUTES)
    for name, source in d.variables.items():
        try:
            rules.append(parse(name, source, known))
        except RuleError as exc:
            problems.append(f"variables.{name}: {exc}")
        known.append(name)
    for n, item in enumerate(d.items):
        for name, field in item.fields.items():
            try:
                rules.append(parse(name, field.rule, known))
            except RuleError as exc:
                problems.append(f"items.{n}.fields.{name}.rule: {exc}")
            known.append(name)
    return tuple(rules), problems


def load(ref: str | Path) -> Service:
    """The checked service of a name or folder; raises DefinitionError listing every problem
    (the definition's own; :func:`check` adds the contract and the sample evaluation)."""
    service, problems = read(folder_of(ref))
    if problems or service is None:
        raise DefinitionError(problems)
    return service


@cache
def load_cached(ref: str) -> Service:
    """:func:`load`, once per process (topologies and apps of a run share it)."""
    return load(ref)


def camel(text: str) -> str:
    """``jido-fuyo`` / ``allowance_amount`` → ``JidoFuyo`` / ``AllowanceAmount``."""
    return "".join(part.capitalize() for part in re.split(r"[-_]", text))


def component(service: ServiceDefinition, suffix: str, item: ItemDef | None = None) -> str:
    """A contract component's name: ``KokuhoInsuredPayload``."""
    return camel(service.name) + (camel(item.key) if item else "") + suffix

