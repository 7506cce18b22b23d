"""Topologies for the real-process tests: a copy of a shipped one, runnable from anywhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from meshcert.backends.ports import assign_free_ports
from meshcert_simulators.common.topology import with_absolute_paths


def copy_on_free_ports(source: Path, path: Path,
                       change: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Write to ``path`` a copy of topology ``source`` with its key paths absolute and every
    simulator on a free port (``change`` may alter it first); return what was written."""
    data = with_absolute_paths(yaml.safe_load(source.read_text(encoding="utf-8")), source.parent)
    assign_free_ports(data["simulators"])
    if change is not None:
        change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return data
