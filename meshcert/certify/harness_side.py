"""The harness side of a vendor's certification: the simulators around the vendor's system,
started before it so the system can be configured against them, and the brief that says what
the system must trust and call.

**The vendor topology of a profile is derived, not kept as a second file.** It is the
profile's topology (meshcert.certify.harness.PROFILE_TOPOLOGIES, or ``--topology``) with three rules
applied, so ports, clients and tokens stay in one place and cannot drift from what the bundled
reference is certified with:

1. only the simulators the catalog's profile surrounds the system with are kept (the bundled
   reference the vendor replaces — ``municipal``, ``tax``, ``child-allowance`` — is dropped);
2. an institution the dropped reference served points at the vendor's system instead
   (``url:`` = the target's ``base_url``);
3. with ``client_key``, the vendor's public JWK replaces the bundled demo key of the client its
   system authenticates as (a mesh inquirer's ``private_key_jwt``).

The derived file keeps the profile topology's name, so it lives in the run folder
``meshcert certify`` uses for a vendor target (``.meshcert/run/<name>/``): the local CA made
here is the one certify trusts, and the simulators started here are the ones certify reuses.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import yaml

from meshcert.backends import processes
from meshcert.catalog.requirements import CatalogError, load_catalog
from meshcert.catalog.targets import Target, TargetError, load_target
from meshcert.certify.harness import (
    HARNESS_CLIENT,
    PROFILE_CLIENTS,
    PROFILE_SCOPES,
    PROFILE_TOPOLOGIES,
)
from meshcert.errors import MeshcertError
from meshcert_simulators.common.auth import ADMIN_ROLE
from meshcert_simulators.common.jwks import (
    ACCESS_TOKEN_TYPE,
    ALGORITHM,
    KeyFileError,
    load_public_key,
)
from meshcert_simulators.common.tls import (
    SERVER_IPS,
    SERVER_NAMES,
    LocalTls,
    client_certificate,
    ensure_local_tls,
    trust_for,
)
from meshcert_simulators.common.topology import (
    Topology,
    load_topology,
    topology_from_raw,
    with_absolute_paths,
)
from meshcert_simulators.fixtures import fixture_path
from meshcert_simulators.mesh.legal_basis import load_legal_basis

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SPECS = fixture_path("specs")
VENDOR_TOPOLOGY = "vendor-topology.yaml"
BRIEF_FILE = "harness.json"
JWKS_FILE = "jwks.json"
# Where an institution served by the vendor's system points when no target file was given.
PLACEHOLDER_URL = "https://your-system.invalid"
JST = timezone(timedelta(hours=9))

# The contract a system of each profile serves (fixtures/specs/).
PROFILE_CONTRACTS: dict[str, str] = {
    "resident-registry": "resident-registry.openapi.json",
    "information-provider": "tax.openapi.json",
    "mesh-inquirer": "child-allowance.openapi.json",
    "downstream-system": "nhi.openapi.json",   # the read API, as the reference serves it
}


class HarnessSideError(MeshcertError, ValueError):
    """What was asked cannot be set up as given: fix the profile, target or key the message
    names and run ``meshcert harness up`` again. Exit status 2."""


@dataclass(frozen=True)
class Plan:
    """Everything decided before anything starts."""

    profile: str
    source: Path                  # the profile topology the vendor topology is derived from
    names: tuple[str, ...]        # the harness simulators to start
    raw: dict[str, Any]           # the vendor topology (absolute paths)
    topology: Topology
    run_dir: Path
    target: Target | None
    target_path: Path | None
    institution: str | None       # the vendor system's institution code in the mesh
    client_key: Path | None       # the vendor's public JWK, when registered

    @property
    def topology_path(self) -> Path:
        return self.run_dir / VENDOR_TOPOLOGY

    @property
    def brief_path(self) -> Path:
        return self.run_dir / BRIEF_FILE

    @property
    def tls(self) -> LocalTls:
        return LocalTls(processes.tls_dir(self.run_dir))


# -- the vendor topology ---------------------------------------------------------------------


def vendor_topology(raw: dict[str, Any], base: Path, keep: tuple[str, ...], vendor_url: str,
                    client_key: tuple[str, Path] | None = None) -> dict[str, Any]:
    """The vendor topology of a profile topology ``raw`` (its paths relative to ``base``):
    the module docstring's three rules. ``client_key`` is (client id, public JWK file)."""
    out = with_absolute_paths(copy.deepcopy(raw), base)
    simulators = out.get("simulators") or {}
    dropped = {name: spec for name, spec in simulators.items() if name not in keep}
    out["simulators"] = {name: spec for name, spec in simulators.items() if name in keep}
    for institution in out.get("institutions") or ():
        if institution.get("simulator") in dropped:
            del institution["simulator"]
            institution["url"] = vendor_url
    if client_key is not None:
        client_id, key = client_key
        for client in out.get("clients") or ():
            if client.get("id") == client_id:
                client["public_jwk"] = str(key.resolve())
    return out


