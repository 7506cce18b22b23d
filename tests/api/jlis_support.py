"""Shared helpers of the J-LIS simulator tests: the jlis topology, its tokens, and codes."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path

from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import Topology, load_topology

TOPOLOGY_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "topologies" / "jlis.yaml"
ITEM = "TM00000000000002"
PROCEDURE = "JT01010000000214"
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def jlis_topology() -> Topology:
    return load_topology(TOPOLOGY_PATH)


def jlis_settings(data_dir: Path, name: str = "jlis", **extra: str) -> Settings:
    return Settings(name=name, topology=jlis_topology(), data_dir=data_dir, access_log=False,
                    extra=dict(extra))


def auth(client_id: str) -> dict[str, str]:
    topology = jlis_topology()
    if client_id == "admin":
        return {"Authorization": f"Bearer {topology.admin_token}"}
    client = topology.client(client_id)
    assert client is not None and client.token
    return {"Authorization": f"Bearer {client.token}"}


def code_for(person: str) -> str:
    """A 符号 in the mesh's shape (32 base32 characters)."""
    return base64.b32encode(hashlib.sha256(person.encode()).digest()[:20]).decode()
