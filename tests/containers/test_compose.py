"""docker/compose.yaml and docker/Dockerfile: what users run without the SDK stays what
`meshcert sim up --backend docker` makes. No engine needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from meshcert.backends.containers import compose_document, make_plan
from meshcert_simulators.common.topology import DEFAULT_TOPOLOGY

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def test_the_compose_file_is_the_sdk_backends_plan_for_the_embedded_topology():
    committed = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    expected = compose_document(make_plan(DEFAULT_TOPOLOGY))
    assert committed == expected, (
        "docker/compose.yaml drifted from the SDK backend; remake it: "
        "python -m meshcert.backends.containers > docker/compose.yaml")


def test_compose_and_sdk_differ_only_in_where_the_topology_file_comes_from():
    plan = make_plan(DEFAULT_TOPOLOGY)
    compose = compose_document(plan)["services"]
    for item in plan.containers:
        environment = compose[item.simulator]["environment"]
        assert environment.pop("MESHCERT_TOPOLOGY") == (
            "/opt/meshcert/fixtures/topologies/embedded.yaml")  # the image's copy
        sdk = dict(item.environment)
        assert sdk.pop("MESHCERT_TOPOLOGY") == "/etc/meshcert/topology/topology.yaml"  # copied
        assert environment == sdk


def test_only_a_bundled_topology_can_have_a_compose_file(tmp_path: Path):
    from tests.containers.conftest import write_topology

    topology = write_topology(tmp_path, "ct-own", {"municipal": 19141, "authz": 19140})
    with pytest.raises(ValueError, match="does not ship in the image"):
        compose_document(make_plan(topology))


def test_the_compose_file_publishes_every_port_on_loopback_only():
    committed = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    ports = [p for service in committed["services"].values() for p in service["ports"]]
    assert ports and all(p.startswith("127.0.0.1:") for p in ports)


def test_every_simulator_reaches_each_peer_at_the_topologys_own_port():
    plan = make_plan(DEFAULT_TOPOLOGY)
    by_name = {c.simulator: c for c in plan.containers}
    for item in plan.containers:
        relays = dict(p.split("=") for p in item.environment["MESHCERT_PEERS"].split(","))
        assert relays == {str(o.port): f"{o.alias}:{o.port}"
                          for o in plan.containers if o is not item}
        assert item.url == f"http://127.0.0.1:{by_name[item.simulator].port}"


def test_a_defect_goes_to_its_simulators_command_only():
    plan = make_plan(DEFAULT_TOPOLOGY, defects={"municipal": "html-errors"})
    commands = {c.simulator: c.command for c in plan.containers}
    assert commands == {"municipal": ("serve", "--defect", "html-errors"), "authz": ("serve",)}


def test_the_dockerfile_takes_its_base_as_an_argument_and_runs_as_a_user_with_a_healthcheck():
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", text, re.M)
    assert re.search(r"^FROM \$\{BASE_IMAGE\}", text, re.M)
    assert "--no-index --find-links /wheels" in text  # offline install from the wheelhouse
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("0", "root"))
    assert re.search(r"^HEALTHCHECK .*simulators\.container.*health", text, re.M | re.S)
    # The runtime stage copies the environment, not the wheels (they stay in the build stage).
    runtime = text.split("\nFROM ${BASE_IMAGE}\n", 1)[1]
    assert "/wheels" not in runtime


def test_the_projects_wheel_is_built_without_the_reports_runs_wrote(tmp_path: Path):
    from meshcert.backends.image import _not_sources

    reports = tmp_path / "reports"
    assert _not_sources(str(reports), ["out", "templates", "__init__.py"]) == {"out"}
    assert _not_sources(str(tmp_path / "meshcert"), ["out.py", "__pycache__"]) == {"__pycache__"}


def test_a_simulator_on_another_host_is_refused_before_anything_starts(tmp_path: Path):
    from meshcert_simulators.common.topology import TopologyError
    from tests.containers.conftest import write_topology

    topology = write_topology(tmp_path, "ct-host", {"municipal": 19131, "authz": 19130},
                              authz={"host": "0.0.0.0"})
    with pytest.raises(TopologyError, match=r"set host: 127\.0\.0\.1 for authz \(0\.0\.0\.0\)"):
        make_plan(topology)


def test_the_projects_wheel_is_built_from_every_package_setup_py_includes():
    from setuptools import find_namespace_packages

    from meshcert.backends.image import PROJECT_ROOT, _sources

    sources = _sources()
    assert sources[:3] == ["pyproject.toml", "setup.py", "README.md"]
    packages = find_namespace_packages(str(PROJECT_ROOT), include=["meshcert*"])
    assert {name.split(".")[0] for name in packages} <= set(sources)
    assert "fixtures" in sources  # installed as meshcert_fixtures (setup.py)
