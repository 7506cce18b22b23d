"""The provider contract as the suites judge by it: the COMMITTED document — the resident-tax
contract fixtures/specs/tax.openapi.json, or, for a provider of a defined service (the target's
``provider.service``), that service's fixtures/services/<name>/openapi.json — read as data, never
the reference's models or constants.

An answer is held against the schema the contract states for its operation and status; the
figures the harness seeds (their fields and bounds) are read from the contract too — the
schema ``TaxFigures``, or the service's payload schema of the asked item — so a change of the
contract is a change of the judgment, in one place.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from hypothesis import strategies as st

from meshcert import ProviderSettings


@cache
def _document(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Contract:
    """The committed contract of one provider, and the schema of the figures it holds for the
    item the suites ask for."""

    path: Path
    figures_schema: str

    def document(self) -> dict[str, Any]:
        return _document(self.path)

    def schema(self, name: str) -> dict[str, Any]:
        """The contract's component schema ``name``."""
        return dict(self.document()["components"]["schemas"][name])

    def violations(self, body: Any, method: str, path: str, status: int = 200) -> list[str]:
        """How ``body`` departs from what the contract documents for ``method path``
        answering ``status`` (empty: it conforms)."""
        return [f"{'/'.join(map(str, e.instance_path)) or '(body)'}: {e.message}"
                for e in _validator(self.path, method, path, str(status)).iter_errors(body)]

    def figure_fields(self) -> dict[str, dict[str, Any]]:
        """The fields of the seeded figures with their schemas (each an integer with bounds,
        a boolean, or a string enum)."""
        return dict(self.schema(self.figures_schema)["properties"])

    def figures(self, rng: random.Random) -> dict[str, Any]:
        """Figures drawn within the contract's bounds."""
        return {name: _draw(rng, spec) for name, spec in self.figure_fields().items()}

    def figures_strategy(self) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries({name: _strategy(spec)
                                      for name, spec in self.figure_fields().items()})


def contract_for(provider: ProviderSettings, item: str) -> Contract:
    return Contract(*provider.contract(item))


@cache
def _validator(contract: Path, method: str, path: str, status: str) -> Any:
    document = _document(contract)
    operation = document["paths"][path][method.lower()]
    [(_, content)] = operation["responses"][status]["content"].items()
    return jsonschema_rs.Draft202012Validator(
        {**content["schema"], "components": document["components"]}, validate_formats=True)


def _draw(rng: random.Random, spec: dict[str, Any]) -> Any:
    if "enum" in spec:
        return rng.choice(spec["enum"])
    if spec.get("type") == "boolean":
        return rng.random() < 0.5
    if spec.get("type") == "integer":
        return rng.randint(int(spec["minimum"]), int(spec["maximum"]))
    raise AssertionError(f"the suites draw integers, booleans and enums, not {spec}")


def _strategy(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in spec:
        return st.sampled_from(spec["enum"])
    if spec.get("type") == "boolean":
        return st.booleans()
    return st.integers(int(spec["minimum"]), int(spec["maximum"]))
