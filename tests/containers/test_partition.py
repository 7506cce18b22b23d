"""A network partition: one simulator cut off from the mesh's network. Callers get the mesh's
documented errors (502 provider-unreachable) in bounded time — no hang — and the link heals
when the simulator is connected again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest

from meshcert.backends import containers
from tests.containers.mesh_support import (
    INQUIRER,
    ContainerMesh,
    inquiry,
    seed_taxpayer,
    start_mesh,
)

pytestmark = [pytest.mark.containers, pytest.mark.slow]
# The mesh gives a provider 5 s (meshcert_simulators/mesh/app.py); a hang would take the client's
# 30 s.
BOUND_S = 8.0
DOCUMENTED = {(502, "urn:meshcert:problem:provider-unreachable"),
              (504, "urn:meshcert:problem:provider-timeout")}


@pytest.fixture
def mesh(engine: docker.DockerClient, tmp_path: Path) -> Iterator[ContainerMesh]:
    started = start_mesh(tmp_path, "ct-partition", 19321)
    try:
        yield started
    finally:
        containers.down(started.run_dir, topology=started.name, volumes=True)


def ask(mesh: ContainerMesh, code: str, record_id: str) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    answer = httpx.post(f"{mesh.urls['mesh']}/v1/inquiries", json=inquiry(code, record_id),
                        headers=mesh.auth(INQUIRER), timeout=30)
    return answer, time.monotonic() - began


def test_a_provider_cut_off_from_the_mesh_is_reported_unreachable_not_waited_for(
        engine: docker.DockerClient, mesh: ContainerMesh) -> None:
    code = seed_taxpayer(mesh, seed=29)
    answer, _ = ask(mesh, code, "ct-part-before")
    assert answer.status_code == 200, answer.text

    network = engine.networks.get(containers.make_plan(mesh.topology).network)
    tax = mesh.container("tax")
    network.disconnect(tax)
    try:
        # The mesh's pooled connection to the provider now leads nowhere: the first call
        # runs into the provider timeout; after it, a new connection finds no route at once.
        seen = []
        for attempt in range(2):
            answer, took = ask(mesh, code, f"ct-part-during-{attempt}")
            assert answer.headers["content-type"].startswith("application/problem+json")
            problem = answer.json()
            assert (answer.status_code, problem["type"]) in DOCUMENTED, answer.text
            assert problem["provider"] == "chiyoda-resident-tax"
            assert took < BOUND_S, f"the mesh took {took:.1f} s to report the partition"
            seen.append((problem["type"].rsplit(":", 1)[1], round(took, 1)))
        assert seen[-1][0] == "provider-unreachable", seen
        assert seen[-1][1] < 2, seen
        # The cut-off simulator itself: its published port answers nothing, promptly.
        began = time.monotonic()
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{mesh.urls['tax']}/health", timeout=30)
        assert time.monotonic() - began < BOUND_S
    finally:
        network.connect(tax, aliases=["tax"])

    deadline = time.monotonic() + 30
    while (answer := ask(mesh, code, f"ct-part-after-{time.monotonic()}")[0]).status_code != 200:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.5)
    assert answer.json()["route"] == "realtime"
