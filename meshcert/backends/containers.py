"""The container backend: each simulator of a topology as a container of the meshcert image.

Through the Docker SDK, ``up`` makes for a topology named N:

- a private bridge network ``meshcert-N`` on which each simulator answers to its own name;
- one container ``meshcert-N-<simulator>`` per simulator, its port published on 127.0.0.1
  only (the same port inside and out, so the topology's URLs hold on both sides: see
  meshcert_simulators/container.py for how a container reaches its peers at ``127.0.0.1:<port>``);
- one named volume ``meshcert-N-<simulator>-data`` per simulator for its SQLite state.

Everything is labelled ``meshcert.topology=N``; ``down`` removes the containers and the network
carrying that label (and the volumes only when asked), nothing else. Before removing a
container, ``down`` appends its output to ``<run folder>/<simulator>.log``.

The topology is copied into each container before it starts (``/etc/meshcert/topology/``, with
the key files it names), and so is the run folder's local CA (``/etc/meshcert/tls/``) when a
simulator is served over TLS: any topology runs, and an image older than the topology file
still runs what the file says. (docker/compose.yaml, which cannot copy files in, names the
image's own copy of the embedded topology instead.)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import docker
import docker.errors
import yaml
from docker.models.containers import Container

from meshcert.backends import processes
from meshcert.backends.image_names import default_image
from meshcert.backends.processes import Launched, check_health, log_file, tls_dir
from meshcert_simulators.common.tls import ensure_local_tls, trust_for
from meshcert_simulators.common.topology import (
    Topology,
    TopologyError,
    load_topology,
    with_absolute_paths,
)
from meshcert_simulators.fixtures import fixture_path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_TOPOLOGIES = fixture_path("topologies")
# Where the image keeps things (docker/Dockerfile).
IMAGE_FIXTURES = "/opt/meshcert/fixtures"
CONFIG_DIR = "/etc/meshcert"
COPIED_TOPOLOGY = f"{CONFIG_DIR}/topology/topology.yaml"
DATA_MOUNT = "/var/lib/meshcert/data"
IMAGE_UID = 10001
LOOPBACK = "127.0.0.1"

LABEL_TOPOLOGY = "meshcert.topology"
LABEL_SIMULATOR = "meshcert.simulator"
LABEL_PORT = "meshcert.port"
# The default json-file log driver, bounded: a long soak must not fill the disk.
LOGGING = {"driver": "json-file", "options": {"max-size": "20m", "max-file": "2"}}
HEALTH_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 10
LOG_TAIL_LINES = 25
MARKER = "containers.json"  # in the run folder: which topology ``up`` started there


class ContainerError(processes.ProcessError):
    """The engine cannot do what was asked: the message says why; read the container's log
    (``meshcert sim logs --backend docker``). Exit status 1."""


class EngineUnavailable(ContainerError):
    """No Docker engine answers: start Docker (or set DOCKER_HOST), or use ``--backend
    process``. Exit status 2."""

    exit_code: ClassVar[int] = 2


class ImageMissing(ContainerError):
    """The meshcert image (or the base image to build it) is not in the engine: build it with
    ``meshcert image build`` (or pull the base image). Exit status 2."""

    exit_code: ClassVar[int] = 2


class Conflict(processes.Conflict):
    """What was asked conflicts with what runs (a busy port, containers of another setup)."""


def engine() -> docker.DockerClient:
    """A client of the engine DOCKER_HOST names (default the local socket), checked to answer."""
    where = os.environ.get("DOCKER_HOST") or "the local socket /var/run/docker.sock"
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(
            f"no Docker engine is reachable at {where} ({_reason(exc)}); start one "
            "(as root: dockerd &) or point DOCKER_HOST at it") from None
    return client


def _reason(exc: Exception) -> str:
    text = str(exc)
    for known in ("No such file or directory", "Connection refused", "Permission denied"):
        if known in text:
            return known.lower()
    return text.splitlines()[0][:160] if text else type(exc).__name__


# -- the plan: what up makes, with no engine involved ------------------------------------------


@dataclass(frozen=True)
class ContainerPlan:
    simulator: str
    name: str              # the container's name
    alias: str             # its name on the mesh network (the simulator's name)
    port: int
    url: str               # what the host (and, through the relays, every peer) uses
    command: tuple[str, ...]
    environment: dict[str, str]
    volume: str
    labels: dict[str, str]


@dataclass(frozen=True)
class Plan:
    topology: str
    image: str
    network: str
    containers: tuple[ContainerPlan, ...]
    # Where the image has this topology when it ships with meshcert (what the compose file
    # names); the SDK backend copies the topology in all the same, so an image older than the
    # topology file still runs what the file says.
    image_topology: str | None
    labels: dict[str, str] = field(default_factory=dict)


def resource_prefix(topology_name: str) -> str:
    return f"meshcert-{topology_name}"


def _bundled_path(topology_path: Path) -> str | None:
    """The topology's path inside the image when it is one that ships with meshcert."""
    path = Path(topology_path).resolve()
    if path.parent == BUNDLED_TOPOLOGIES.resolve():
        return f"{IMAGE_FIXTURES}/topologies/{path.name}"
    return None


