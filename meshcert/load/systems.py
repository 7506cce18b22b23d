"""The system a load run drives: a resident-registry target file (a vendor system, or the
bundled reference, started on free ports like a certification does) or a mesh topology (its
simulators started on free ports). Here it is started, seeded, and given tokens; Locust gets
what it needs through the plan (meshcert/load/run.py).
"""

from __future__ import annotations

import contextlib
import json
import random
import secrets
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import yaml

from meshcert.backends import processes
from meshcert.backends.ports import on_free_ports
from meshcert.catalog.requirements import Catalog, CatalogError, load_catalog
from meshcert.catalog.targets import Target, TargetError, load_target
from meshcert.certify.harness import CERTIFY_TOPOLOGY, harness_for
from meshcert.errors import HarnessError, MeshcertError, map_exceptions
from meshcert.load.scenarios import TargetKind
from meshcert_simulators.common.identifiers import generate_juminhyo_code
from meshcert_simulators.common.population import generate
from meshcert_simulators.common.topology import Topology, TopologyError, load_topology

JST = timezone(timedelta(hours=9))
SEED_CHUNK = 500
MESH_PERSONS = 100
TOKEN_MARGIN_S = 900
Notify = Callable[[str], None]

# The mesh's item mix (DOMAIN §5 F2/F4): who asks whom for what, as in fixtures/topologies/
# mesh.yaml and the legal-basis table 2026.1.
MESH_ITEMS: dict[str, dict[str, str]] = {
    "tax": {"inquirer": "chiyoda-child-allowance", "provider": "chiyoda-resident-tax",
            "procedure": "JT01010000000214", "item": "TM00000000000002"},
    "public-fund": {"inquirer": "benefit-agency", "provider": "public-fund-registry",
                    "procedure": "JT01030000000125", "item": "TM00000000000089"},
}


class LoadConfigError(MeshcertError, ValueError):
    """A scenario, target or topology that cannot be used as given: fix the option or file the
    message names (``meshcert load --help`` lists the scenarios). Exit status 2."""


@dataclass
class System:
    kind: TargetKind
    name: str
    source: Path
    base_url: str
    verify: bool = True
    ca_file: str | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    hosted_municipalities: int = 1
    catalog: Catalog | None = None
    profile: str | None = None
    simulators: dict[str, str] = field(default_factory=dict)

    def httpx_verify(self) -> ssl.SSLContext | bool:
        if not self.verify:
            return False
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else True


def kind_of(path: Path) -> TargetKind:
    """A target file (``target: 1``) is a registry; a topology with a mesh simulator is a mesh."""
    with map_exceptions(LoadConfigError, f"--target {path}"):
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if isinstance(raw, dict) and "target" in raw:
        return "registry"
    if isinstance(raw, dict) and "simulators" in raw:
        kinds = {spec.get("kind") for spec in (raw["simulators"] or {}).values()
                 if isinstance(spec, dict)}
        if "mesh" in kinds:
            return "mesh"
        raise LoadConfigError(f"--target {path}: a topology without a mesh simulator; give a "
                              "target file (fixtures/vendors/*.yaml) or a mesh topology "
                              "(fixtures/topologies/mesh.yaml)")
    raise LoadConfigError(f"--target {path}: neither a target file (with 'target: 1') nor a "
                          "topology (with 'simulators:')")


def fund_provider_kind(path: Path) -> str | None:
    """The simulator kind of a mesh topology's public-fund provider (None: none, or external)."""
    try:
        topology = load_topology(path)
    except TopologyError as exc:
        raise LoadConfigError(str(exc)) from None
    fund = topology.institution(MESH_ITEMS["public-fund"]["provider"])
    return topology.simulator(fund.simulator).kind if fund and fund.simulator else None


@contextlib.contextmanager
def prepared(path: Path, run_name: str, *, duration_s: float, keep_running: bool = False,
             notify: Notify | None = None, seed: bool = True,
             topology: Path | None = None) -> Iterator[System]:
    """The system under load, started if the harness starts it, seeded, with tokens.
    ``topology``: the harness side of a vendor target (its token issuer; default
    fixtures/topologies/certify.yaml), as for ``meshcert certify --topology``."""
    say = notify or (lambda _text: None)
    if kind_of(path) == "registry":
        with _registry(path, run_name, duration_s, keep_running, say, seed,
                       topology=topology) as system:
            yield system
    else:
        with _mesh(path, run_name, keep_running, say, seed) as system:
            yield system


