"""From test outcomes to a verdict per requirement, and from those to the run's exit status.

A requirement **passes** when its tests ran and none failed, **fails** when one failed or errored,
and is **not tested** when none of its tests ran (none exist yet, all were skipped, or the run was
limited to other requirements). With a baseline, a listed requirement that fails is an
**expected failure**; one that passes is a **stale** expectation.

The gate (exit status): 1 when a MUST requirement fails unexpectedly or a baseline expectation
is stale, else 0. *Certified* is stricter: every MUST requirement of the profile passed, in a run
of the whole profile, with nothing expected to fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from meshcert.baseline import Baseline
from meshcert.catalog import Catalog, Requirement

PASS, FAIL, NOT_TESTED, EXPECTED_FAIL = "pass", "fail", "not-tested", "expected-fail"
VERDICTS = (PASS, FAIL, EXPECTED_FAIL, NOT_TESTED)
FAILED_OUTCOMES = frozenset({"failed", "error"})
RAN_OUTCOMES = frozenset({"passed", "xpassed"}) | FAILED_OUTCOMES


@dataclass(frozen=True)
class RequirementVerdict:
    requirement: Requirement
    verdict: str
    in_scope: bool
    tests: tuple[Mapping[str, Any], ...]
    expected_reason: str | None = None  # listed in the baseline, with this reason
    stale: bool = False                 # listed in the baseline, but passed

    @property
    def id(self) -> str:
        return self.requirement.id


@dataclass(frozen=True)
class Outcome:
    verdicts: tuple[RequirementVerdict, ...]
    unexpected_failures: tuple[str, ...]   # MUST requirements that failed, not in the baseline
    stale_expectations: tuple[str, ...]    # in the baseline, but passed
    certified: bool
    exit_code: int
    reasons: tuple[str, ...] = field(default=())  # why not certified, in words

    def counts(self) -> dict[str, int]:
        return {v: sum(1 for r in self.verdicts if r.verdict == v) for v in VERDICTS}

    def by_id(self) -> dict[str, str]:
        return {r.id: r.verdict for r in self.verdicts}


def judge(catalog: Catalog, profile: str, tests: Iterable[Mapping[str, Any]],
          scope: Iterable[str] | None = None, baseline: Baseline | None = None) -> Outcome:
    """Verdicts for every requirement of ``profile`` (catalog order) from the test records of
    the pytest plugin (``requirements`` and ``outcome`` per test)."""
    tests = list(tests)
    chosen = set(scope) if scope is not None else None
    expected = baseline.expected if baseline else {}
    verdicts: list[RequirementVerdict] = []
    for requirement in catalog.for_profile(profile):
        mine = tuple(t for t in tests if requirement.id in t["requirements"])
        in_scope = chosen is None or requirement.id in chosen
        outcomes = {t["outcome"] for t in mine}
        if outcomes & FAILED_OUTCOMES:
            verdict = FAIL
        elif outcomes & RAN_OUTCOMES:
            verdict = PASS
        else:
            verdict = NOT_TESTED
        reason = expected.get(requirement.id)
        stale = False
        if reason is not None:
            if verdict == FAIL:
                verdict = EXPECTED_FAIL
            elif verdict == PASS:
                stale = True
        verdicts.append(RequirementVerdict(requirement, verdict, in_scope, mine, reason, stale))
    return _outcome(tuple(verdicts), full_scope=chosen is None)


def _outcome(verdicts: tuple[RequirementVerdict, ...], *, full_scope: bool) -> Outcome:
    must = [v for v in verdicts if v.requirement.level == "MUST"]
    unexpected = tuple(v.id for v in must if v.verdict == FAIL)
    stale = tuple(v.id for v in verdicts if v.stale)
    exit_code = 1 if unexpected or stale else 0
    reasons: list[str] = []
    if unexpected:
        reasons.append(f"{len(unexpected)} MUST requirement(s) failed: {', '.join(unexpected)}")
    if stale:
        reasons.append(f"baseline out of date: {', '.join(stale)} no longer fail(s); remove "
                       "them from the baseline")
    expected = [v.id for v in must if v.verdict == EXPECTED_FAIL]
    if expected:
        reasons.append(f"{len(expected)} MUST requirement(s) fail as the baseline expects: "
                       f"{', '.join(expected)}")
    untested = [v.id for v in must if v.verdict == NOT_TESTED]
    if untested:
        why = "the run was limited to other requirements or they have no tests" \
            if not full_scope else "no test of theirs ran"
        reasons.append(f"{len(untested)} MUST requirement(s) not tested ({why})")
    certified = full_scope and exit_code == 0 and all(v.verdict == PASS for v in must)
    return Outcome(verdicts, unexpected, stale, certified, exit_code, tuple(reasons))