def make_plan(topology_path: Path, names: Iterable[str] | None = None,
              image: str | None = None, defects: dict[str, str] | None = None) -> Plan:
    """The network, containers and volumes ``up`` makes for a topology (all simulators, or
    ``names``); raises TopologyError for a bad topology or an unknown name."""
    topology = load_topology(topology_path)
    wanted = list(names) if names is not None else list(topology.simulators)
    for name in wanted:
        topology.simulator(name)
    elsewhere = [f"{name} ({spec.host})" for name, spec in topology.simulators.items()
                 if spec.host != LOOPBACK]
    if elsewhere:
        raise TopologyError(f"{topology_path}: the container backend publishes every simulator "
                            f"on {LOOPBACK} and relays peers there; set host: {LOOPBACK} for "
                            f"{', '.join(elsewhere)}")
    prefix = resource_prefix(topology.name)
    in_image = _bundled_path(topology_path)
    base_labels = {LABEL_TOPOLOGY: topology.name}
    containers = []
    for name in wanted:
        spec = topology.simulators[name]
        peers = ",".join(f"{other.port}={other_name}:{other.port}"
                         for other_name, other in topology.simulators.items()
                         if other_name != name)
        environment = {
            "MESHCERT_SIMULATOR": name,
            "MESHCERT_TOPOLOGY": COPIED_TOPOLOGY,
            "MESHCERT_PEERS": peers,
        }
        defect = (defects or {}).get(name)
        containers.append(ContainerPlan(
            simulator=name, name=f"{prefix}-{name}", alias=name, port=spec.port,
            url=topology.url(name),
            command=("serve", *(("--defect", defect) if defect else ())),
            environment=environment, volume=f"{prefix}-{name}-data",
            labels={**base_labels, LABEL_SIMULATOR: name, LABEL_PORT: str(spec.port)}))
    return Plan(topology=topology.name, image=image or default_image(), network=prefix,
                containers=tuple(containers), image_topology=in_image, labels=base_labels)


def volume_labels(plan: Plan, item: ContainerPlan) -> dict[str, str]:
    return {**plan.labels, LABEL_SIMULATOR: item.simulator}


def compose_document(plan: Plan) -> dict[str, Any]:
    """The ``docker compose`` file equivalent to ``plan`` (docker/compose.yaml is this for the
    embedded topology; tests/containers checks they stay the same)."""
    if plan.image_topology is None:
        raise ValueError(f"topology {plan.topology!r} does not ship in the image: a compose "
                         "file can only name the bundled topologies (fixtures/topologies/)")
    network = "mesh"
    services: dict[str, Any] = {}
    for item in plan.containers:
        services[item.simulator] = {
            "image": plan.image,
            "hostname": item.alias,
            "init": True,
            "command": list(item.command),
            # The one difference: compose cannot copy files in, so it names the image's copy.
            "environment": {**item.environment, "MESHCERT_TOPOLOGY": plan.image_topology},
            "ports": [f"{LOOPBACK}:{item.port}:{item.port}"],
            "volumes": [f"{item.simulator}-data:{DATA_MOUNT}"],
            "networks": {network: {"aliases": [item.alias]}},
            "labels": dict(item.labels),
            "logging": {"driver": LOGGING["driver"], "options": dict(LOGGING["options"])},
        }
    return {
        "name": resource_prefix(plan.topology),
        "services": services,
        "networks": {network: {"name": plan.network, "labels": dict(plan.labels)}},
        "volumes": {f"{item.simulator}-data": {"name": item.volume,
                                               "labels": volume_labels(plan, item)}
                    for item in plan.containers},
    }


