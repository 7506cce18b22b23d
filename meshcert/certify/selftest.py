"""Negative controls: the harness proves each of its MUST requirements' tests can fail.

``run_selftest`` certifies the reference of a profile — the bundled one, or another target of
the profile with ``launch`` such as a defined service's — (everything must pass), then the
same reference once per defect (meshcert_simulators/defects/): the defect's requirement must fail
and no
other requirement may fail or error. A defect whose requirement only errored (the harness could
not judge it: a fixture crashed) is **inconclusive**, not detected. The result is the detection
matrix; detection must be 100 % for MUST. A requirement failing beside the defect's own is
certified once more, alone: only a failure that comes back counts against the defect.

The variants are independent certifications on their own ports and run folders, so they run
``jobs`` at a time; several profiles' selftests share one pool (:func:`run_planned`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import yaml

from meshcert.catalog.requirements import DEFAULT_VERSION, Catalog, CatalogError, load_catalog
from meshcert.certify.plan import REPORTS_OUT, new_run_id
from meshcert.certify.run import certify
from meshcert.certify.verdicts import ERROR, FAIL, PASS
from meshcert.errors import ConfigError, HarnessError, MeshcertError
from meshcert_simulators import defects
from meshcert_simulators.fixtures import fixture_path

VENDORS_DIR = fixture_path("vendors")
DEFAULT_SEED = 20261126  # fixed, so a selftest is repeatable; --seed changes it


class SelftestError(MeshcertError, ValueError):
    """The selftest cannot run as asked (unknown profile or defect, no reference target): give a
    profile and defect the catalog names (``meshcert selftest --help``). Exit status 2."""


@dataclass(frozen=True)
class Variant:
    """One certification of the reference: plain (defect None) or with one defect."""

    defect: str | None
    requirement: str | None        # the requirement the defect must trip
    level: str | None
    verdicts: dict[str, str] = field(default_factory=dict)
    report_dir: str | None = None
    error: str | None = None
    seconds: float = 0.0
    # Requirements that failed or errored beside the defect's own, then passed when certified
    # again alone with the same defect and seed (their verdict here is that pass): the machine's
    # load, not the defect (see Planned.recheck).
    not_reproduced: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(sorted(r for r, v in self.verdicts.items() if v == FAIL))

    @property
    def errored(self) -> tuple[str, ...]:
        """Requirements the harness could not judge in this variant."""
        return tuple(sorted(r for r, v in self.verdicts.items() if v == ERROR))

    @property
    def detected(self) -> bool:
        return self.requirement is not None and self.requirement in self.failed

    @property
    def inconclusive(self) -> bool:
        """The defect's requirement errored: the harness could not judge whether its tests
        catch the defect (a crash is not a detection)."""
        return self.requirement is not None and self.requirement in self.errored

    @property
    def unrelated(self) -> tuple[str, ...]:
        """Requirements that failed although this variant's defect does not concern them."""
        return tuple(r for r in self.failed if r != self.requirement)

    @property
    def unrelated_errors(self) -> tuple[str, ...]:
        """Requirements the harness could not judge besides this variant's own."""
        return tuple(r for r in self.errored if r != self.requirement)

    @property
    def ok(self) -> bool:
        if self.error:
            return False
        if self.defect is None:
            return not self.failed and all(v == PASS for v in self.verdicts.values())
        return self.detected and not self.unrelated and not self.unrelated_errors


@dataclass(frozen=True)
class Selftest:
    profile: str
    catalog: str
    seed: int
    reference: Variant
    variants: tuple[Variant, ...]
    report_dir: Path
    target: Path | None = None     # the reference target certified

    @property
    def must_variants(self) -> tuple[Variant, ...]:
        return tuple(v for v in self.variants if v.level == "MUST")

    @property
    def detection_rate(self) -> float:
        musts = self.must_variants
        return sum(v.detected for v in musts) / len(musts) if musts else 1.0

    @property
    def ok(self) -> bool:
        return self.reference.ok and all(v.ok for v in self.variants)

    def to_json(self) -> dict[str, object]:
        def row(v: Variant) -> dict[str, object]:
            return {**asdict(v), "detected": v.detected, "inconclusive": v.inconclusive,
                    "unrelated": list(v.unrelated),
                    "unrelated_errors": list(v.unrelated_errors), "ok": v.ok}
        return {"profile": self.profile, "catalog": self.catalog, "seed": self.seed,
                "target": str(self.target) if self.target else None, "ok": self.ok,
                "detection_rate_must": self.detection_rate,
                "reference": row(self.reference), "variants": [row(v) for v in self.variants]}


