"""Topology files: which simulators run, where, for whom, and who may call them.

A topology is YAML (fixtures/topologies/). It is validated as a whole on load and every problem
is reported with its path in the file, so a user can fix them all at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simulators.common.identifiers import is_valid_local_government_code

DEFAULT_TOPOLOGY = Path(__file__).resolve().parents[2] / "fixtures" / "topologies" / "embedded.yaml"

Port = Annotated[int, Field(ge=1, le=65535)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Client(_Model):
    """A registered caller: a bearer token, the roles it holds, and where they apply."""

    id: str = Field(min_length=1)
    token: str = Field(min_length=16)
    roles: tuple[str, ...]
    # Empty means every municipality the simulator hosts.
    municipalities: tuple[str, ...] = ()


class SimulatorSpec(_Model):
    kind: Literal["municipal"]
    host: str = "127.0.0.1"
    port: Port
    municipalities: tuple[str, ...] = ()

    @field_validator("municipalities")
    @classmethod
    def _valid_codes(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in codes if not is_valid_local_government_code(c)]
        if bad:
            raise ValueError(f"not valid local government codes (6 digits with check digit): {bad}")
        return codes


class Topology(_Model):
    name: str
    admin_token: str = Field(min_length=16)
    simulators: dict[str, SimulatorSpec]
    clients: tuple[Client, ...] = ()

    def simulator(self, name: str) -> SimulatorSpec:
        try:
            return self.simulators[name]
        except KeyError:
            known = ", ".join(sorted(self.simulators)) or "none"
            raise TopologyError(f"topology {self.name!r} has no simulator {name!r} "
                                f"(it has: {known})") from None

    def url(self, name: str) -> str:
        spec = self.simulator(name)
        return f"http://{spec.host}:{spec.port}"


class TopologyError(ValueError):
    """A topology file is missing, unreadable or invalid; the message says where and why."""


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def load_topology(path: Path | None = None) -> Topology:
    """Read and validate a topology file; raise TopologyError listing every problem."""
    path = Path(path) if path else DEFAULT_TOPOLOGY
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TopologyError(f"{path}: no such topology file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TopologyError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise TopologyError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TopologyError(f"{path}: expected a mapping at the top level")
    try:
        return Topology.model_validate(_tuples(raw))
    except ValidationError as exc:
        lines = [f"{path}: {exc.error_count()} problem(s):"]
        lines += [f"  {_location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise TopologyError("\n".join(lines)) from None


def _tuples(value: object) -> object:
    """YAML gives lists; the strict frozen models hold tuples."""
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value