def _vendor_institution(raw: dict[str, Any], keep: tuple[str, ...]) -> str | None:
    """The institution the bundled reference plays: one its dropped simulator serves (a
    provider) or acts as (an inquirer's ``institution``)."""
    dropped = {name: spec for name, spec in (raw.get("simulators") or {}).items()
               if name not in keep}
    acting = {spec.get("institution") for spec in dropped.values()}
    for institution in raw.get("institutions") or ():
        if institution.get("simulator") in dropped or institution.get("code") in acting:
            return str(institution["code"])
    return None


def _target_institution(target: Target) -> tuple[str, str] | None:
    """(code, role) the target file names for its system, if its profile has one."""
    if target.provider is not None:
        return target.provider.institution, "provider"
    if target.inquirer is not None:
        return target.inquirer.institution, "inquirer"
    return None


def plan(profile: str | None = None, *, target_path: Path | None = None,
         topology_path: Path | None = None, client_key: Path | None = None) -> Plan:
    """Check everything and derive the vendor topology; raises HarnessSideError."""
    target = None
    if target_path is not None:
        try:
            target, _ = load_target(target_path)
        except TargetError as exc:
            raise HarnessSideError(str(exc)) from None
        if target.launch is not None:
            raise HarnessSideError(
                f"{target_path} is a bundled reference (it has 'launch'): `meshcert certify` "
                "starts it and its harness itself on free ports; `harness up` is for a system "
                "you run")
        if profile is not None and profile != target.profile:
            raise HarnessSideError(f"--profile {profile}, but {target_path} is a target of "
                                   f"profile {target.profile}")
        profile = target.profile
    if profile is None:
        raise HarnessSideError("give --profile (one of "
                               f"{', '.join(sorted(PROFILE_TOPOLOGIES))}) or --target")
    try:
        catalog = load_catalog(target.catalog) if target else load_catalog()
    except CatalogError as exc:
        raise HarnessSideError(str(exc)) from None
    if profile not in catalog.profiles or profile not in PROFILE_TOPOLOGIES:
        known = ", ".join(sorted(set(catalog.profiles) & set(PROFILE_TOPOLOGIES)))
        raise HarnessSideError(f"--profile {profile!r}: not a profile with a harness side "
                               f"(use one of {known})")
    names = tuple(catalog.profiles[profile].simulators)
    source = Path(topology_path or PROFILE_TOPOLOGIES[profile]).resolve()
    base_topology = _load(source)
    for name in names:
        if name not in base_topology.simulators:
            raise HarnessSideError(f"{source}: profile {profile} needs a simulator {name!r} "
                                   f"(it has: {', '.join(base_topology.simulators)})")
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    institution = _vendor_institution(raw, names)
    if target is not None and (named := _target_institution(target)) is not None:
        code, role = named
        found = base_topology.institution(code)
        if found is None or role not in found.roles:
            known = [i.code for i in base_topology.institutions if role in i.roles]
            raise HarnessSideError(f"{target_path}: {role}.institution {code!r} is not among "
                                   f"the {role}s of {source} (it has: {', '.join(known)})")
        institution = code
    key = _client_key(client_key, base_topology, institution, profile,
                      target.downstream.client if target and target.downstream else None)
    vendor_url = target.base_url if target else PLACEHOLDER_URL
    derived = vendor_topology(raw, source.parent, names, vendor_url, key)
    try:
        topology = topology_from_raw(derived, source.parent)
    except ValueError as exc:
        raise HarnessSideError(f"the vendor topology derived from {source} is invalid: {exc}"
                               ) from None
    return Plan(profile=profile, source=source, names=names, raw=derived, topology=topology,
                run_dir=processes.default_run_dir(topology).resolve(), target=target,
                target_path=target_path.resolve() if target_path else None,
                institution=institution, client_key=key[1].resolve() if key else None)


def _load(path: Path) -> Topology:
    try:
        return load_topology(path)
    except ValueError as exc:
        raise HarnessSideError(str(exc)) from None


