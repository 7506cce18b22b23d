"""The system's configuration from its settings: the retry policy's times and its client at
the topology's mesh."""

from __future__ import annotations

import os
from pathlib import Path

from meshcert_simulators.authz.tokens import load_signing_key
from meshcert_simulators.childallowance.mesh_client import MeshClient
from meshcert_simulators.childallowance.retry import RetryPolicy
from meshcert_simulators.common.settings import Settings


def _seconds(settings: Settings, name: str, default: float) -> float:
    raw = settings.extra.get(name) or os.environ.get(f"MESHCERT_{name.upper()}")
    value = float(raw) if raw else default
    if not 0 < value <= 3600:
        raise ValueError(f"{name} must be between 0 and 3600 seconds, not {raw}")
    return value


def retry_policy_for(settings: Settings) -> RetryPolicy:
    """The stated time (``give_up_within_s``, default 4 s) and the attempt timeout
    (``attempt_timeout_s``, 1.5 s)."""
    return RetryPolicy(give_up_within_s=_seconds(settings, "give_up_within_s", 4.0),
                       attempt_timeout_s=_seconds(settings, "attempt_timeout_s", 1.5))


def mesh_client_for(settings: Settings, timeout_s: float) -> MeshClient:
    """Its client at the topology's mesh, as the institution the topology names for it."""
    topology, spec = settings.topology, settings.spec
    institution = topology.institution(spec.institution or "")
    if institution is None or "inquirer" not in institution.roles:
        raise ValueError(f"simulators.{settings.name}.institution must name an inquirer "
                         f"institution of the topology, not {spec.institution!r}")
    if spec.signing_key is None:
        raise ValueError(f"simulators.{settings.name}.signing_key: the private JWK of client "
                         f"{institution.client!r} is needed for private_key_jwt")
    mesh = next((n for n, s in topology.simulators.items() if s.kind == "mesh"), None)
    issuer = topology.issuer_url()
    if mesh is None or issuer is None:
        raise ValueError("the topology needs a mesh simulator and an issuer")
    return MeshClient(mesh_url=topology.url(mesh), token_endpoint=f"{issuer}/oauth/token",
                      client_id=institution.client, key=load_signing_key(Path(spec.signing_key)),
                      audience=topology.audience(mesh), timeout_s=timeout_s)
