"""Which tests verify which requirement, and which defect trips it: the traceability matrix.

Tests are found the way pytest finds them (collection only, nothing runs), so parametrized and
generated tests count exactly as they will run.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from meshcert.catalog.requirements import Catalog, Requirement
from meshcert.errors import MeshcertError
from meshcert_simulators import defects

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Coverage:
    requirement: Requirement
    tests: tuple[str, ...]
    defect_registered: bool
    defect_mismatch: str | None   # the defect exists but names another requirement

    @property
    def problems(self) -> tuple[str, ...]:
        found = []
        if not self.tests:
            found.append("no test")
        if self.requirement.defect and not self.defect_registered:
            found.append(f"defect {self.requirement.defect!r} not implemented")
        if self.defect_mismatch:
            found.append(self.defect_mismatch)
        return tuple(found)

    @property
    def complete(self) -> bool:
        return not self.problems


class _Collector:
    def __init__(self) -> None:
        self.by_requirement: dict[str, list[str]] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            for mark in item.iter_markers("requirement"):
                for rid in mark.args:
                    self.by_requirement.setdefault(rid, []).append(item.nodeid)


class CollectionError(MeshcertError, RuntimeError):
    """pytest could not collect the suites: the message carries its output; fix the import or
    syntax error it shows in meshcert_suites/. Exit status 1."""

    exit_code: ClassVar[int] = 1


def collect_tests(paths: list[Path]) -> dict[str, list[str]]:
    """Requirement id → node ids of the tests marked with it, by collecting ``paths``."""
    collector = _Collector()
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider",
                            "--rootdir", str(PROJECT_DIR), *map(str, paths)],
                           plugins=[collector])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise CollectionError(f"collecting {', '.join(map(str, paths))} failed:\n"
                              f"{output.getvalue()[-3000:]}")
    return collector.by_requirement


def coverage(catalog: Catalog, profile: str | None = None) -> list[Coverage]:
    profiles = [profile] if profile else sorted(catalog.profiles)
    paths = sorted({PROJECT_DIR / s for p in profiles for s in catalog.profiles[p].suites})
    tests = collect_tests([p for p in paths if p.exists()])
    registered = defects.all_defects()
    rows = []
    for requirement in catalog.requirements:
        if profile and profile not in requirement.profiles:
            continue
        found = registered.get(requirement.defect or "")
        mismatch = None
        if found and found.requirement != requirement.id:
            mismatch = (f"defect {found.id!r} declares {found.requirement}, "
                        f"not {requirement.id}")
        rows.append(Coverage(requirement, tuple(tests.get(requirement.id, ())),
                             found is not None, mismatch))
    return rows