@contextlib.contextmanager
def for_worker(path: Path, duration_s: float, topology: Path | None = None
               ) -> Iterator[System]:
    """What a Locust worker on another machine needs: tokens and identifiers of a system the
    master's machine seeded; nothing is started or seeded here."""
    if kind_of(path) != "registry":
        raise LoadConfigError("--worker: a worker drives a resident-registry target file; the "
                              "mesh scenarios start their simulators on the master's loopback")
    try:
        target, _ = load_target(path)
    except TargetError as exc:
        raise LoadConfigError(str(exc)) from None
    if target.launch is not None:
        raise LoadConfigError(f"--worker: {path} is a bundled reference, started on the "
                              "master's loopback where other machines cannot reach it; "
                              "distribute a load against a system on the network")
    with _registry(path, "worker", duration_s, True, lambda _text: None, False,
                   start=False, topology=topology) as system:
        yield system




# -- a resident registry ---------------------------------------------------------------------


@contextlib.contextmanager
def _registry(path: Path, run_name: str, duration_s: float, keep_running: bool, say: Notify,
              seed: bool, start: bool = True, topology: Path | None = None
              ) -> Iterator[System]:
    try:
        target, base = load_target(path)
        catalog = load_catalog(target.catalog)
    except (TargetError, CatalogError) as exc:
        raise LoadConfigError(str(exc)) from None
    if target.profile != "resident-registry":
        raise LoadConfigError(f"--target {path}: profile {target.profile}; the registry "
                              "scenarios drive a resident-registry system")
    with _registry_running(target, base, catalog, run_name, keep_running, say, start,
                           topology or CERTIFY_TOPOLOGY) as (
            base_url, topology_path, run_dir, sims):
        harness = harness_for(target, base, topology_path, run_dir)
        lifetime = int(duration_s) + TOKEN_MARGIN_S
        ca = harness.ca_file()
        system = System(
            kind="registry", name=target.name, source=Path(path), base_url=base_url,
            verify=target.tls.verify, ca_file=str(ca) if ca else None,
            tokens={"read": harness.token(["registry:read"], lifetime=lifetime),
                    "moveout": harness.token(["moveout:submit"], lifetime=lifetime)},
            hosted_municipalities=1 + (target.other_municipality is not None),
            catalog=catalog, profile=target.profile, simulators=sims)
        residents = _seeded(target, base, harness.token(["admin"]), system, say, seed)
        lg = target.municipality
        system.data = {
            "kind": "registry", "lg": lg,
            "lgs": [lg, *([target.other_municipality] if target.other_municipality else [])],
            "destination": "271004" if lg != "271004" else "131016",
            "moving_date": (datetime.now(JST).date() + timedelta(days=7)).isoformat(),
            "residents": [{"atena": r["atena_number"], "juminhyo": r["juminhyo_code"],
                           "surname": r["name"]["surname"], "given_name": r["name"]["given_name"],
                           "birth_date": (r.get("birth_date") or {}).get("iso")}
                          for r in residents if r.get("status", "resident") == "resident"]}
        yield system


@contextlib.contextmanager
def _registry_running(target: Target, base: Path, catalog: Catalog, run_name: str,
                      keep_running: bool, say: Notify, start: bool, harness_topology: Path
                      ) -> Iterator[tuple[str, Path, Path, dict[str, str]]]:
    names = list(catalog.profiles[target.profile].simulators)
    if target.launch is not None:
        source = (base / target.launch.topology).resolve()
        names = list(dict.fromkeys([*names, target.launch.simulator]))
        say(f"starting the bundled reference ({', '.join(names)}) on free ports")
        defects = {target.launch.simulator: target.launch.defect} if target.launch.defect \
            else None
        with on_free_ports(source, names, run_name, keep_running, defects=defects) as (
                topology_path, run_dir):
            topo = load_topology(topology_path)
            yield (topo.url(target.launch.simulator), topology_path, run_dir,
                   {n: topo.url(n) for n in names})
        return
    # A vendor system trusts the harness's issuer at its fixed address: start it if needed.
    try:
        topo = load_topology(harness_topology)
    except TopologyError as exc:
        raise LoadConfigError(str(exc)) from None
    run_dir = processes.default_run_dir(topo).resolve()
    if not start:
        yield target.base_url, harness_topology, run_dir, {}
        return
    say(f"starting the token issuer of {harness_topology.name} (if not running)")
    try:
        launched = processes.up(harness_topology, run_dir, names)
    except processes.Conflict as exc:
        raise LoadConfigError(str(exc)) from None
    except (processes.ProcessError, TopologyError) as exc:
        raise HarnessError(str(exc)) from None
    started = [item.name for item in launched if not item.already_running]
    try:
        yield target.base_url, harness_topology, run_dir, {n: topo.url(n) for n in names}
    finally:
        if started and not keep_running:
            processes.down(run_dir, started)


