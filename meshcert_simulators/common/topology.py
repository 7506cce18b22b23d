"""Topology files: which simulators run, where, for whom, and who may call them.

A topology is YAML (fixtures/topologies/). It is validated as a whole on load and every problem
is reported with its path in the file, so a user can fix them all at once.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from meshcert_simulators.common.identifiers import is_valid_local_government_code
from meshcert_simulators.common.yaml_errors import yaml_error_line
from meshcert_simulators.fixtures import fixture_path

DEFAULT_TOPOLOGY = fixture_path("topologies", "embedded.yaml")

Port = Annotated[int, Field(ge=1, le=65535)]
# How a resource server lets callers prove who they are: a static bearer token registered here,
# or a JWT access token from the topology's issuer (OAuth2 client credentials, RFC 9068).
AuthMethod = Literal["token", "jwt"]
AUDIENCE_PREFIX = "urn:meshcert:"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Client(_Model):
    """A registered caller: its credentials, what it may do, and where.

    ``token`` is a static bearer token carrying ``roles``; ``public_jwk`` (a JWK file, relative
    to the topology file) lets it get JWT access tokens from the issuer with ``private_key_jwt``,
    for ``scopes`` (default: its roles). A client needs at least one of the two.
    """

    id: str = Field(min_length=1)
    token: str | None = Field(default=None, min_length=16)
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] | None = None
    # Empty means every municipality the simulator hosts.
    municipalities: tuple[str, ...] = ()
    public_jwk: str | None = Field(default=None, min_length=1)
    # A relying party of the idp simulator: where it may be sent back to (matched exactly),
    # and the purpose its login page shows the person.
    redirect_uris: tuple[str, ...] = ()
    purpose: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _has_a_credential(self) -> Client:
        if self.token is None and self.public_jwk is None:
            raise ValueError(f"client {self.id!r} needs a token, a public_jwk, or both")
        if self.redirect_uris and self.public_jwk is None:
            raise ValueError(f"client {self.id!r} has redirect_uris (a relying party of the idp)"
                             " but no public_jwk to verify its client assertions")
        return self

    @property
    def registered_scopes(self) -> tuple[str, ...]:
        """The scopes the issuer may grant this client."""
        return self.roles if self.scopes is None else self.scopes


class SimulatorSpec(_Model):
    kind: Literal["municipal", "authz", "mesh", "jlis", "tax", "child-allowance", "jpki",
                  "gateway", "idp", "bank", "portal", "front-app", "accounts", "service",
                  "nhi"]
    host: str = "127.0.0.1"
    port: Port
    municipalities: tuple[str, ...] = ()
    tls: bool = False  # serve HTTPS with the run folder's local CA (TLS 1.2 minimum)
    # Ask callers for a client certificate from the local CA (mutual TLS; needs tls). The mesh
    # then requires one from each institution marked ``mtls``.
    mtls: bool = False
    # The resource identifier access tokens must name in ``aud`` (default urn:meshcert:<name>).
    audience: str | None = Field(default=None, min_length=1)
    auth: tuple[AuthMethod, ...] = ("token", "jwt")
    # authz: the private JWK it signs access tokens with; child-allowance: the one it signs its
    # private_key_jwt client assertions with (relative to the topology file).
    signing_key: str | None = Field(default=None, min_length=1)
    # child-allowance (an inquirer of the mesh): the code of the institution it acts as.
    institution: str | None = Field(default=None, min_length=1)
    # service: its definition, a name of fixtures/services/ or a folder (relative to the
    # topology file); it brings its institution and client (meshcert_simulators/service/).
    service: str | None = Field(default=None, min_length=1)
    # Keep what callers sent and got (GET /admin/exchanges), for suites that judge a caller;
    # off by default where hot reads are served (the capture costs on every request).
    capture_exchanges: bool = False

    @field_validator("municipalities")
    @classmethod
    def _valid_codes(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in codes if not is_valid_local_government_code(c)]
        if bad:
            raise ValueError(f"not valid local government codes (6 digits with check digit): {bad}")
        return codes


class Issuer(_Model):
    """Who issues the access tokens resource servers accept: the topology's authz simulator,
    or an external authorization server (``url``, with its public keys in a ``jwks`` file)."""

    simulator: str | None = Field(default=None, min_length=1)
    url: str | None = Field(default=None, min_length=1)
    # A JWKS file (relative to the topology file). Without it, resource servers fetch
    # <simulator URL>/.well-known/jwks.json once and keep it.
    jwks: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_issuer(self) -> Issuer:
        if (self.simulator is None) == (self.url is None):
            raise ValueError("name exactly one of 'simulator' (an authz simulator of this "
                             "topology) or 'url' (an external issuer)")
        if self.url is not None and self.jwks is None:
            raise ValueError("an external issuer needs 'jwks': a file with its public keys")
        return self


InstitutionRole = Literal["inquirer", "provider"]
Route = Literal["realtime", "copy"]


class Institution(_Model):
    """An institution of the public service mesh (meshcert_simulators/mesh/): who it is, what it
    does,
    and which topology client it authenticates as. A provider also says how inquiries reach it:
    ``realtime`` (its own API) or ``copy`` (the J-LIS intermediate server answers from copies),
    and where: ``simulator`` (a simulator of this topology) or ``url`` (an external system)."""

    code: str = Field(pattern=r"^[A-Za-z0-9-]{1,32}$")
    name: str = Field(min_length=1)
    # Empty: neither asks nor answers (e.g. the portal reading provision records).
    roles: tuple[InstitutionRole, ...] = ()
    client: str = Field(min_length=1)
    route: Route | None = None
    simulator: str | None = Field(default=None, min_length=1)
    url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    # Every call must also come over mutual TLS with the client certificate the local CA issued
    # to ``client`` (RFC 8705 §2.1: the certificate's subject names the client).
    mtls: bool = False
    # A copy-route provider that is a municipality's resident registry: the J-LIS server's batch
    # sync files that municipality's records as this institution's copies
    # (meshcert_simulators.jlis.sync).
    registry_of: str | None = Field(default=None, pattern=r"^[0-9]{6}$")

    @model_validator(mode="after")
    def _provider_is_routable(self) -> Institution:
        if "provider" in self.roles:
            if self.route is None:
                raise ValueError(f"provider {self.code!r} needs 'route': realtime or copy")
            if (self.simulator is None) == (self.url is None):
                raise ValueError(f"provider {self.code!r} needs exactly one of 'simulator' "
                                 "or 'url'")
            if self.registry_of is not None and self.route != "copy":
                raise ValueError(f"{self.code!r}: registry_of is for copy-route providers")
        elif (self.route, self.simulator, self.url, self.registry_of) != (None,) * 4:
            raise ValueError(f"{self.code!r} is not a provider: 'route', 'simulator', 'url' and "
                             "'registry_of' are for providers")
        return self


class Topology(_Model):
    name: str
    admin_token: str = Field(min_length=16)
    simulators: dict[str, SimulatorSpec]
    clients: tuple[Client, ...] = ()
    issuer: Issuer | None = None
    # The institutions of the public service mesh (only a topology with a mesh needs them).
    institutions: tuple[Institution, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Topology:
        problems = [f"simulators.{name}: an authz simulator needs 'signing_key' (a private JWK "
                    "file)" for name, spec in self.simulators.items()
                    if spec.kind == "authz" and spec.signing_key is None]
        problems += [f"simulators.{name}: mtls needs tls: true" for name, spec
                     in self.simulators.items() if spec.mtls and not spec.tls]
        if self.issuer is not None and self.issuer.simulator is not None:
            spec = self.simulators.get(self.issuer.simulator)
            if spec is None or spec.kind != "authz":
                problems.append(f"issuer.simulator: {self.issuer.simulator!r} is not an authz "
                                "simulator of this topology")
        problems += self._institution_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _institution_problems(self) -> list[str]:
        problems: list[str] = []
        clients = {c.id for c in self.clients}
        seen_codes: set[str] = set()
        seen_clients: set[str] = set()
        for i, inst in enumerate(self.institutions):
            where = f"institutions.{i}"
            if inst.code in seen_codes:
                problems.append(f"{where}: the code {inst.code!r} is used twice")
            if inst.client in seen_clients:
                problems.append(f"{where}: the client {inst.client!r} is already an institution")
            seen_codes.add(inst.code)
            seen_clients.add(inst.client)
            if inst.client not in clients:
                problems.append(f"{where}: client {inst.client!r} is not a client of this "
                                "topology")
            if inst.simulator is not None and inst.simulator not in self.simulators:
                problems.append(f"{where}: simulator {inst.simulator!r} is not a simulator of "
                                "this topology")
        return problems

    def institution(self, code: str) -> Institution | None:
        return next((i for i in self.institutions if i.code == code), None)

    def institution_of_client(self, client_id: str) -> Institution | None:
        return next((i for i in self.institutions if i.client == client_id), None)

    def simulator(self, name: str) -> SimulatorSpec:
        try:
            return self.simulators[name]
        except KeyError:
            known = ", ".join(sorted(self.simulators)) or "none"
            raise TopologyError(f"topology {self.name!r} has no simulator {name!r} "
                                f"(it has: {known})") from None

    def url(self, name: str) -> str:
        spec = self.simulator(name)
        return f"{'https' if spec.tls else 'http'}://{spec.host}:{spec.port}"

    def audience(self, name: str) -> str:
        """The resource identifier of a simulator: what ``aud`` must name to reach it."""
        return self.simulator(name).audience or f"{AUDIENCE_PREFIX}{name}"

    def issuer_url(self) -> str | None:
        """The ``iss`` of the access tokens this topology's resource servers accept."""
        if self.issuer is None:
            return None
        return self.issuer.url or self.url(str(self.issuer.simulator))

    def jwks_url(self) -> str | None:
        """Where the issuer simulator publishes its public keys (None for an external one)."""
        if self.issuer is None or self.issuer.simulator is None:
            return None
        return f"{self.url(self.issuer.simulator)}/.well-known/jwks.json"

    def client(self, client_id: str) -> Client | None:
        return next((c for c in self.clients if c.id == client_id), None)


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
        raise TopologyError(f"{path}: not valid YAML: {yaml_error_line(exc)}") from None
    if not isinstance(raw, dict):
        raise TopologyError(f"{path}: expected a mapping at the top level")
    try:
        return topology_from_raw(raw, path.parent)
    except ValidationError as exc:
        lines = [f"{path}: {exc.error_count()} problem(s):"]
        lines += [f"  {_location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise TopologyError("\n".join(lines)) from None


def topology_from_raw(raw: dict[str, object], base: Path) -> Topology:
    """A topology from parsed YAML (perhaps changed in memory), its paths relative to ``base``;
    raises pydantic's ValidationError (:func:`load_topology` turns it into a TopologyError)."""
    raw = with_absolute_paths(raw, base)
    simulators = raw.get("simulators")
    if isinstance(simulators, dict) and any(isinstance(s, dict) and s.get("kind") == "service"
                                            for s in simulators.values()):
        from meshcert_simulators.service.mesh_entries import with_services
        try:
            raw = with_services(raw, base)
        except ValueError as exc:
            raise TopologyError(str(exc)) from None
    return Topology.model_validate(_tuples(raw))


def with_absolute_paths(raw: dict[str, object], base: Path) -> dict[str, object]:
    """The raw topology with its file paths (keys, JWKS) made absolute against ``base``, the
    folder of the topology file; a copy written elsewhere then still finds its keys."""

    def fix(holder: object, field: str) -> None:
        if isinstance(holder, dict) and isinstance(holder.get(field), str):
            holder[field] = str((base / holder[field]).resolve())

    out = copy.deepcopy(raw)
    clients = out.get("clients")
    for client in clients if isinstance(clients, list) else ():
        fix(client, "public_jwk")
    fix(out.get("issuer"), "jwks")
    simulators = out.get("simulators")
    for spec in simulators.values() if isinstance(simulators, dict) else ():
        fix(spec, "signing_key")
    return out


def _tuples(value: object) -> object:
    """YAML gives lists; the strict frozen models hold tuples."""
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value
