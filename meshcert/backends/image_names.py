"""Names of the container image and what builds it, without importing the Docker SDK (the
command line reads them at every start)."""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

IMAGE_ENV = "MESHCERT_IMAGE"
DEFAULT_BASE_IMAGE = "python:3.11-slim"
OFFLINE_BASE_IMAGE = "meshcert-base:bookworm"  # what docker/make-base-image.sh makes here
DEFAULT_WHEELHOUSE = Path(".meshcert") / "wheelhouse"


def default_image() -> str:
    """``MESHCERT_IMAGE``, or ``meshcert:<installed version>`` (what ``image build`` tags)."""
    if os.environ.get(IMAGE_ENV):
        return os.environ[IMAGE_ENV]
    try:
        return f"meshcert:{version('meshcert')}"
    except PackageNotFoundError:
        return "meshcert:latest"
