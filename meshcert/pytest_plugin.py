"""The pytest plugin behind every certification run (loaded by the root conftest.py).

It adds the ``requirement`` marker, the options that name the system under test (``--target``,
``--profile``, ``--requirement``), selects the tests of the profile's requirements, and gives the
suites their fixtures: the target, the catalog, a token factory, an HTTP client for the target
that records every exchange as evidence, and the seeded population.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshcert.catalog import Catalog, load_catalog
from meshcert.harness import Harness, harness_for
from meshcert.targets import Target, TargetError, load_target

SUITES_DIR = Path(__file__).resolve().parents[1] / "suites"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("meshcert", "meshcert certification")
    group.addoption("--target", metavar="FILE", help="target file of the system under test")
    group.addoption("--profile", metavar="NAME", help="profile (default: the target's)")
    group.addoption("--requirement", metavar="ID", action="append", default=[],
                    help="run only the tests of this requirement (repeatable)")
    group.addoption("--meshcert-topology", metavar="FILE",
                    help="topology of the harness side (issuer, simulators); default: "
                         "fixtures/topologies/certify.yaml")
    group.addoption("--meshcert-run-dir", metavar="DIR",
                    help="run folder of the harness's simulators (local CA, keys)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requirement(*ids): the catalog requirements this test verifies")


def requirement_ids(item: pytest.Item) -> tuple[str, ...]:
    """Every requirement id named by ``@pytest.mark.requirement`` on a test."""
    return tuple(i for mark in item.iter_markers("requirement") for i in mark.args)


def _in_suites(item: pytest.Item) -> bool:
    return SUITES_DIR in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    suite_items = [i for i in items if _in_suites(i)]
    if not suite_items:
        return
    unmarked = [i.nodeid for i in suite_items if not requirement_ids(i)]
    if unmarked:
        raise pytest.UsageError(
            "every test in suites/ names the requirement it verifies with "
            "@pytest.mark.requirement(\"ID\"); these do not:\n  " + "\n  ".join(unmarked))
    catalog = _catalog(config)
    known = {r.id for r in catalog.requirements}
    unknown = sorted({i for item in suite_items for i in requirement_ids(item)} - known)
    if unknown:
        raise pytest.UsageError(f"suites name requirements not in catalog {catalog.version}: "
                                f"{', '.join(unknown)}")
    profile = _profile(config)
    if profile is None:
        return
    wanted = {r.id for r in catalog.for_profile(profile)}
    chosen = set(config.getoption("requirement"))
    if chosen - known:
        raise pytest.UsageError(f"--requirement names unknown ids: {sorted(chosen - known)}")
    if chosen:
        wanted &= chosen
    keep, drop = [], []
    for item in items:
        if not _in_suites(item) or set(requirement_ids(item)) & wanted:
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _catalog(config: pytest.Config) -> Catalog:
    target = _target_or_none(config)
    return load_catalog(target.catalog if target else "2026.1")


def _profile(config: pytest.Config) -> str | None:
    explicit = config.getoption("profile")
    if explicit:
        return str(explicit)
    target = _target_or_none(config)
    return target.profile if target else None


def _target_or_none(config: pytest.Config) -> Target | None:
    path = config.getoption("target")
    if not path:
        return None
    cached = getattr(config, "_meshcert_target", None)
    if cached is None:
        try:
            cached = load_target(Path(path))
        except TargetError as exc:
            raise pytest.UsageError(str(exc)) from None
        config._meshcert_target = cached  # type: ignore[attr-defined]
    return cached[0]


# -- fixtures for the suites ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    """The system under test, as its target file describes it."""
    found = _target_or_none(pytestconfig)
    if found is None:
        pytest.skip("no --target given: the suites certify a system named by a target file")
    return found


@pytest.fixture(scope="session")
def catalog(pytestconfig: pytest.Config) -> Catalog:
    return _catalog(pytestconfig)


@pytest.fixture(scope="session")
def harness(pytestconfig: pytest.Config, target: Target) -> Harness:
    """The harness side: token issuer, TLS trust, and the target's HTTP access."""
    _, base = pytestconfig._meshcert_target  # type: ignore[attr-defined]
    return harness_for(target, base, pytestconfig.getoption("meshcert_topology"),
                       pytestconfig.getoption("meshcert_run_dir"))


@pytest.fixture
def api(harness: Harness, request: pytest.FixtureRequest) -> Any:
    """An HTTP client for the target, authenticated with every scope of the profile, whose
    exchanges are recorded as this test's evidence."""
    client = harness.client(recorder=harness.recorder_for(request.node))
    yield client
    client.close()