def _seeded(target: Target, base: Path, admin: str, system: System, say: Notify,
            seed: bool) -> list[dict[str, Any]]:
    seeding = target.seeding
    if seeding.method == "file":
        assert seeding.file is not None
        lines = (base / seeding.file).read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    records = list(generate(target.municipality, seeding.persons, seeding.seed))
    if not seed:
        return records
    say(f"seeding {len(records):,} residents of {target.municipality}")
    try:
        _post_seed(system, seeding.path, target.municipality, records, admin)
    except httpx.HTTPError as exc:
        raise HarnessError(f"seeding {system.base_url}{seeding.path}: {exc}") from None
    return records


def _post_seed(system: System, path: str, lg: str, records: list[dict[str, Any]],
               admin: str) -> None:
    with httpx.Client(base_url=system.base_url, verify=system.httpx_verify(), timeout=60,
                      headers={"Authorization": f"Bearer {admin}"}) as client:
        for start in range(0, len(records), SEED_CHUNK):
            response = client.post(path, json={
                "lg_code": lg, "reset": start == 0,
                "residents": records[start:start + SEED_CHUNK]})
            if response.status_code != 200:
                raise HarnessError(f"seeding {system.base_url}{path} failed with "
                                   f"{response.status_code}: {response.text[:300]}")


# -- a mesh topology -------------------------------------------------------------------------


@contextlib.contextmanager
def _mesh(path: Path, run_name: str, keep_running: bool, say: Notify,
          seed: bool) -> Iterator[System]:
    try:
        topology = load_topology(path)
    except TopologyError as exc:
        raise LoadConfigError(str(exc)) from None
    tokens = _institution_tokens(topology, path)
    names = list(topology.simulators)
    mesh_name = next(n for n, s in topology.simulators.items() if s.kind == "mesh")
    say(f"starting {', '.join(names)} of {Path(path).name} on free ports")
    with on_free_ports(Path(path).resolve(), names, run_name, keep_running) as (topo_path, _):
        topo = load_topology(topo_path)
        urls = {n: topo.url(n) for n in names}
        system = System(kind="mesh", name=f"mesh topology {topology.name}", source=Path(path),
                        base_url=urls[mesh_name], verify=False, tokens=tokens,
                        hosted_municipalities=1, simulators=urls)
        persons = [generate_juminhyo_code(random.Random(1000 + i)) for i in range(MESH_PERSONS)]
        say(f"seeding {len(persons)} persons: the providers' data (tax figures, public-fund "
            "accounts), 符号 of each inquirer")
        try:
            inquirers = _seed_mesh(topo, urls, mesh_name, tokens, persons) if seed else {}
        except httpx.HTTPError as exc:
            raise HarnessError(f"seeding the mesh simulators: {exc}") from None
        accounts = _accounts_data(topo, urls, persons)
        if "records_token" in accounts:  # tokens travel in the plan's tokens, not its data
            system.tokens["records"] = accounts.pop("records_token")
        if "notify_token" in accounts:
            system.tokens["notify"] = accounts.pop("notify_token")
        system.data = {"kind": "mesh", "inquirers": inquirers, "bulk_item": "public-fund",
                       **accounts}
        yield system


def _accounts_data(topology: Topology, urls: dict[str, str], persons: list[str]
                   ) -> dict[str, Any]:
    """Where the account registry's query records are read for a person (the portal's read),
    when the public-fund provider is an account-registry simulator of the topology."""
    fund = topology.institution(MESH_ITEMS["public-fund"]["provider"])
    name = fund.simulator if fund else None
    if name is None or topology.simulator(name).kind != "accounts":
        return {}
    reader = next((c for c in topology.clients if c.token and "accounts:records" in c.roles),
                  None)
    found: dict[str, Any] = {"accounts": urls[name], "persons": persons,
                             "records_token": reader.token if reader else topology.admin_token}
    # The portal, where the agency pushes each payee's notice (with portal:notify).
    portal = next((n for n, s in topology.simulators.items() if s.kind == "portal"), None)
    notifier = next((c for c in topology.clients if c.token and "portal:notify" in c.roles),
                    None)
    if portal is not None and notifier is not None:
        found |= {"portal": urls[portal], "notify_token": notifier.token}
    return found


