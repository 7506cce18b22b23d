"""What a certification will do, settled before anything starts: the target, catalog,
requirements, defect, baseline, topology, signing key and report folder (a ConfigError if
any cannot be used as given)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from meshcert.catalog.requirements import Catalog, CatalogError, load_catalog
from meshcert.catalog.targets import Target, TargetError, load_target
from meshcert.certify.baseline import Baseline, BaselineError, load_baseline
from meshcert.certify.harness import CERTIFY_TOPOLOGY, PROFILE_TOPOLOGIES
from meshcert.errors import ConfigError
from meshcert.reports import signing
from meshcert_simulators import defects as defect_registry
from meshcert_simulators.common.topology import Topology, TopologyError, load_topology

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REPORTS_OUT = Path("reports") / "out"


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Plan:
    run_id: str
    target_path: Path
    target: Target
    base: Path
    catalog: Catalog
    requirements: tuple[str, ...] | None
    defect: str | None
    baseline: Baseline | None
    report_dir: Path
    topology_path: Path
    key: Any
    backend: str = "process"  # where simulators run: BACKENDS


def make_plan(target_path: Path, requirements: Sequence[str] | None, defect: str | None,
          out_dir: str | Path | None, baseline: str | Path | None,
          topology: str | Path | None, signing_key: str | Path | None) -> Plan:
    """Everything checked before anything starts: every problem is the user's to fix."""
    try:
        target, base = load_target(target_path)
    except TargetError as exc:
        raise ConfigError(str(exc)) from None
    try:
        catalog = load_catalog(target.catalog)
        in_profile = [r.id for r in catalog.for_profile(target.profile)]
    except CatalogError as exc:
        raise ConfigError(str(exc)) from None
    chosen = None
    if requirements is not None:
        chosen = tuple(dict.fromkeys(requirements))
        unknown = [i for i in chosen if i not in in_profile]
        if unknown or not chosen:
            raise ConfigError(f"--requirement: not requirements of profile {target.profile} in "
                              f"catalog {catalog.version}: {', '.join(unknown) or '(none given)'}"
                              " (list them: meshcert requirements list)")
    if defect is not None and target.launch is None:
        raise ConfigError(f"a defect applies to a bundled reference target (one with "
                          f"'launch'), and {target_path} has none")
    effective_defect = defect if defect is not None else (target.launch.defect
                                                          if target.launch else None)
    if target.launch is not None:
        topology_path = (base / target.launch.topology).resolve()
        topo = _topology(topology_path)
        try:
            spec = topo.simulator(target.launch.simulator)
        except TopologyError as exc:
            raise ConfigError(f"launch.simulator: {exc}") from None
        if effective_defect is not None:
            try:
                found = defect_registry.get(effective_defect)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            if not found.applies_to(spec.kind):
                raise ConfigError(f"defect {effective_defect!r} applies to "
                                  f"{' and '.join(found.kinds)} "
                                  f"simulators, not to {target.launch.simulator!r} "
                                  f"({spec.kind})")
    else:
        topology_path = (Path(topology).resolve() if topology
                         else PROFILE_TOPOLOGIES.get(target.profile, CERTIFY_TOPOLOGY))
        _topology(topology_path)
    loaded_baseline = None
    if baseline is not None:
        try:
            loaded_baseline = load_baseline(baseline, catalog, target.profile)
        except BaselineError as exc:
            raise ConfigError(str(exc)) from None
    run_id = new_run_id()
    report_dir = Path(out_dir) if out_dir else REPORTS_OUT / run_id
    if report_dir.exists() and (not report_dir.is_dir() or any(report_dir.iterdir())):
        raise ConfigError(f"--out {report_dir}: exists and is not an empty folder (a report "
                          "is never written over another)")
    try:
        key, _ = signing.load_or_create_key(signing_key)
    except signing.SigningError as exc:
        raise ConfigError(str(exc)) from None
    return Plan(run_id=run_id,
                 target_path=Path(target_path), target=target, base=base, catalog=catalog,
                 requirements=chosen, defect=effective_defect, baseline=loaded_baseline,
                 report_dir=report_dir.resolve(), topology_path=topology_path, key=key)


def _topology(path: Path) -> Topology:
    try:
        topo = load_topology(path)
    except TopologyError as exc:
        raise ConfigError(str(exc)) from None
    if topo.issuer is None or topo.issuer.simulator is None:
        raise ConfigError(f"{path}: the harness needs an authz simulator as issuer "
                          "(issuer.simulator) to mint the access tokens of the suites")
    return topo