def reference_target(profile: str) -> Path:
    """The bundled reference target of a profile: a file in fixtures/vendors/ with ``launch``."""
    for path in sorted(VENDORS_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if data.get("profile") == profile and data.get("launch"):
            return path
    raise SelftestError(f"no bundled reference target for profile {profile!r} in {VENDORS_DIR}")


def checked_reference(path: Path, profile: str) -> Path:
    """``path`` as the reference of ``profile``'s selftest (e.g. a defined service's, instead
    of the bundled one): a target file of that profile with ``launch`` — the defects apply to
    a simulator the harness starts, never to a vendor's running system."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SelftestError(f"--reference {path}: cannot read it as a target file ({exc})"
                            ) from None
    if not isinstance(data, dict):
        raise SelftestError(f"--reference {path}: not a target file (a mapping with "
                            "'profile' and 'launch')")
    if data.get("profile") != profile:
        raise SelftestError(f"--reference {path}: its profile is {data.get('profile')!r}, "
                            f"not {profile!r}")
    if not data.get("launch"):
        raise SelftestError(f"--reference {path}: has no 'launch' — a selftest applies "
                            "defects to a reference the harness starts (see "
                            f"{VENDORS_DIR}/reference-*.yaml)")
    return Path(path).resolve()


def profiles_with_reference(catalog: Catalog) -> list[str]:
    """The catalog's profiles that have a bundled reference target, in catalog order."""
    found = []
    for name in catalog.profiles:
        try:
            reference_target(name)
        except SelftestError:
            continue
        found.append(name)
    return found


def planned_defects(catalog: Catalog, profile: str, only: list[str] | None = None
                    ) -> list[tuple[str, str, str]]:
    """(defect id, requirement id, level) for every requirement of the profile with a defect."""
    rows = [(r.defect, r.id, r.level) for r in catalog.for_profile(profile) if r.defect]
    if only:
        unknown = sorted(set(only) - {d for d, _, _ in rows})
        if unknown:
            raise SelftestError(f"defects not in profile {profile!r}: {', '.join(unknown)}")
        rows = [row for row in rows if row[0] in only]
    return rows


Job = tuple[str | None, str | None, str | None]  # (defect, its requirement, level)


@dataclass(frozen=True)
class Planned:
    """One profile's selftest, planned: its certifications (the reference first) to run, in a
    pool of its own (:func:`run_selftest`) or shared with other profiles' (:func:`run_planned`)."""

    profile: str
    catalog: Catalog
    seed: int
    target: Path
    report_dir: Path
    jobs: tuple[Job, ...]

    def run(self, defect: str | None, requirement: str | None, level: str | None) -> Variant:
        """Certify the reference with ``defect`` (or none) and judge the variant."""
        if defect is not None and defect not in defects.all_defects():
            return Variant(defect, requirement, level, error="defect not implemented")
        started = datetime.now(UTC)
        name = defect or "reference"
        try:
            result = certify(self.target, defect=defect, seed=self.seed,
                             out_dir=self.report_dir / name)
        except (ConfigError, HarnessError) as exc:
            return Variant(defect, requirement, level, error=str(exc).splitlines()[0])
        except Exception as exc:  # one broken variant must not hide the others' results
            return Variant(defect, requirement, level,
                           error=f"{type(exc).__name__}: {exc}".splitlines()[0][:200])
        seconds = (datetime.now(UTC) - started).total_seconds()
        # The harness could not run this variant at all: say why, as for an exception.
        why = (result.harness_error or "").strip().splitlines()[:1]
        variant = Variant(defect, requirement, level, dict(result.verdicts),
                          str(result.report_dir), why[0] if why else None, round(seconds, 1))
        return self.recheck(variant)

    def recheck(self, variant: Variant) -> Variant:
        """``variant`` with each requirement that failed or errored beside the defect's own
        certified once more, alone, with the same defect and seed. A defect is deterministic:
        what it breaks fails again. A requirement that passes the second time failed from the
        machine's load (a latency target on two busy cores): its verdict becomes that pass and
        it is listed in ``not_reproduced``, never dropped silently."""
        suspects = sorted({*variant.unrelated, *variant.unrelated_errors})
        if variant.error or not suspects:
            return variant
        name = f"{variant.defect or 'reference'}-recheck"
        try:
            again = certify(self.target, requirements=suspects, defect=variant.defect,
                            seed=self.seed, out_dir=self.report_dir / name)
        except MeshcertError:
            return variant
        cleared = tuple(r for r in suspects if again.verdicts.get(r) == PASS)
        if not cleared:
            return variant
        return replace(variant, verdicts={**variant.verdicts, **dict.fromkeys(cleared, PASS)},
                       not_reproduced=cleared)

    def result(self, variants: dict[str | None, Variant]) -> Selftest:
        """The selftest from every job's variant (by defect; None the reference); written to
        ``selftest.json`` in its report folder."""
        outcome = Selftest(self.profile, self.catalog.version, self.seed, variants[None],
                           tuple(variants[d] for d, _, _ in self.jobs if d is not None),
                           self.report_dir, self.target)
        (self.report_dir / "selftest.json").write_text(
            json.dumps(outcome.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
        return outcome


def plan_selftest(profile: str = "resident-registry", *, only: list[str] | None = None,
                  seed: int = DEFAULT_SEED, catalog_version: str = DEFAULT_VERSION,
                  reference: Path | None = None) -> Planned:
    """Plan one profile's selftest (its report folder is made now), of the bundled reference
    or of ``reference``, another target file of the profile with ``launch``."""
    try:
        catalog = load_catalog(catalog_version)
        planned = planned_defects(catalog, profile, only)
    except CatalogError as exc:
        raise SelftestError(str(exc)) from None
    target = (checked_reference(reference, profile) if reference is not None
              else reference_target(profile))
    report_dir = REPORTS_OUT / f"selftest-{new_run_id()}"
    report_dir.mkdir(parents=True, exist_ok=True)
    return Planned(profile, catalog, seed, target, report_dir, ((None, None, None), *planned))


def run_selftest(profile: str = "resident-registry", *, only: list[str] | None = None,
                 jobs: int = 2, seed: int = DEFAULT_SEED, catalog_version: str = DEFAULT_VERSION,
                 on_done: Callable[[Variant], None] | None = None,
                 reference: Path | None = None) -> Selftest:
    """Selftest one profile, ``jobs`` certifications at a time (of the bundled reference, or
    of ``reference``: see :func:`plan_selftest`)."""
    plan = plan_selftest(profile, only=only, seed=seed, catalog_version=catalog_version,
                         reference=reference)
    done = (lambda _profile, variant: on_done(variant)) if on_done else None
    return run_planned([plan], jobs=jobs, on_done=done)[profile]


def longest_first(plans: Sequence[Planned]) -> list[tuple[Planned, Job]]:
    """Every job of ``plans`` in the order a shared pool should start them: round-robin across
    the profiles, the longest-running profile's first, so that its slow certifications start
    early, side by side with others, instead of leaving slots idle at the end. The mesh
    inquirer's are the longest and mostly waits on its counterparts (a give-up takes its full
    stated time): a profile's certifications are taken to last the longer, the more
    counterpart simulators the profile starts (catalog ``simulators``)."""
    ranked = sorted(plans, key=lambda p: -len(p.catalog.profiles[p.profile].simulators))
    rounds = itertools.zip_longest(*([(plan, job) for job in plan.jobs] for plan in ranked))
    return [entry for round_ in rounds for entry in round_ if entry is not None]


def run_planned(plans: Sequence[Planned], *, jobs: int = 2,
                on_done: Callable[[str, Variant], None] | None = None) -> dict[str, Selftest]:
    """Run the selftests ``plans`` in one pool of ``jobs`` certifications, so that no slot idles
    while one profile finishes (order: :func:`longest_first`); each profile's result by name.
    ``on_done(profile, variant)`` is told of each certification as it ends."""
    variants: dict[str, dict[str | None, Variant]] = {plan.profile: {} for plan in plans}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(plan.run, *job): (plan.profile, job[0])
                   for plan, job in longest_first(plans)}
        for future in as_completed(futures):
            profile, defect = futures[future]
            variants[profile][defect] = variant = future.result()
            if on_done:
                on_done(profile, variant)
    return {plan.profile: plan.result(variants[plan.profile]) for plan in plans}
