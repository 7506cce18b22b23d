"""An information provider certified the way a vendor does it: the provider runs as a process
of its own, the target file has no ``launch``, and the harness side is the published topology
fixtures/topologies/information-provider.yaml — copied onto free ports under a name of its own
(so such tests run side by side), nothing else changed. Everything the harness writes goes
under the test's own folder (the certification runs there)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import yaml

from meshcert_simulators.common.tls import ensure_local_tls
from tests.integration.topologies import copy_on_free_ports

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "fixtures" / "topologies" / "information-provider.yaml"


class Harness:
    """The harness side of one vendor-style certification, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = f"prv-vendor-{uuid.uuid4().hex[:8]}"
        self.topology_path = folder / "topology.yaml"
        self.topology: dict[str, Any] = copy_on_free_ports(
            PUBLISHED, self.topology_path, change=lambda data: data.update(name=self.name))
        # The run folder `meshcert certify` uses for this topology (relative to its cwd); its
        # CA made now, so a provider can trust the harness before the harness is up.
        self.run_dir = folder / ".meshcert" / "run" / self.name
        self.ca_file = ensure_local_tls(self.run_dir / "tls").ca_cert

    def url(self, simulator: str) -> str:
        spec = self.topology["simulators"][simulator]
        scheme = "https" if spec.get("tls") else "http"
        return f"{scheme}://{spec.get('host', '127.0.0.1')}:{spec['port']}"

    def client(self, client_id: str) -> dict[str, Any]:
        return next(c for c in self.topology["clients"] if c["id"] == client_id)

    def write_target(self, path: Path, base_url: str, *, name: str) -> Path:
        """The vendor's target file: the reference provider's, with its own base_url and no
        ``launch``."""
        raw = yaml.safe_load((ROOT / "fixtures" / "vendors" / "reference-provider.yaml")
                             .read_text(encoding="utf-8"))
        raw.pop("launch")
        raw.update(name=name, vendor="tests", base_url=base_url)
        raw["tls"] = {"ca_file": "run"} if base_url.startswith("https://") else {}
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        return path

    def certify(self, target: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "meshcert.cli", "certify", "--target", str(target),
             "--topology", str(self.topology_path), "--out", str(out), *extra],
            cwd=self.folder, capture_output=True, text=True, timeout=600,
            env={**os.environ, "COLUMNS": "200",
                 "MESHCERT_SIGNING_KEY": str(self.folder / "signing-key.pem")})
