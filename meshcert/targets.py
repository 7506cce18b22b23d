"""Target files: one vendor system to certify — its profile, URL, keys, municipality, seeding.

A target is validated completely before any test runs; every problem is reported at once with
its path in the file, because most failures in the field are configuration errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from meshcert.catalog import CatalogError, load_catalog
from simulators.common.identifiers import is_valid_local_government_code

LgCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsSettings(_Model):
    ca_file: str | None = Field(default=None, description="CA bundle to trust (PEM); relative "
                                "to the target file. 'run' means the harness's local CA.")
    verify: bool = True


class AuthSettings(_Model):
    audience: str = Field(min_length=1, description="The aud your system expects in tokens")


class Credential(_Model):
    env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$", description="Environment variable holding "
                     "a bearer token for the seeding endpoint (never put secrets in the file)")


class Seeding(_Model):
    method: Literal["endpoint", "file"]
    path: str = "/admin/seed"
    credential: Literal["harness-token"] | Credential = "harness-token"
    persons: Annotated[int, Field(ge=10, le=100_000)] = 200
    seed: Annotated[int, Field(ge=0)] = 1
    file: str | None = Field(default=None, description="For method 'file': the population file "
                             "you loaded into your system (from `meshcert population generate`)")


class Launch(_Model):
    """How the harness starts a bundled reference system itself (vendors leave this out)."""

    topology: str
    simulator: str
    defect: str | None = None


class Target(_Model):
    target: Literal[1] = Field(description="Target file format version")
    name: str = Field(min_length=1)
    vendor: str = Field(min_length=1)
    profile: str
    catalog: str = "2026.1"
    base_url: str
    tls: TlsSettings = TlsSettings()
    auth: AuthSettings
    municipality: LgCode
    other_municipality: LgCode | None = Field(default=None, description="A second municipality "
                                              "your system hosts, for tenant-isolation tests")
    seeding: Seeding
    launch: Launch | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL such as https://127.0.0.1:8443")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError("give the origin only (scheme, host, port), without a path")
        return value.rstrip("/")

    @field_validator("municipality", "other_municipality")
    @classmethod
    def _lg_code(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_local_government_code(value):
            raise ValueError(f"{value} is not a valid local government code (check digit)")
        return value


class TargetError(ValueError):
    """A target file is missing or invalid; the message lists every problem with its path."""


def load_target(path: Path) -> tuple[Target, Path]:
    """Validate a target file fully; returns the target and the folder paths are relative to."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TargetError(f"{path}: no such target file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise TargetError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TargetError(f"{path}: expected a mapping at the top level")
    problems: list[str] = []
    target: Target | None = None
    try:
        target = Target.model_validate(raw)
    except ValidationError as exc:
        problems += [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    if target is not None:
        problems += _cross_checks(target, path.parent)
    if problems:
        raise TargetError("\n".join([f"{path}: {len(problems)} problem(s):",
                                     *(f"  {p}" for p in problems)]))
    assert target is not None
    return target, path.parent.resolve()


def _cross_checks(target: Target, base: Path) -> list[str]:
    problems: list[str] = []
    try:
        catalog = load_catalog(target.catalog)
        if target.profile not in catalog.profiles:
            problems.append(f"profile: catalog {target.catalog} has no profile "
                            f"{target.profile!r} (it has: {', '.join(sorted(catalog.profiles))})")
    except CatalogError as exc:
        problems.append(f"catalog: {exc}")
    if target.tls.ca_file not in (None, "run") and not (base / target.tls.ca_file).is_file():
        problems.append(f"tls.ca_file: no such file {base / target.tls.ca_file}")
    if target.base_url.startswith("https://") is False and target.tls.ca_file:
        problems.append("tls.ca_file: given, but base_url is not https://")
    seeding = target.seeding
    if seeding.method == "file":
        if not seeding.file:
            problems.append("seeding.file: required when seeding.method is 'file'")
        elif not (base / seeding.file).is_file():
            problems.append(f"seeding.file: no such file {base / seeding.file}")
    if isinstance(seeding.credential, Credential) and seeding.credential.env not in os.environ:
        problems.append(f"seeding.credential.env: the environment variable "
                        f"{seeding.credential.env} is not set")
    if target.other_municipality == target.municipality:
        problems.append("other_municipality: must differ from municipality")
    if target.launch and not (base / target.launch.topology).is_file():
        problems.append(f"launch.topology: no such file {base / target.launch.topology}")
    return problems
