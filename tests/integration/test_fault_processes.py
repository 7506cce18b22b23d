"""Fault injection over a real `meshcert sim up`: a dropped connection reaches an httpx client
as a transport error, and a run-scoped 503 leaves another run's requests alone."""

from __future__ import annotations

import httpx
import pytest
import yaml

from tests.integration.test_sim_processes import Mesh, mesh  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


def test_drop_and_scoped_503_over_real_processes(mesh: Mesh) -> None:  # noqa: F811
    started = mesh.cli("sim", "up")
    assert started.returncode == 0, started.stderr
    admin_token = yaml.safe_load(mesh.topology.read_text(encoding="utf-8"))["admin_token"]
    admin = {"Authorization": f"Bearer {admin_token}"}
    clerk = {"Authorization": f"Bearer {mesh.clerk_token}"}
    changes = f"{mesh.url}/municipalities/131016/changes"
    with httpx.Client(timeout=10) as client:
        put = client.put(f"{mesh.url}/admin/faults/run-drop", headers=admin,
                         json={"drop": {"rate": 1.0}})
        assert put.status_code == 200, put.text
        put = client.put(f"{mesh.url}/admin/faults/run-busy", headers=admin,
                         json={"error": {"rate": 1.0, "status": 503, "retry_after": 3}})
        assert put.status_code == 200, put.text

    with httpx.Client(timeout=10) as client, pytest.raises(httpx.TransportError):
        client.get(changes, headers={**clerk, "X-Meshcert-Run": "run-drop"})

    with httpx.Client(timeout=10) as client:
        busy = client.get(changes, headers={**clerk, "X-Meshcert-Run": "run-busy"})
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "3"
        assert busy.headers["content-type"] == "application/problem+json"
        calm = client.get(changes, headers={**clerk, "X-Meshcert-Run": "run-calm"})
        assert calm.status_code == 200, calm.text
        assert client.get(changes, headers=clerk).status_code == 200
        assert client.delete(f"{mesh.url}/admin/faults/run-busy",
                             headers=admin).status_code == 204
        again = client.get(changes, headers={**clerk, "X-Meshcert-Run": "run-busy"})
        assert again.status_code == 200
    # The server lives on, and did not answer the dropped request after all.
    assert httpx.get(f"{mesh.url}/health", timeout=5).status_code == 200
    assert "without starting response" not in (mesh.run_dir / "municipal.log").read_text()
