"""The legal-basis table: which inquirer may ask which provider for which item, under which
procedure, from when to when (docs/domain.md §4, invariant 3). Versioned data in
fixtures/legal_basis/.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from meshcert_simulators.common.yaml_errors import yaml_error_line
from meshcert_simulators.contracts.codes import INSTITUTION_CODE, ITEM_CODE, PROCEDURE_CODE
from meshcert_simulators.fixtures import fixture_path

LEGAL_BASIS_DIR = fixture_path("legal_basis")
DEFAULT_LEGAL_BASIS = LEGAL_BASIS_DIR / "legal-basis-2026.1.yaml"


ProcedureCode = Annotated[str, Field(pattern=PROCEDURE_CODE)]
ItemCode = Annotated[str, Field(pattern=ITEM_CODE)]
InstitutionCode = Annotated[str, Field(pattern=INSTITUTION_CODE)]


class LegalBasisRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    procedure_code: ProcedureCode
    inquirer: InstitutionCode
    provider: InstitutionCode
    item_code: ItemCode
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LegalBasisRule:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        return self

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class LegalBasisTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    rules: tuple[LegalBasisRule, ...]

    def permits(self, procedure_code: str, inquirer: str, provider: str, item_code: str,
                day: date) -> LegalBasisRule | None:
        """The rule permitting this inquiry on ``day``, or None."""
        return next((r for r in self.rules
                     if (r.procedure_code, r.inquirer, r.provider, r.item_code)
                     == (procedure_code, inquirer, provider, item_code) and r.valid_on(day)),
                    None)


class LegalBasisError(ValueError):
    """A legal-basis file is missing or invalid; the message lists every problem."""


def load_legal_basis(path: Path | None = None) -> LegalBasisTable:
    path = Path(path) if path else DEFAULT_LEGAL_BASIS
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LegalBasisError(f"{path}: no such legal-basis file") from None
    except yaml.YAMLError as exc:
        raise LegalBasisError(f"{path}: not valid YAML: {yaml_error_line(exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LegalBasisError(f"{path}: cannot read: {exc}") from None
    try:
        return LegalBasisTable.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: {exc.error_count()} problem(s):"]
        lines += [f"  {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}"
                  for e in exc.errors()]
        raise LegalBasisError("\n".join(lines)) from None


def with_rules(table: LegalBasisTable, rows: list[dict[str, object]]) -> LegalBasisTable:
    """``table`` with more rules (each validated); a row it has already is not added twice."""
    added = [LegalBasisRule.model_validate(row) for row in rows]
    return table.model_copy(update={"rules": (*table.rules, *(r for r in added
                                                               if r not in table.rules))})