def _client_key(path: Path | None, topology: Topology, institution: str | None,
                profile: str, client_id: str | None = None) -> tuple[str, Path] | None:
    """``client_id``: the client a system without an institution (a downstream system) gets
    its tokens as."""
    if path is None:
        return None
    found = topology.institution(institution) if institution else None
    client = topology.client(found.client) if found else (
        topology.client(client_id) if client_id else None)
    if client is None or client.public_jwk is None:
        raise HarnessSideError(f"--client-key: a {profile} system gets no access tokens from "
                               "the harness's issuer, so there is no key to register")
    try:
        load_public_key(path)
    except KeyFileError as exc:
        raise HarnessSideError(f"--client-key: {exc}") from None
    return client.id, path


# -- up, down, status ------------------------------------------------------------------------


def running(run_dir: Path) -> list[str]:
    """The simulators started from ``run_dir`` that still run (by their pid files)."""
    return sorted(p.stem for p in run_dir.glob("*.pid")
                  if processes.running_pid(run_dir, p.stem) is not None)


Up = Callable[[Path, Path, list[str]], list[processes.Launched]]


def start(chosen: Plan, up: Up | None = None
          ) -> tuple[list[processes.Launched], dict[str, Any]]:
    """Write the vendor topology, make the local CA, start the harness simulators (or find
    them running with the same configuration), and write the brief; returns both. ``up``
    starts the simulators (default :func:`meshcert.backends.processes.up`; the CLI shows
    progress)."""
    text = yaml.safe_dump(chosen.raw, allow_unicode=True, sort_keys=False)
    path = chosen.topology_path
    live = running(chosen.run_dir)
    if live:
        before = path.read_text(encoding="utf-8") if path.is_file() else None
        if before != text:
            raise processes.Conflict(
                f"the harness side in {chosen.run_dir} runs ({', '.join(live)}) with another "
                f"configuration; stop it first: {stop_command(chosen)}")
    chosen.run_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    ensure_local_tls(chosen.tls.folder)  # made at start: the vendor trusts it before certify
    launched = (up or processes.up)(path, chosen.run_dir, list(chosen.names))
    brief = make_brief(chosen, launched, _fetch_jwks(chosen))
    chosen.brief_path.write_text(json.dumps(brief, ensure_ascii=False, indent=2) + "\n",
                                 encoding="utf-8")
    return launched, brief


def _fetch_jwks(chosen: Plan) -> Path | None:
    """The issuer's JWKS as served, kept in the run folder for systems configured by file."""
    url = chosen.topology.jwks_url()
    if url is None:
        return None
    try:
        answer = httpx.get(url, verify=trust_for(chosen.tls.folder), timeout=10)
        answer.raise_for_status()
    except httpx.HTTPError as exc:
        raise processes.ProcessError(f"the issuer runs but its JWKS ({url}) could not be "
                                     f"read: {exc}") from None
    path = chosen.run_dir / JWKS_FILE
    path.write_text(json.dumps(answer.json(), indent=2) + "\n", encoding="utf-8")
    return path


# -- the brief -------------------------------------------------------------------------------


def make_brief(chosen: Plan, launched: list[processes.Launched], jwks_file: Path | None
               ) -> dict[str, Any]:
    """What the vendor's system must trust and call, as ``meshcert certify`` will use it
    (``jwks_file``: the issuer's keys as served, see :func:`start`)."""
    topology = chosen.topology
    issuer = topology.issuer_url()
    target = chosen.target
    target_arg = str(chosen.target_path) if chosen.target_path else "my-system.yaml"
    brief: dict[str, Any] = {
        "profile": chosen.profile,
        "run_dir": str(chosen.run_dir),
        "topology": str(chosen.topology_path),
        "derived_from": str(chosen.source),
        "simulators": {item.name: {"url": item.url, "pid": item.pid, "log": str(item.log)}
                       for item in launched},
        "ca_file": str(chosen.tls.ca_cert),
        "server_certificate": {
            "cert": str(chosen.tls.cert), "key": str(chosen.tls.key),
            "names": [*SERVER_IPS, *SERVER_NAMES],
            "use": "optional: serve HTTPS on loopback with it and put `tls: {ca_file: run}` "
                   "in your target file"},
        "issuer": {
            "url": issuer, "token_endpoint": f"{issuer}/oauth/token",
            "jwks_url": topology.jwks_url(),
            "jwks_file": str(jwks_file) if jwks_file else None,
            "algorithm": ALGORITHM, "token_type": ACCESS_TOKEN_TYPE},
        "harness_calls_you": _harness_calls(chosen, target),
        "you_call": _you_call(chosen),
        "register": _register(chosen),
        "target": None if target is None else {
            "file": str(chosen.target_path), "base_url": target.base_url,
            "audience": target.auth.audience},
        "certify": f"meshcert certify --target {target_arg} --topology {chosen.topology_path}",
        "stop": stop_command(chosen),
    }
    return brief