def _institution_tokens(topology: Topology, path: Path) -> dict[str, str]:
    """Static tokens of the institutions the mix needs (and of the public-fund provider)."""
    clients = {c.id: c for c in topology.clients}
    institutions = {i.code: i for i in topology.institutions}
    tokens: dict[str, str] = {}
    missing = []
    for item, spec in MESH_ITEMS.items():
        if spec["inquirer"] not in institutions and spec["provider"] not in institutions:
            continue  # a topology without this item (the benefit payout's has no tax)
        for role in ("inquirer", "provider"):
            inst = institutions.get(spec[role])
            client = clients.get(inst.client) if inst else None
            if client is None or not client.token:
                missing.append(spec[role])
            elif role == "inquirer":
                tokens[item] = client.token
            else:
                tokens[f"{item}-provider"] = client.token
    if missing or "public-fund" not in tokens:
        missing = missing or [MESH_ITEMS["public-fund"]["inquirer"],
                              MESH_ITEMS["public-fund"]["provider"]]
        raise LoadConfigError(f"--target {path}: the mesh scenarios need the institutions "
                              f"{', '.join(sorted(set(missing)))} with a client holding a "
                              "static token (see fixtures/topologies/mesh.yaml)")
    return tokens


def _seed_mesh(topology: Topology, urls: dict[str, str], mesh_name: str,
               tokens: dict[str, str], persons: list[str]) -> dict[str, dict[str, Any]]:
    admin = {"Authorization": f"Bearer {topology.admin_token}"}
    institutions = {i.code: i for i in topology.institutions}
    found: dict[str, dict[str, Any]] = {}
    with httpx.Client(timeout=60) as http:
        def code(token: str, person: str) -> str:
            answer = http.post(f"{urls[mesh_name]}/v1/codes", json={"juminhyo_code": person},
                               headers={"Authorization": f"Bearer {token}"})
            if answer.status_code not in (200, 201):
                raise HarnessError(f"getting a 符号 failed: {answer.status_code} "
                                   f"{answer.text[:300]}")
            return str(answer.json()["code"])

        tax_provider = institutions.get(MESH_ITEMS["tax"]["provider"])
        tax = tax_provider.simulator if tax_provider else None
        if tax:
            seeded = http.post(f"{urls[tax]}/v1/admin/seed", headers=admin, json={
                "rows": [{"juminhyo_code": p} for p in persons]})
            if seeded.status_code != 200:
                raise HarnessError(f"seeding the tax provider failed: {seeded.status_code} "
                                   f"{seeded.text[:300]}")
        fund = institutions[MESH_ITEMS["public-fund"]["provider"]]
        if fund.simulator and topology.simulator(fund.simulator).kind == "accounts":
            _seed_accounts(http, urls[fund.simulator], admin, persons)
        elif fund.simulator:
            start = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
            for n, person in enumerate(persons):
                mine = code(tokens["public-fund-provider"], person)
                account = {"bank_code": "0001", "branch_code": "001", "account_type": "普通",
                           "account_number": f"{1000000 + n}", "holder_kana": "ロード テスト"}
                put = http.put(
                    f"{urls[fund.simulator]}/v1/copies/{fund.client}/{mine}/"
                    f"{MESH_ITEMS['public-fund']['item']}",
                    json={"data_set_key": "account", "version": 1, "publication_start": start,
                          "publication_end": None, "payload": account},
                    headers={"Authorization": f"Bearer {tokens['public-fund-provider']}"})
                if put.status_code not in (200, 201):
                    raise HarnessError(f"registering a public-fund copy failed: "
                                       f"{put.status_code} {put.text[:300]}")
        for item, spec in MESH_ITEMS.items():
            if item in tokens:
                found[item] = {**spec, "codes": [code(tokens[item], p) for p in persons]}
    return found


def _seed_accounts(http: httpx.Client, url: str, admin: dict[str, str],
                   persons: list[str]) -> None:
    """Each person's public-fund account at the account registry (its control plane: no login),
    which gets its own 符号 of each from the mesh as a registration does."""
    rows = [{"juminhyo_code": person, "bank_code": "0001", "branch_code": "001",
             "account_type": "普通", "account_number": f"{1000000 + n}",
             "holder_kana": "ロード　テスト", "phone": "090-0000-0000",
             "email": "payee@example.jp"} for n, person in enumerate(persons)]
    seeded = http.post(f"{url}/_meshcert/accounts/seed", json={"rows": rows}, headers=admin)
    if seeded.status_code != 200:
        raise HarnessError(f"seeding the account registry failed: {seeded.status_code} "
                           f"{seeded.text[:300]}")


def run_name(prefix: str) -> str:
    return f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
