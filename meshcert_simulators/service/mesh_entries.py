"""What a service definition adds to the mesh, at load time: a topology simulator of kind
``service`` brings its institution (a provider on the definition's route), that institution's
client, and the provide role for the mesh's own client; the mesh adds the definition's
legal-basis rules to its table. So a new service is its folder and one simulator entry — no
institution, client or legal-basis row to keep in step by hand. An entry the topology file
states itself (same institution code or client id) wins over the derived one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meshcert_simulators.service.definition import (
    DefinitionError,
    Service,
    folder_of,
    load_cached,
)


def _service_ref(ref: str, base: Path) -> str:
    """A definition name stays a name; a relative folder is relative to the topology file."""
    folder = folder_of(ref)
    if folder.is_absolute() or "/" not in ref:
        return str(folder) if folder.is_absolute() else ref
    return str((base / ref).resolve())


def with_services(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """``raw`` (a topology as parsed, already a copy) with the entries its service simulators'
    definitions bring; raises ValueError naming the simulator of a definition that fails."""
    simulators = raw.get("simulators")
    if not isinstance(simulators, dict):
        return raw
    institutions = raw.setdefault("institutions", [])
    clients = raw.setdefault("clients", [])
    if not isinstance(institutions, list) or not isinstance(clients, list):
        return raw
    jlis = next((n for n, s in simulators.items() if isinstance(s, dict)
                 and s.get("kind") == "jlis"), None)
    meshes = {n for n, s in simulators.items() if isinstance(s, dict) and s.get("kind") == "mesh"}
    codes = {i.get("code") for i in institutions if isinstance(i, dict)}
    client_ids = {c.get("id") for c in clients if isinstance(c, dict)}
    for name, spec in simulators.items():
        if not isinstance(spec, dict) or spec.get("kind") != "service":
            continue
        if not isinstance(spec.get("service"), str):
            continue  # the model reports the missing definition
        spec["service"] = _service_ref(spec["service"], base)
        try:
            service = load_cached(spec["service"])
        except DefinitionError as exc:
            raise ValueError(f"simulators.{name}.service: {exc}") from None
        d = service.definition
        if d.institution.code not in codes:
            if d.route == "copy" and jlis is None:
                raise ValueError(f"simulators.{name}: service {d.name} answers on the copy "
                                 "route; the topology needs a jlis simulator")
            institutions.append({"code": d.institution.code, "name": d.institution.name,
                                 "roles": ["provider"], "client": d.client_id,
                                 "route": d.route,
                                 "simulator": name if d.route == "realtime" else jlis})
            codes.add(d.institution.code)
        if d.client_id not in client_ids:
            clients.append({"id": d.client_id, "token": d.client_token,
                            "roles": ["jlis:register"]})
            client_ids.add(d.client_id)
        for client in clients:
            if isinstance(client, dict) and client.get("id") in meshes:
                roles = client.setdefault("roles", [])
                if isinstance(roles, list) and d.provide_role not in roles:
                    roles.append(d.provide_role)
    return raw


def services_of(topology: Any) -> list[Service]:
    """The definitions of a (loaded) topology's service simulators."""
    return [load_cached(str(spec.service)) for spec in topology.simulators.values()
            if spec.kind == "service" and spec.service]


def legal_rules(services: list[Service]) -> list[dict[str, Any]]:
    """The legal-basis rows the definitions bring (the mesh's table format)."""
    return [{"procedure_code": rule.procedure_code, "inquirer": rule.inquirer,
             "provider": s.definition.institution.code, "item_code": item,
             "valid_from": rule.valid_from, "valid_to": rule.valid_to}
            for s in services for rule in s.definition.legal_basis for item in rule.items]