def stop_command(chosen: Plan) -> str:
    """``meshcert harness down`` for this harness side (its topology named when not the
    profile's own, since the run folder follows the topology's name)."""
    command = f"meshcert harness down --profile {chosen.profile}"
    if chosen.source != PROFILE_TOPOLOGIES[chosen.profile].resolve():
        command += f" --topology {chosen.source}"
    return command


def _harness_calls(chosen: Plan, target: Target | None) -> dict[str, Any]:
    """Who the harness is when it calls the vendor's system, and with what."""
    profile = chosen.profile
    operations: list[str] = []
    if profile == "resident-registry":
        seeding = target.seeding if target else None
        if seeding is None or seeding.method == "endpoint":
            path = seeding.path if seeding else "/admin/seed"
            operations.append(f"POST {path}: the population to load (scope {ADMIN_ROLE}; "
                              "target seeding.method endpoint)")
        operations += ["every operation of the contract (scopes = roles)",
                       "a `municipalities` claim, when a token has one, limits where it applies"]
    elif profile == "information-provider":
        provider = target.provider if target else None
        provide, audit = provider.scopes() if provider else ("tax:provide", "tax:audit")
        operations += [f"POST /v1/provisions (scope {provide})",
                       f"GET /v1/provision-records (scope {audit})",
                       f"POST {provider.seeding_path if provider else '/admin/seed'}: "
                       f"persons by 符号 and figures (scope {ADMIN_ROLE})"]
        publish = provider.publish_path if provider else "/v1/copies/publish"
        if publish:
            operations.append(f"POST {publish}: register your copies at J-LIS now "
                              f"(scope {ADMIN_ROLE})")
    elif profile == "mesh-inquirer":
        path = target.inquirer.applications_path if target and target.inquirer else (
            "/v1/applications")
        operations += [f"POST {path} (scope allowance:apply)",
                       f"GET {path}/{{id}} (scope allowance:read)",
                       "GET /v1/provision-records (scope allowance:audit)"]
    elif profile == "private-service":
        party = target.relying_party if target else None
        operations += [f"GET {party.login_path if party else '/login'} as a browser: a login "
                       "the harness's card holder completes at the provider",
                       f"GET {party.me_path if party else '/me'} with that login's cookies: "
                       "the signed-in person's facts (JSON)"]
    elif profile == "downstream-system":
        down = target.downstream if target else None
        operations += [f"GET {down.resident_path if down else '/v1/residents/{atena_number}'}"
                       " (scope downstream:read; the My Number only with "
                       "downstream:read-mynumber)",
                       f"GET {down.household_path if down else '/v1/households/{setai_number}'}"
                       " (scope downstream:read)",
                       f"GET {down.sync_state_path if down else '/v1/sync-state'}: your "
                       "stored feed cursor (scope downstream:read)"]
        if down is None or down.sync_path:
            operations.append(f"POST {down.sync_path if down else '/v1/sync'}: read the feed "
                              "to its end now (scope downstream:sync)")
        if down is not None and down.restart_path:
            operations.append(f"POST {down.restart_path}: restart (scope downstream:sync)")
    elif profile == "front-service":
        party = target.relying_party if target else None
        front = target.front_service if target else None
        operations += [f"GET {party.login_path if party else '/login'} as a browser: a login "
                       "the harness's card holder (a person, or a proxy) completes at the "
                       "provider",
                       f"GET {party.me_path if party else '/me'} with that login's cookies: who "
                       "is signed in (JSON, the person's name)",
                       f"POST {front.moveouts_path if front else '/moveouts'}: the move-out "
                       "form (JSON) — file it on the portal",
                       f"GET {front.status_path if front else '/moveouts/{id}'}: its status as "
                       "the portal reports it now"]
    contract = PROFILE_CONTRACTS.get(profile)
    return {
        "base_url": target.base_url if target else None,
        "audience": target.auth.audience if target else None,
        "audience_note": "the `aud` of the harness's access tokens: auth.audience of your "
                         "target file",
        "subject": PROFILE_CLIENTS.get(profile, HARNESS_CLIENT),
        "scopes": list(PROFILE_SCOPES.get(profile, ())),
        "contract": str(SPECS / contract) if contract else None,
        "operations": operations,
    }


