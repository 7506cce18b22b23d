"""A service's OpenAPI contract, generated from its definition (the document its simulator
serves) and committed beside it as openapi.json; :func:`drift` says when the two differ."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import topology_from_raw
from meshcert_simulators.service.definition import Service
from meshcert_simulators.specs import dump


def generated(service: Service) -> str:
    """The contract text the service's simulator serves (ports and tokens do not enter it)."""
    from meshcert_simulators.service.app import create_app  # the app imports this package

    raw: dict[str, Any] = {
        "name": "service-contract", "admin_token": "meshcert-contract-local-only",
        "simulators": {service.name: {"kind": "service", "port": 1,
                                      "service": str(service.folder)},
                       "jlis": {"kind": "jlis", "port": 2}}}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(name=service.name, topology=topology_from_raw(raw, Path(tmp)),
                            data_dir=Path(tmp), access_log=False)
        return dump(create_app(settings).openapi())


def drift(service: Service) -> str | None:
    """Why the committed contract is not the generated one (None: in step)."""
    path = service.contract_path
    if not path.is_file():
        return f"{path}: missing; write it with `meshcert service contract {service.folder}`"
    try:
        committed = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        return f"{path}: not readable JSON ({exc})"
    if dump(committed) != generated(service):
        return (f"{path}: differs from what the definition generates; review and rewrite it "
                f"with `meshcert service contract {service.folder}`")
    return None


def write(service: Service) -> Path:
    service.contract_path.write_text(generated(service), encoding="utf-8")
    return service.contract_path
