"""The requirement catalog: versioned YAML under fixtures/requirements/, validated on load.

A requirement is data: id, level, profiles, titles, text, basis, an optional measurable target,
and the defect that must trip its tests. Tests name what they verify with
``@pytest.mark.requirement("ID")``; nothing else ties tests to requirements.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from meshcert.errors import MeshcertError, map_exceptions
from meshcert_simulators.fixtures import fixture_path

CATALOG_DIR = fixture_path("requirements")
DEFAULT_VERSION = "2026.2"
ID_PATTERN = r"^[A-Z]+(-[A-Z0-9]+)*-[0-9]{3}$"
Level = Literal["MUST", "SHOULD", "MAY"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Titles(_Model):
    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Basis(_Model):
    kind: Literal["public", "invariant", "assumption"]
    ref: str = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _assumptions_reasoned(self) -> Basis:
        if self.kind == "assumption" and not self.note:
            raise ValueError("an assumption needs a 'note' giving the reasoning behind it")
        return self


class LoadSpec(_Model):
    """The stated load of a latency target: ``meshcert certify`` drives it with Locust (in its
    own process) against the target and checks the percentile of the named request."""

    request: str = Field(min_length=1, description="The timed operation as in the contract, "
                         "e.g. 'GET /municipalities/{lg_code}/residents/{atena_number}'")
    users: Annotated[int, Field(ge=1, le=10_000)]
    rate: Annotated[float, Field(gt=0, description="requests/s of all users together")]
    duration_s: Annotated[float, Field(gt=0, le=3600)]
    note: str | None = None

    def __str__(self) -> str:
        return (f"{self.rate:g} req/s from {self.users} users for {self.duration_s:g} s: "
                f"{self.request}")


class Target(_Model):
    metric: Literal["latency_ms"]
    percentile: Annotated[int, Field(ge=1, le=100)]
    threshold: Annotated[float, Field(gt=0)]
    load: str | LoadSpec = Field(description="The load the target holds at: prose, or a "
                                 "structured load that certification drives")


class Requirement(_Model):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    level: Level
    profiles: tuple[str, ...] = Field(min_length=1)
    title: Titles
    text: str = Field(min_length=1)
    basis: Basis
    target: Target | None = None
    defect: str | None = Field(default=None, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")

    @model_validator(mode="after")
    def _must_has_defect(self) -> Requirement:
        if self.level == "MUST" and not self.defect:
            raise ValueError(f"{self.id}: a MUST requirement names the defect that must trip it")
        return self


class Profile(_Model):
    title: Titles
    description: str
    simulators: tuple[str, ...] = ()
    suites: tuple[str, ...] = Field(min_length=1)


class Catalog(_Model):
    catalog: str
    version: Annotated[str, Field(pattern=r"^[0-9]{4}\.[0-9]+$")]
    published: date
    title: Titles
    profiles: dict[str, Profile]
    requirements: tuple[Requirement, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        ids = [r.id for r in self.requirements]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate requirement ids: {duplicates}")
        defects = [r.defect for r in self.requirements if r.defect]
        shared = sorted({d for d in defects if defects.count(d) > 1})
        if shared:
            raise ValueError(f"a defect trips one requirement; shared: {shared}")
        unknown = sorted({p for r in self.requirements for p in r.profiles} - set(self.profiles))
        if unknown:
            raise ValueError(f"requirements name undeclared profiles: {unknown}")
        return self

    def get(self, requirement_id: str) -> Requirement:
        for requirement in self.requirements:
            if requirement.id == requirement_id:
                return requirement
        raise CatalogError(f"catalog {self.version} has no requirement {requirement_id!r}")

    def for_profile(self, profile: str) -> tuple[Requirement, ...]:
        if profile not in self.profiles:
            raise CatalogError(f"catalog {self.version} has no profile {profile!r} "
                               f"(it has: {', '.join(sorted(self.profiles))})")
        return tuple(r for r in self.requirements if profile in r.profiles)

    def by_defect(self, defect: str) -> Requirement:
        for requirement in self.requirements:
            if requirement.defect == defect:
                return requirement
        raise CatalogError(f"no requirement of catalog {self.version} names defect {defect!r}")


class CatalogError(MeshcertError, ValueError):
    """A catalog is missing or invalid: the message says where and why; fix that file, or name
    an existing version (``meshcert requirements list`` shows them). Exit status 2."""


def catalog_path(version: str = DEFAULT_VERSION) -> Path:
    return CATALOG_DIR / f"psm-{version}.yaml"


def available_versions() -> list[str]:
    found = (re.fullmatch(r"psm-(.+)\.yaml", p.name) for p in CATALOG_DIR.glob("psm-*.yaml"))
    return sorted(m.group(1) for m in found if m)


def load_catalog(source: str | Path = DEFAULT_VERSION) -> Catalog:
    """Load a catalog by version (``2026.1``) or by path, validated; CatalogError lists all
    problems with their location in the file."""
    path = Path(source) if str(source).endswith((".yaml", ".yml")) else catalog_path(str(source))
    return _load(path.resolve())


@functools.cache
def _load(path: Path) -> Catalog:
    if not path.exists():
        raise CatalogError(f"{path}: no such catalog (versions here: "
                           f"{', '.join(available_versions()) or 'none'})")
    with map_exceptions(CatalogError, str(path)):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        return Catalog.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: {exc.error_count()} problem(s):"]
        for error in exc.errors():
            where = _locate(raw, error["loc"])
            lines.append(f"  {where}: {error['msg']}")
        raise CatalogError("\n".join(lines)) from None


def _locate(raw: object, loc: tuple[int | str, ...]) -> str:
    """A readable location: requirement ids instead of list indexes where possible."""
    parts: list[str] = []
    node = raw
    for part in loc:
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            item = node[part]
            label = item.get("id") if isinstance(item, dict) else None
            parts.append(f"[{label or part}]")
            node = item
        else:
            parts.append(f".{part}" if parts else str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


# -- comparing versions ------------------------------------------------------------------------

COMPARED_FIELDS = ("level", "profiles", "title", "text", "basis", "target", "defect")


class RequirementChange(BaseModel):
    id: str
    fields: tuple[str, ...]


class CatalogDiff(BaseModel):
    old: str
    new: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[RequirementChange, ...]

    @property
    def to_rerun(self) -> tuple[str, ...]:
        """Requirements a certified vendor must re-run: new ones and changed ones (a change of
        title or basis alone changes no obligation, so it is not listed)."""
        obliging = [c.id for c in self.changed if set(c.fields) - {"title", "basis"}]
        return tuple(sorted({*self.added, *obliging}))


def diff_catalogs(old: Catalog, new: Catalog, profile: str | None = None) -> CatalogDiff:
    """Requirements added, removed and changed from ``old`` to ``new``; with ``profile``, only
    those that apply to that kind of system in either version (what its vendor must look at)."""
    def applies(r: Requirement) -> bool:
        return profile is None or profile in r.profiles

    before = {r.id: r for r in old.requirements if applies(r)}
    after = {r.id: r for r in new.requirements if applies(r)}
    changed = []
    for rid in sorted(before.keys() & after.keys()):
        fields = tuple(f for f in COMPARED_FIELDS
                       if getattr(before[rid], f) != getattr(after[rid], f))
        if fields:
            changed.append(RequirementChange(id=rid, fields=fields))
    return CatalogDiff(old=old.version, new=new.version,
                       added=tuple(sorted(after.keys() - before.keys())),
                       removed=tuple(sorted(before.keys() - after.keys())),
                       changed=tuple(changed))