def _you_call(chosen: Plan) -> list[dict[str, Any]]:
    """The harness simulators the vendor's system calls, with its credentials for each."""
    topology = chosen.topology
    found = topology.institution(chosen.institution) if chosen.institution else None
    client = topology.client(found.client) if found else None
    calls: list[dict[str, Any]] = []
    if chosen.profile == "information-provider" and client is not None:
        jlis = next(n for n, s in topology.simulators.items() if s.kind == "jlis")
        calls.append({
            "name": jlis, "url": topology.url(jlis), "what": "register your copies (副本)",
            "client_id": client.id, "authentication": "static bearer token",
            "token": client.token,
            "operations": [f"PUT {topology.url(jlis)}/v1/copies/{client.id}/{{符号}}/{{item}}"],
            "contract": str(SPECS / "jlis.openapi.json")})
    if chosen.profile in ("private-service", "front-service"):
        peers = (("idp", "your OpenID provider (issuer = this URL)", "idp.openapi.json"),
                 ("gateway", "the persons' facts: GET /v1/basic-facts with the provider's "
                  "access token", "gateway.openapi.json"))
        if chosen.profile == "front-service":
            peers = (peers[0], ("portal", "file the move-out and read its status with the "
                                "person's access token (POST /v1/moveouts, GET /v1/moveouts/"
                                "{id}, GET /v1/me/proxies)", "portal.openapi.json"))
        for kind, what, spec in peers:
            name = next((n for n, s in topology.simulators.items() if s.kind == kind), None)
            if name is not None:
                calls.append({"name": name, "url": topology.url(name), "what": what,
                              "contract": str(SPECS / spec)})
    if chosen.profile == "downstream-system":
        registry = next(n for n, s in topology.simulators.items() if s.kind == "municipal")
        down = chosen.target.downstream if chosen.target else None
        lg_code = down.municipality if down else topology.simulator(registry).municipalities[0]
        calls.append({
            "name": registry, "url": topology.url(registry),
            "what": "follow the difference feed from your stored cursor",
            "client_id": down.client if down else "one of the topology's registry:read "
                                                  "clients with a public_jwk",
            "authentication": "JWT access token: client credentials with private_key_jwt at "
                              "the issuer's token endpoint, resource = the audience below; "
                              "scope registry:read (and registry:read-mynumber only if your "
                              "area needs the My Number)",
            "audience": topology.audience(registry),
            "operations": [f"GET /municipalities/{lg_code}/changes?after={{cursor}}"],
            "contract": str(SPECS / "resident-registry.openapi.json")})
    if chosen.profile == "mesh-inquirer" and client is not None and found is not None:
        mesh = next(n for n, s in topology.simulators.items() if s.kind == "mesh")
        entry: dict[str, Any] = {
            "name": mesh, "url": topology.url(mesh), "what": "get 符号 and ask providers",
            "client_id": client.id, "institution": found.code,
            "authentication": "JWT access token: client credentials with private_key_jwt at "
                              "the issuer's token endpoint, resource = the audience below",
            "audience": topology.audience(mesh),
            "operations": ["POST /v1/codes", "POST /v1/inquiries"],
            "may_ask": _permitted(found.code),
            "contract": str(SPECS / "mesh.openapi.json")}
        if found.mtls:
            cert, key = client_certificate(chosen.tls, client.id)
            entry["client_certificate"] = {"cert": str(cert), "key": str(key)}
        calls.append(entry)
    return calls


def _permitted(inquirer: str) -> list[dict[str, str]]:
    """The legal-basis rows the harness's mesh permits this inquirer today (Japan time)."""
    path = os.environ.get("MESHCERT_LEGAL_BASIS")  # the mesh reads the same override
    today: date = datetime.now(JST).date()
    table = load_legal_basis(Path(path) if path else None)
    return [{"procedure_code": r.procedure_code, "provider": r.provider,
             "item_code": r.item_code} for r in table.rules
            if r.inquirer == inquirer and r.valid_on(today)]


def _register(chosen: Plan) -> list[dict[str, Any]]:
    """Keys the harness holds for the vendor's system (its issuer verifies them)."""
    topology = chosen.topology
    found = topology.institution(chosen.institution) if chosen.institution else None
    down = chosen.target.downstream if chosen.target else None
    client = topology.client(found.client) if found else (
        topology.client(down.client) if down else None)
    if client is None or client.public_jwk is None:
        return []
    demo = chosen.client_key is None
    return [{"client_id": client.id, "public_jwk": client.public_jwk, "demo_key": demo,
             "note": ("the bundled demo key (its private half is published in fixtures/keys/, "
                      "local only): register yours with --client-key FILE") if demo else
                     "your public key, registered with --client-key"}]


def read_brief(run_dir: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads((run_dir / BRIEF_FILE).read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError):
        return None
