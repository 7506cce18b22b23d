"""An independent front service (tests/independent/front_service/, written from OpenID Connect,
the portal's contract and the catalog's FRONT-* text, importing nothing of
meshcert_simulators/) is certified the way a vendor certifies an app: its own process, its
target file without ``launch`` (tests/independent/front_service/target.yaml, here with the port
it got) and the published harness topology fixtures/topologies/front-service.yaml (a copy on
free ports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from meshcert.backends.ports import free_port
from meshcert.catalog.requirements import load_catalog
from tests.integration.served import serving
from tests.integration.topologies import copy_on_free_ports

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "independent" / "front_service"
PUBLISHED = ROOT / "fixtures" / "topologies" / "front-service.yaml"


def test_the_independent_front_service_is_certified(tmp_path: Path):
    name = f"front-vendor-{uuid.uuid4().hex[:8]}"
    topology_path = tmp_path / "topology.yaml"
    topology = copy_on_free_ports(PUBLISHED, topology_path,
                                  change=lambda data: data.update(name=name))

    def url(simulator: str) -> str:
        spec = topology["simulators"][simulator]
        return f"http://{spec.get('host', '127.0.0.1')}:{spec['port']}"

    port = free_port()
    target = yaml.safe_load((HERE / "target.yaml").read_text(encoding="utf-8"))
    target["base_url"] = f"http://127.0.0.1:{port}"
    target["relying_party"]["public_jwk"] = str(HERE / "movers.public.jwk.json")
    target_path = tmp_path / "target.yaml"
    target_path.write_text(yaml.safe_dump(target, allow_unicode=True), encoding="utf-8")
    command = [sys.executable, "-m", "tests.independent.front_service", "--port", str(port),
               "--issuer", url("idp"), "--portal", url("portal"),
               "--client-id", target["relying_party"]["client_id"],
               "--key", str(HERE / "movers.private.jwk.json"),
               "--redirect-uri", f"{target['base_url']}{target['relying_party']['redirect_uri']}"]
    with serving(command, f"{target['base_url']}/health", tmp_path / "app.log"):
        run = subprocess.run(
            [sys.executable, "-m", "meshcert.cli", "certify", "--target", str(target_path),
             "--topology", str(topology_path), "--out", str(tmp_path / "report"),
             "--seed", "17"],
            cwd=tmp_path, capture_output=True, text=True, timeout=900,
            env={**os.environ, "COLUMNS": "200",
                 "MESHCERT_SIGNING_KEY": str(tmp_path / "signing-key.pem")})
    output = run.stdout[-4000:] + run.stderr[-2000:]
    certificate = tmp_path / "report" / "certificate.json"
    assert certificate.is_file(), output
    requirements = json.loads(certificate.read_text(encoding="utf-8"))["requirements"]
    verdicts = {r["id"]: r["verdict"] for r in requirements}
    assert set(verdicts) == {r.id for r in load_catalog().for_profile("front-service")}, verdicts
    assert run.returncode == 0 and set(verdicts.values()) == {"pass"}, (verdicts, output)
