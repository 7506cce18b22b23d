"""Container tests: simulators as containers of the meshcert image on a real Docker engine.

They need an engine and the image (`meshcert image build`). Without them they skip — unless
``MESHCERT_REQUIRE_DOCKER=1`` (CI), where a missing engine or image fails instead.
Ports: 19000-19999 (each test module its own range).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
import yaml

from meshcert.backends import containers
from meshcert_simulators.common.topology import DEFAULT_TOPOLOGY, with_absolute_paths

REQUIRE_ENV = "MESHCERT_REQUIRE_DOCKER"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "containers: needs a Docker engine and the meshcert image (skips without "
                   f"them unless {REQUIRE_ENV}=1)")


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def engine() -> docker.DockerClient:
    """The Docker client, with the meshcert image present."""
    try:
        client = containers.engine()
    except containers.EngineUnavailable as exc:
        _unavailable(str(exc))
    try:
        client.images.get(containers.default_image())
    except docker.errors.ImageNotFound:
        _unavailable(f"the image {containers.default_image()} is missing "
                     "(build it: meshcert image build)")
    return client


def write_topology(folder: Path, name: str, ports: dict[str, int],
                   source: Path = DEFAULT_TOPOLOGY, **changes: dict) -> Path:
    """A copy of ``source`` named ``name`` with the given simulators on the given ports (the
    others dropped) and its key paths absolute."""
    raw = with_absolute_paths(yaml.safe_load(source.read_text(encoding="utf-8")), source.parent)
    raw["name"] = name
    raw["simulators"] = {sim: {**raw["simulators"][sim], "port": port}
                         for sim, port in ports.items()}
    for sim, change in changes.items():
        raw["simulators"][sim].update(change)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


@pytest.fixture
def cleanup() -> Iterator[list[tuple[Path, str]]]:
    """(run folder, topology name) pairs whose containers, network and volumes go at the end,
    whatever the test did."""
    made: list[tuple[Path, str]] = []
    yield made
    for run_dir, name in made:
        with contextlib.suppress(containers.ContainerError):
            containers.down(run_dir, topology=name, volumes=True)
