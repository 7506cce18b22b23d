"""Baseline files: the requirements a CI gate expects to fail, each with its reason.

```yaml
catalog: "2026.2"
expected_failures:
  - id: SEC-TLS-002
    reason: TLS terminates at the load balancer until release 3.2 (ticket OPS-112)
```

A run against a baseline fails on an unexpected failure **and** on an expected failure that no
longer fails (a stale entry), so the baseline stays honest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from meshcert.catalog.requirements import Catalog
from meshcert.errors import MeshcertError, map_exceptions
from meshcert_simulators.common.yaml_errors import yaml_error_line


class BaselineError(MeshcertError, ValueError):
    """A baseline file is missing or invalid: the message lists every problem; fix them in the
    baseline (or review it against the run's catalog). Exit status 2."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    catalog: str
    expected_failures: list[_Entry] = Field(default_factory=list)


@dataclass(frozen=True)
class Baseline:
    path: Path
    sha256: str
    catalog: str
    expected: dict[str, str]  # requirement id -> reason

    def to_json(self) -> dict[str, object]:
        return {"file": str(self.path), "sha256": self.sha256, "catalog": self.catalog,
                "expected_failures": [{"id": i, "reason": r} for i, r in self.expected.items()]}


def load_baseline(path: str | Path, catalog: Catalog, profile: str) -> Baseline:
    """Read and check a baseline against the run's catalog version and profile."""
    path = Path(path)
    with map_exceptions(BaselineError, str(path), missing="no such baseline file",
                        strerror=True):
        data = path.read_bytes()
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BaselineError(f"{path}: not valid YAML: {exc}") from None
    except yaml.YAMLError as exc:
        raise BaselineError(f"{path}: not valid YAML: {yaml_error_line(exc)}") from None
    if isinstance(raw, dict) and not isinstance(raw.get("catalog", ""), str):
        raw["catalog"] = str(raw["catalog"])  # catalog: 2026.1 unquoted reads as a float
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}"
                    for e in exc.errors()]
        raise BaselineError(_listing(path, problems)) from None
    problems = []
    if parsed.catalog != catalog.version:
        problems.append(f"catalog: the baseline is for catalog {parsed.catalog}, this run uses "
                        f"{catalog.version} (review it against the new catalog)")
    in_profile = {r.id for r in catalog.for_profile(profile)}
    known = {r.id for r in catalog.requirements}
    seen: set[str] = set()
    for index, entry in enumerate(parsed.expected_failures):
        where = f"expected_failures[{index}] ({entry.id})"
        if entry.id in seen:
            problems.append(f"{where}: listed twice")
        seen.add(entry.id)
        if entry.id not in known:
            problems.append(f"{where}: no such requirement in catalog {catalog.version}")
        elif entry.id not in in_profile:
            problems.append(f"{where}: not a requirement of profile {profile}")
    if problems:
        raise BaselineError(_listing(path, problems))
    return Baseline(path=path.resolve(), sha256=hashlib.sha256(data).hexdigest(),
                    catalog=parsed.catalog,
                    expected={e.id: e.reason for e in parsed.expected_failures})


def _listing(path: Path, problems: list[str]) -> str:
    return "\n".join([f"{path}: {len(problems)} problem(s):", *(f"  {p}" for p in problems)])
