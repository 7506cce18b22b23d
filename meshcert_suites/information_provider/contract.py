"""The provider contract as the suites judge by it: the COMMITTED document
fixtures/specs/tax.openapi.json, read as data — never the reference's models or constants.

An answer is held against the schema the contract states for its operation and status; a bound
a check needs (the largest figure a provider must hold) is read from the schema too, so a
change of the contract is a change of the judgment, in one place.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema_rs

from meshcert import fixture_path

CONTRACT = fixture_path("specs", "tax.openapi.json")


@cache
def document() -> dict[str, Any]:
    return dict(json.loads(CONTRACT.read_text(encoding="utf-8")))


def schema(name: str) -> dict[str, Any]:
    """The contract's component schema ``name``."""
    return dict(document()["components"]["schemas"][name])


@cache
def _validator(method: str, path: str, status: str) -> Any:
    operation = document()["paths"][path][method.lower()]
    media = operation["responses"][status]["content"]
    [(_, content)] = media.items()
    return jsonschema_rs.Draft202012Validator(
        {**content["schema"], "components": document()["components"]}, validate_formats=True)


def violations(body: Any, method: str, path: str, status: int = 200) -> list[str]:
    """How ``body`` departs from what the contract documents for ``method path`` answering
    ``status`` (empty: it conforms)."""
    return [f"{'/'.join(map(str, error.instance_path)) or '(body)'}: {error.message}"
            for error in _validator(method, path, str(status)).iter_errors(body)]


def bounds(component: str, field: str) -> tuple[int, int]:
    """(minimum, maximum) the contract states for an integer ``field`` of ``component``."""
    stated = schema(component)["properties"][field]
    return int(stated["minimum"]), int(stated["maximum"])
