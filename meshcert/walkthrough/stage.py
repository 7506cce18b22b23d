"""The stage of a walk-through: a profile's bundled reference with its harness side, started as a
certification starts it (the reference target's launch topology, the catalog's simulators of
the profile, every port free, a run folder of its own, everything stopped at the end — also
on error — and the logs kept in .meshcert/walkthroughs/); who tells what happens
(:class:`Narrator`); and how a walk fails."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from meshcert.backends.ports import on_free_ports
from meshcert.catalog.requirements import load_catalog
from meshcert.catalog.targets import load_target
from meshcert.certify.harness import Harness, harness_for
from meshcert.certify.launch import derived_target
from meshcert.certify.plan import new_run_id
from meshcert.certify.selftest import reference_target
from meshcert.certify.verdicts import HarnessFault
from meshcert.errors import MeshcertError
from meshcert_simulators.common.topology import load_topology

# Where a walk's simulator logs are kept after it (its run folder goes).
LOGS = Path(".meshcert") / "walkthroughs"


class WalkFailed(MeshcertError):
    """A step of a walk-through did not go as it goes; the message says which and why."""


class Narrator(Protocol):
    """Who tells the walk: a numbered step title, then lines under it (plain text)."""

    def step(self, title: str) -> None: ...

    def say(self, text: str) -> None: ...


class Transcript:
    """A narrator that keeps what was told (tests read it; nothing is printed)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, title: str) -> None:
        self.lines.append(f"## {title}")

    def say(self, text: str) -> None:
        self.lines.append(text)


@contextlib.contextmanager
def reference_stage(profile: str, tell: Narrator) -> Iterator[Harness]:
    """The bundled reference of ``profile`` and its surrounding simulators on free ports, and
    the harness's view of them (as the suites get it); stopped when the block ends."""
    target_path = reference_target(profile)
    target, base = load_target(target_path)
    assert target.launch is not None  # reference_target only finds targets that launch
    names = list(dict.fromkeys([*load_catalog(target.catalog).profiles[profile].simulators,
                                target.launch.simulator]))
    topology = (base / target.launch.topology).resolve()
    run_name = f"walk-{profile}-{new_run_id()}"
    logs = (LOGS / run_name).resolve()
    with on_free_ports(topology, names, run_name, logs_to=logs) as (topology_path, run_dir):
        started = load_topology(topology_path)
        derived = run_dir / "target.yaml"
        derived.write_text(derived_target(target_path, base, started.url(target.launch.simulator),
                                          topology_path), encoding="utf-8")
        launched, _ = load_target(derived)
        harness = harness_for(launched, run_dir, topology_path, run_dir)
        for name in names:
            role = "the reference" if name == target.launch.simulator else "harness side"
            tell.say(f"{name:<14} {started.url(name)}  ({role})")
        try:
            yield harness
        except (HarnessFault, httpx.HTTPError, pytest.fail.Exception) as exc:
            # The harness's own helpers (shared with the suites) say what went wrong.
            raise WalkFailed(f"{type(exc).__name__}: {exc} (the simulators' logs: "
                             f"{logs})") from None


def public_jwk(harness: Harness, path: str) -> dict[str, Any]:
    """A key file the (derived) target file names, as a dict."""
    return dict(json.loads((harness.base / Path(path)).read_text(encoding="utf-8")))
