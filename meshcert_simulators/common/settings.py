"""Settings of one simulator process: its entry in a topology, plus environment overrides."""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from meshcert_simulators.common.storage import DEFAULT_SYNCHRONOUS, SYNCHRONOUS_MODES
from meshcert_simulators.common.tls import LocalTls, server_context
from meshcert_simulators.common.topology import SimulatorSpec, Topology, load_topology

MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything an app factory needs; build it with :meth:`from_env` or directly in tests."""

    name: str
    topology: Topology
    data_dir: Path
    max_body_bytes: int = MIB
    # NORMAL survives a killed or restarted simulator; FULL also a power loss (storage.py).
    sqlite_synchronous: str = DEFAULT_SYNCHRONOUS
    access_log: bool = True
    extra: dict[str, str] = field(default_factory=dict)
    # The local CA and server certificate (meshcert_simulators.common.tls); None: no TLS files.
    tls_dir: Path | None = None
    # What a ``tls: true`` simulator serves with; a negative control (meshcert_simulators/defects/)
    # may
    # put a weaker one here instead of the server code growing a branch for it.
    tls_server_context: Callable[[LocalTls], ssl.SSLContext] = server_context

    @property
    def spec(self) -> SimulatorSpec:
        return self.topology.simulator(self.name)

    @classmethod
    def from_env(cls, name: str | None = None, topology_path: Path | None = None,
                 data_dir: Path | None = None, tls_dir: Path | None = None) -> Settings:
        """Read ``MESHCERT_TOPOLOGY``, ``MESHCERT_SIMULATOR``, ``MESHCERT_DATA_DIR``,
        ``MESHCERT_MAX_BODY_BYTES``, ``MESHCERT_SQLITE_SYNCHRONOUS``, ``MESHCERT_TLS_DIR``;
        arguments win."""
        env = os.environ
        topo_path = topology_path or (Path(env["MESHCERT_TOPOLOGY"])
                                      if env.get("MESHCERT_TOPOLOGY") else None)
        topology = load_topology(topo_path)
        name = name or env.get("MESHCERT_SIMULATOR") or next(iter(topology.simulators))
        topology.simulator(name)  # fail early with the list of known names
        limit = env.get("MESHCERT_MAX_BODY_BYTES", str(MIB))
        if not limit.isdigit() or int(limit) < 1024:
            raise SettingsError(f"MESHCERT_MAX_BODY_BYTES must be a whole number of bytes "
                                f">= 1024, not {limit!r}")
        synchronous = env.get("MESHCERT_SQLITE_SYNCHRONOUS", DEFAULT_SYNCHRONOUS).upper()
        if synchronous not in SYNCHRONOUS_MODES:
            raise SettingsError(f"MESHCERT_SQLITE_SYNCHRONOUS must be one of "
                                f"{', '.join(SYNCHRONOUS_MODES)}, not {synchronous!r}")
        return cls(
            name=name,
            topology=topology,
            data_dir=Path(data_dir or env.get("MESHCERT_DATA_DIR") or ".meshcert/data"),
            max_body_bytes=int(limit),
            sqlite_synchronous=synchronous,
            tls_dir=tls_dir or (Path(env["MESHCERT_TLS_DIR"]) if env.get("MESHCERT_TLS_DIR")
                                else None),
        )


class SettingsError(ValueError):
    """An environment setting is invalid; the message names it and the accepted values."""
