"""Building the meshcert image offline: a wheelhouse on the host, then docker/Dockerfile on it.

1. :func:`build_wheelhouse` — ``pip wheel`` of the project (from a clean copy of its sources,
   so run output such as reports/out/ never lands in the wheel) and of every pinned dependency,
   into ``.meshcert/wheelhouse/``. With ``offline`` it only reads wheels already there: carry
   the folder into an air-gapped network and build there.
2. :func:`build_image` — the Docker build with the wheelhouse as its whole context: the image
   installs with ``pip --no-index``, so the build itself needs no network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from meshcert.backends.containers import ContainerError, ImageMissing, engine
from meshcert.backends.image_names import (
    DEFAULT_BASE_IMAGE,
    DEFAULT_WHEELHOUSE,
    OFFLINE_BASE_IMAGE,
    default_image,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = PROJECT_ROOT / "docker" / "Dockerfile"


def _not_sources(folder: str, names: list[str]) -> set[str]:
    """Byte code, caches, and the reports runs wrote (reports/out/)."""
    skipped = {n for n in names if n in ("__pycache__", ".pytest_cache") or n.endswith(".pyc")}
    if Path(folder).name == "reports" and "out" in names:
        skipped.add("out")
    return skipped


class BuildError(ContainerError):
    """The wheelhouse or the image could not be built; the message says why."""


@dataclass(frozen=True)
class Built:
    tag: str
    image_id: str
    size_bytes: int
    seconds: float


def build_wheelhouse(wheelhouse: Path = DEFAULT_WHEELHOUSE, *, offline: bool = False,
                     on_line: Callable[[str], None] | None = None) -> list[Path]:
    """The project's wheel and its dependencies' in ``wheelhouse``; returns the wheels."""
    wheelhouse = Path(wheelhouse).resolve()
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for old in wheelhouse.glob("meshcert-*.whl"):  # the image must get today's project
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="meshcert-src-") as tmp:
        source = Path(tmp) / "meshcert"
        source.mkdir()
        for name in _sources():
            path = PROJECT_ROOT / name
            if path.is_dir():
                shutil.copytree(path, source / name, ignore=_not_sources)
            else:
                shutil.copy2(path, source / name)
        # The build requirements (setuptools) too: an offline rebuild of the project's wheel
        # from this wheelhouse needs them; the image does not install them.
        command = [sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check",
                   "--wheel-dir", str(wheelhouse), str(source), *_build_requirements()]
        if offline:
            command += ["--no-index", "--find-links", str(wheelhouse)]
        _run(command, on_line)
    wheels = sorted(wheelhouse.glob("*.whl"))
    if not any(w.name.startswith("meshcert-") for w in wheels):
        raise BuildError(f"pip wheel made no meshcert wheel in {wheelhouse}")
    return wheels


def _pyproject() -> dict[str, Any]:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def _sources() -> list[str]:
    """What the project's wheel is built from: pyproject.toml and setup.py, the readme, the
    package folders (meshcert, meshcert_*) and the data folder setup.py installs (fixtures/)."""
    readme = str(_pyproject()["project"].get("readme", "README.md"))
    packages = sorted(p.name for p in PROJECT_ROOT.glob("meshcert*")
                      if p.is_dir() and (p / "__init__.py").is_file())
    return ["pyproject.toml", "setup.py", readme, *packages, "fixtures"]


def _build_requirements() -> list[str]:
    return list(_pyproject()["build-system"]["requires"])


def _run(command: list[str], on_line: Callable[[str], None] | None) -> None:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, cwd=PROJECT_ROOT)
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip())
        if on_line:
            on_line(line.rstrip())
    if process.wait() != 0:
        tail = "\n".join(lines[-20:])
        raise BuildError(f"pip wheel failed (status {process.returncode}):\n{tail}")


def preflight(base_image: str) -> docker.DockerClient:
    """The engine, checked to answer and to hold the base image (before any slow step)."""
    client = engine()
    try:
        client.images.get(base_image)
    except docker.errors.ImageNotFound:
        raise ImageMissing(
            f"the base image {base_image} is not in the Docker engine: pull it (docker pull "
            f"{base_image}) where a registry is reachable, or make an offline one with "
            f"docker/make-base-image.sh and build with --base-image {OFFLINE_BASE_IMAGE}"
        ) from None
    return client


def build_image(wheelhouse: Path = DEFAULT_WHEELHOUSE, *, tag: str | None = None,
                base_image: str = DEFAULT_BASE_IMAGE,
                on_line: Callable[[str], None] | None = None) -> Built:
    """docker/Dockerfile on the wheelhouse; raises EngineUnavailable, ImageMissing (no base
    image) or BuildError."""
    wheelhouse = Path(wheelhouse).resolve()
    if not any(wheelhouse.glob("meshcert-*.whl")):
        raise BuildError(f"{wheelhouse} holds no meshcert wheel: make the wheelhouse first "
                         "(meshcert image build does both steps)")
    tag = tag or default_image()
    client = preflight(base_image)
    started = time.monotonic()
    try:
        for chunk in client.api.build(path=str(wheelhouse), dockerfile=str(DOCKERFILE),
                                      tag=tag, buildargs={"BASE_IMAGE": base_image},
                                      rm=True, forcerm=True, decode=True, pull=False):
            if "error" in chunk:
                raise BuildError(f"the image build failed: {chunk['error'].strip()}")
            text = str(chunk.get("stream", "")).rstrip()
            if text and on_line:
                on_line(text)
    except docker.errors.APIError as exc:
        raise BuildError(f"the image build failed: {exc.explanation or exc}") from None
    image = client.images.get(tag)
    return Built(tag=tag, image_id=image.short_id, size_bytes=int(image.attrs.get("Size", 0)),
                 seconds=time.monotonic() - started)