COMPOSE_HEADER = """\
# `docker compose` for the embedded topology (fixtures/topologies/embedded.yaml), the same
# network, containers, ports, volumes and labels as `meshcert sim up --backend docker`
# (tests/containers/test_compose.py keeps them equal). Build the image first:
#   meshcert image build            (offline: see README, "Containers")
#   docker compose -f docker/compose.yaml up -d
# Made by: python -m meshcert.backends.containers > docker/compose.yaml
"""


def compose_text(plan: Plan) -> str:
    return COMPOSE_HEADER + yaml.safe_dump(compose_document(plan), allow_unicode=True,
                                           sort_keys=False)


# -- up ---------------------------------------------------------------------------------------


def _config_archive(topology_path: Path, run_dir: Path) -> bytes:
    """A tar for /etc/meshcert: the topology with every file it names, and the run folder's
    local CA and certificates (when there are any)."""
    files: dict[str, tuple[bytes, int]] = {}
    source = Path(topology_path).resolve()
    raw = with_absolute_paths(yaml.safe_load(source.read_text(encoding="utf-8")),
                              source.parent)
    copied: dict[str, str] = {}

    def relocate(value: Any) -> Any:
        # Any absolute path to a file (keys, JWKS) travels with the topology.
        if isinstance(value, dict):
            return {k: relocate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [relocate(v) for v in value]
        if isinstance(value, str) and value.startswith("/") and Path(value).is_file():
            if value not in copied:
                inner = f"files/{len(copied)}-{Path(value).name}"
                files[f"topology/{inner}"] = (Path(value).read_bytes(), 0o600)
                copied[value] = f"{CONFIG_DIR}/topology/{inner}"
            return copied[value]
        return value

    text = yaml.safe_dump(relocate(raw), allow_unicode=True, sort_keys=False)
    files["topology/topology.yaml"] = (text.encode(), 0o644)
    tls = tls_dir(run_dir)
    if tls.is_dir():
        for path in sorted(tls.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                files[f"tls/{path.name}"] = (path.read_bytes(), 0o600)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for folder in sorted({str(Path(n).parent) for n in files} | {"topology", "tls"}):
            if any(n.startswith(f"{folder}/") for n in files):
                tar.addfile(_tar_info(folder, 0o700, tarfile.DIRTYPE))
        for name, (data, mode) in files.items():
            tar.addfile(_tar_info(name, mode, tarfile.REGTYPE, len(data)), io.BytesIO(data))
    return buffer.getvalue()


def _tar_info(name: str, mode: int, kind: bytes, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size = kind, mode, size
    info.uid = info.gid = IMAGE_UID  # the image's user reads them; nobody else
    info.mtime = int(time.time())
    return info


def _find(client: docker.DockerClient, name: str, topology: str) -> Container | None:
    """The container ``name`` if it exists and is ours (labelled with this topology)."""
    try:
        container = client.containers.get(name)
    except docker.errors.NotFound:
        return None
    if container.labels.get(LABEL_TOPOLOGY) != topology:
        raise Conflict(f"a container named {name} exists and was not made by meshcert for "
                       f"topology {topology!r}; remove or rename it (docker rm -f {name})")
    return container


def _network(client: docker.DockerClient, plan: Plan) -> Any:
    found = client.networks.list(names=[plan.network])
    for network in found:
        if network.name == plan.network:
            if (network.attrs.get("Labels") or {}).get(LABEL_TOPOLOGY) != plan.topology:
                raise Conflict(f"a network named {plan.network} exists and was not made by "
                               "meshcert for this topology; remove it (docker network rm "
                               f"{plan.network})")
            return network
    return client.networks.create(plan.network, driver="bridge", labels=dict(plan.labels))


def _volume(client: docker.DockerClient, plan: Plan, item: ContainerPlan) -> None:
    try:
        volume = client.volumes.get(item.volume)
    except docker.errors.NotFound:
        client.volumes.create(item.volume, labels=volume_labels(plan, item))
        return
    if (volume.attrs.get("Labels") or {}).get(LABEL_TOPOLOGY) != plan.topology:
        raise Conflict(f"a volume named {item.volume} exists and was not made by meshcert for "
                       f"this topology; remove it (docker volume rm {item.volume})")


def _check_image(client: docker.DockerClient, image: str) -> None:
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise ImageMissing(
            f"the image {image} is not in the Docker engine; build it with `meshcert image "
            "build` (without a registry: docker/make-base-image.sh, then `meshcert image build "
            "--base-image meshcert-base:bookworm`), or name another with MESHCERT_IMAGE"
        ) from None


def up(topology_path: Path, run_dir: Path, names: Iterable[str] | None = None,
       timeout: float = HEALTH_TIMEOUT_S,
       on_event: Callable[[str, str], None] | None = None,
       defects: dict[str, str] | None = None, image: str | None = None) -> list[Launched]:
    """Start the simulators of a topology as containers and wait until each is healthy.

    The shape of :func:`meshcert.backends.processes.up`: running containers of this topology
    are left as they are (``already_running``); ``pid`` is the container's main process on the host.
    If one fails, the containers this call made are removed again. Raises TopologyError,
    EngineUnavailable, ImageMissing, Conflict or ContainerError.
    """
    topology_path = Path(topology_path).resolve()
    plan = make_plan(topology_path, names, image, defects)
    topology = load_topology(topology_path)
    notify = on_event or (lambda _name, _event: None)
    run_dir = Path(run_dir).resolve()
    client = engine()
    _check_image(client, plan.image)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / MARKER).write_text(json.dumps({"topology": plan.topology}) + "\n",
                                  encoding="utf-8")
    if any(topology.simulators[item.simulator].tls for item in plan.containers):
        ensure_local_tls(tls_dir(run_dir))
    result: list[Launched] = []
    to_start: list[ContainerPlan] = []
    for item in plan.containers:
        found = _find(client, item.name, plan.topology)
        if found is not None and found.status == "running":
            if found.labels.get(LABEL_PORT) != str(item.port):
                raise Conflict(f"{item.simulator} already runs in container {item.name} on port "
                               f"{found.labels.get(LABEL_PORT)}, but the topology says "
                               f"{item.port}; run `meshcert sim down --backend docker` first")
            result.append(Launched(item.simulator, _pid(found), item.url,
                                   log_file(run_dir, item.simulator), True))
            notify(item.simulator, "running")
            continue
        if found is not None:  # stopped: made anew from the plan; its volume keeps the data
            found.remove(force=True)
        to_start.append(item)
    problems = [f"{item.simulator}: {problem}" for item in to_start
                if (problem := processes.port_problem(LOOPBACK, item.port))]
    if problems:
        raise Conflict("; ".join(problems))
    archive = _config_archive(topology_path, run_dir)
    started: dict[str, Container] = {}
    try:
        network = _network(client, plan)
        for item in to_start:
            _volume(client, plan, item)
            container = _create(client, plan, item, network.name)
            started[item.simulator] = container
            container.put_archive(CONFIG_DIR, archive)
            try:
                container.start()
            except docker.errors.APIError as exc:
                raise _start_problem(item, exc) from None
            notify(item.simulator, "starting")
        _wait_healthy(plan, run_dir, started, timeout, notify)
    except docker.errors.APIError as exc:  # e.g. another `up` of the same topology won a race
        _remove(run_dir, list(started.values()))
        raise ContainerError(f"the Docker engine refused: {exc.explanation or exc}") from None
    except BaseException:
        _remove(run_dir, list(started.values()))
        raise
    for item in to_start:
        started[item.simulator].reload()
    return result + [Launched(item.simulator, _pid(started[item.simulator]), item.url,
                              log_file(run_dir, item.simulator)) for item in to_start]


def _create(client: docker.DockerClient, plan: Plan, item: ContainerPlan,
            network: str) -> Container:
    endpoint = client.api.create_endpoint_config(aliases=[item.alias])
    return client.containers.create(
        plan.image, list(item.command), name=item.name, hostname=item.alias,
        environment=item.environment, labels=item.labels,
        ports={f"{item.port}/tcp": (LOOPBACK, item.port)},
        volumes={item.volume: {"bind": DATA_MOUNT, "mode": "rw"}},
        network=network, networking_config={network: endpoint},
        log_config={"type": LOGGING["driver"], "config": dict(LOGGING["options"])},
        init=True)


def _start_problem(item: ContainerPlan, exc: docker.errors.APIError) -> Exception:
    text = str(exc.explanation or exc)
    if "port is already allocated" in text or "address already in use" in text:
        return Conflict(f"{item.simulator}: port {item.port} on 127.0.0.1 is already in use "
                        f"(see who: ss -ltnp 'sport = :{item.port}')")
    return ContainerError(f"{item.simulator}: the engine could not start {item.name}: {text}")


def _pid(container: Container) -> int:
    return int(container.attrs.get("State", {}).get("Pid") or 0)


def _tail(container: Container, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = container.logs(tail=lines).decode("utf-8", "replace").rstrip()
    except docker.errors.APIError:
        return "(no logs)"
    return text or "(no output)"


def _wait_healthy(plan: Plan, run_dir: Path, started: dict[str, Container], timeout: float,
                  notify: Callable[[str, str], None]) -> None:
    urls = {item.simulator: item.url for item in plan.containers}
    pending = dict(started)
    verify = trust_for(tls_dir(run_dir))
    deadline = time.monotonic() + timeout
    while pending:
        for name, container in list(pending.items()):
            container.reload()
            if container.status in ("exited", "dead"):
                code = container.attrs.get("State", {}).get("ExitCode")
                raise ContainerError(f"{name} ({container.name}) exited with status {code} "
                                     f"while starting; its output:\n{_tail(container)}")
            healthy, _ = check_health(urls[name], name, timeout=0.5, verify=verify)
            if healthy:
                notify(name, "healthy")
                del pending[name]
        if pending and time.monotonic() > deadline:
            tails = "\n".join(f"--- {c.name} ---\n{_tail(c)}" for c in pending.values())
            raise ContainerError(f"{', '.join(sorted(pending))} did not answer GET /health "
                                 f"within {timeout:.0f} s\n{tails}")
        if pending:
            time.sleep(0.2)


# -- down -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Removed:
    """What ``down`` removed: ``kind`` is "container", "network" or "volume"."""

    kind: str
    name: str
    simulator: str | None = None


def topology_of(run_dir: Path) -> str | None:
    """The topology whose containers ``up`` started from this run folder, if any."""
    try:
        data = json.loads((Path(run_dir) / MARKER).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    name = data.get("topology") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def _ours(client: docker.DockerClient, topology: str) -> list[Container]:
    return client.containers.list(all=True, filters={"label": f"{LABEL_TOPOLOGY}={topology}"})


def _save_logs(run_dir: Path, container: Container) -> None:
    name = container.labels.get(LABEL_SIMULATOR, container.name)
    try:
        output = container.logs(timestamps=False)
    except docker.errors.APIError:
        return
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with log_file(run_dir, name).open("ab") as handle:
        handle.write(f"--- meshcert: output of container {container.name}, saved at {stamp} "
                     "---\n".encode())
        handle.write(output)


def _remove(run_dir: Path, containers: list[Container]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    for container in containers:
        try:
            container.stop(timeout=STOP_TIMEOUT_S)
        except docker.errors.NotFound:
            continue
        except docker.errors.APIError:
            pass  # already stopping or dead: removal below still applies
        _save_logs(run_dir, container)
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)


def down(run_dir: Path, names: Iterable[str] | None = None, *, topology: str | None = None,
         volumes: bool = False) -> list[Removed]:
    """Remove the containers of a topology (all, or the simulators ``names``) and, once none
    is left, its network; with ``volumes`` also their data volumes. Only what carries the
    topology's label is touched. The topology is ``topology`` or the one ``up`` recorded in
    ``run_dir``; nothing recorded and none given: nothing to do."""
    run_dir = Path(run_dir).resolve()
    topology = topology or topology_of(run_dir)
    if topology is None:
        return []
    client = engine()
    chosen = set(names) if names is not None else None
    containers = [c for c in _ours(client, topology)
                  if chosen is None or c.labels.get(LABEL_SIMULATOR) in chosen]
    _remove(run_dir, containers)
    removed = [Removed("container", c.name, c.labels.get(LABEL_SIMULATOR)) for c in containers]
    label = {"label": f"{LABEL_TOPOLOGY}={topology}"}
    if not _ours(client, topology):
        for network in client.networks.list(filters=label):
            network.remove()
            removed.append(Removed("network", network.name))
    if volumes:
        for volume in client.volumes.list(filters=label):
            simulator = (volume.attrs.get("Labels") or {}).get(LABEL_SIMULATOR)
            if chosen is None or simulator in chosen:
                volume.remove(force=True)
                removed.append(Removed("volume", volume.name, simulator))
    return removed


# -- status and logs --------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerStatus:
    name: str
    url: str
    container: str
    state: str             # running, exited, restarting, … or "absent"
    engine_health: str     # the image's HEALTHCHECK as the engine reports it, or "—"
    healthy: bool          # GET /health from the host answers as this simulator
    health: str
    uptime_s: float | None


def status(topology: Topology, run_dir: Path) -> list[ContainerStatus]:
    client = engine()
    verify = trust_for(tls_dir(Path(run_dir).resolve()))
    prefix = resource_prefix(topology.name)
    rows: list[ContainerStatus] = []
    for name in topology.simulators:
        container = _find(client, f"{prefix}-{name}", topology.name)
        state, engine_health, uptime = "absent", "—", None
        if container is not None:
            state = container.status
            info = container.attrs.get("State", {})
            engine_health = (info.get("Health") or {}).get("Status", "—")
            if state == "running":
                uptime = _since(info.get("StartedAt", ""))
        healthy, health = check_health(topology.url(name), name, verify=verify)
        rows.append(ContainerStatus(name, topology.url(name), f"{prefix}-{name}", state,
                                    engine_health, healthy, health, uptime))
    return rows


def _since(stamp: str) -> float | None:
    # The engine gives nanoseconds (2026-11-26T19:20:01.123456789Z): seconds are enough.
    try:
        started = datetime.fromisoformat(stamp[:19]).replace(tzinfo=UTC)
    except ValueError:
        return None
    return max(0.0, (datetime.now(UTC) - started).total_seconds())


def logs(topology: Topology, name: str, tail: int | None = None,
         follow: bool = False) -> Iterator[bytes]:
    """The output of a simulator's container (its JSON access log included)."""
    topology.simulator(name)
    client = engine()
    container = _find(client, f"{resource_prefix(topology.name)}-{name}", topology.name)
    if container is None:
        raise ContainerError(f"{name} has no container (start it: meshcert sim up --backend "
                             "docker)")
    if follow:
        yield from container.logs(stream=True, follow=True, tail=tail if tail else "all")
    else:
        yield container.logs(tail=tail if tail else "all")


def container_of(topology_name: str, simulator: str) -> Container:
    """The container of one simulator (for tests and tools that stop, kill or cut it off)."""
    client = engine()
    found = _find(client, f"{resource_prefix(topology_name)}-{simulator}", topology_name)
    if found is None:
        raise ContainerError(f"no container for {simulator} of topology {topology_name!r}")
    return found


if __name__ == "__main__":  # the compose file of the embedded topology (see COMPOSE_HEADER)
    from meshcert_simulators.common.topology import DEFAULT_TOPOLOGY

    print(compose_text(make_plan(DEFAULT_TOPOLOGY)), end="")
