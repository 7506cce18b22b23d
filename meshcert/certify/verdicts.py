"""From test outcomes to a verdict per requirement, and from those to the run's exit status.

A requirement **passes** when its tests ran and none failed, **fails** when one failed, is an
**error** (inconclusive) when none failed but the harness could not judge one of them (a
fixture crashed, a seed or a simulator failed: an error in set-up or teardown, or a
:class:`HarnessFault` raised by suite code before the system under test is judged), and is **not
tested** when none of its tests ran (none exist yet, all were skipped, or the run was limited to
other requirements). A failure outranks an error: one failed test is evidence enough. With a
baseline, a listed requirement that fails is an **expected failure**; one that passes is a
**stale** expectation (an error is neither: nothing was learnt about it).

The gate (exit status, :data:`EXIT_*`): 1 when a MUST requirement fails unexpectedly or a
baseline expectation is stale; else 3 ("could not judge") when a requirement in scope, of any
level, is an error; else 0. Exit status 2 is the command line's, for configuration errors.
*Certified* is stricter: every MUST requirement of the profile passed, in a run of the whole
profile, with nothing expected to fail and no harness error.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from meshcert.catalog.requirements import Catalog, Requirement
from meshcert.certify.baseline import Baseline
from meshcert.certify.records import TestRecord

if TYPE_CHECKING:
    import httpx

PASS, FAIL, ERROR, NOT_TESTED, EXPECTED_FAIL = (
    "pass", "fail", "error", "not-tested", "expected-fail")
VERDICTS = (PASS, FAIL, ERROR, EXPECTED_FAIL, NOT_TESTED)
# Test outcomes (the pytest plugin's words): "error" is the harness's, "failed" the target's.
FAILED_OUTCOMES = frozenset({"failed"})
ERROR_OUTCOMES = frozenset({"error"})
NOT_PASSED_OUTCOMES = FAILED_OUTCOMES | ERROR_OUTCOMES
RAN_OUTCOMES = frozenset({"passed", "xpassed"}) | NOT_PASSED_OUTCOMES

# Where a test's error happened (its pytest phase), in words.
PHASES = {"setup": "in set-up", "call": "in the test", "teardown": "in teardown"}

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_INCONCLUSIVE = 0, 1, 2, 3


class HarnessFault(Exception):
    """Raise from suite code when the harness itself cannot go on (a simulator's admin call,
    a seed, a fault injection failed) before the system under test is judged: the test's
    outcome is then "error" (inconclusive), never a failure of the vendor's system."""


HARNESS_TODO = ("this is the harness's failure, not the system under test's: check that simulator "
                "(its log is in the run folder, .meshcert/run/<topology>/<name>.log), restart the "
                "harness if it is down, and run again")


def ensure_harness_ok(response: httpx.Response, what: str, *, ok: Collection[int] = (200,)
                      ) -> httpx.Response:
    """``response`` when the harness's own simulator answered one of ``ok``; otherwise raise
    :class:`HarnessFault` naming ``what`` the harness tried (e.g. "put a fault plan on the
    mesh"), the request, the answer and what to do. For calls to the harness's simulators
    only (their admin endpoints, seeding a counterpart): never for the system under test's
    answers, which are judged with ``assert``."""
    if response.status_code in ok:
        return response
    try:
        request = f"{response.request.method} {response.request.url}"
    except RuntimeError:  # a response built without its request
        request = "the request"
    raise HarnessFault(
        f"the harness could not {what}: {request} was answered {response.status_code} "
        f"(expected {' or '.join(map(str, sorted(ok)))}): {response.text[:300]!r}; "
        f"{HARNESS_TODO}")


@dataclass(frozen=True)
class RequirementVerdict:
    requirement: Requirement
    verdict: str
    in_scope: bool
    tests: tuple[TestRecord, ...]
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
    errors: tuple[str, ...] = field(default=())   # requirements the harness could not judge

    def counts(self) -> dict[str, int]:
        return {v: sum(1 for r in self.verdicts if r.verdict == v) for v in VERDICTS}

    def by_id(self) -> dict[str, str]:
        return {r.id: r.verdict for r in self.verdicts}


def verdict_of(outcomes: Iterable[str]) -> str:
    """A requirement's verdict from its tests' outcomes (before the baseline)."""
    seen = set(outcomes)
    if seen & FAILED_OUTCOMES:
        return FAIL
    if seen & ERROR_OUTCOMES:
        return ERROR
    if seen & RAN_OUTCOMES:
        return PASS
    return NOT_TESTED


def judge(catalog: Catalog, profile: str, tests: Iterable[TestRecord],
          scope: Iterable[str] | None = None, baseline: Baseline | None = None) -> Outcome:
    """Verdicts for every requirement of ``profile`` (catalog order) from the test records of
    the pytest plugin (their ``requirements`` and ``outcome``)."""
    tests = list(tests)
    chosen = set(scope) if scope is not None else None
    expected = baseline.expected if baseline else {}
    verdicts: list[RequirementVerdict] = []
    for requirement in catalog.for_profile(profile):
        mine = tuple(t for t in tests if t.verifies(requirement.id))
        in_scope = chosen is None or requirement.id in chosen
        verdict = verdict_of(t.outcome for t in mine)
        reason = expected.get(requirement.id)
        stale = False
        if reason is not None:
            if verdict == FAIL:
                verdict = EXPECTED_FAIL
            elif verdict == PASS:
                stale = True
        verdicts.append(RequirementVerdict(requirement, verdict, in_scope, mine, reason, stale))
    return _outcome(tuple(verdicts), full_scope=chosen is None)


def unjudged(catalog: Catalog, profile: str, why: str,
             scope: Iterable[str] | None = None) -> Outcome:
    """The outcome of a run the harness could not carry out at all (a simulator that did not
    start, pytest stopping before any result): every requirement in scope is an error."""
    chosen = set(scope) if scope is not None else None
    verdicts = tuple(
        RequirementVerdict(r, ERROR if chosen is None or r.id in chosen else NOT_TESTED,
                           chosen is None or r.id in chosen, ())
        for r in catalog.for_profile(profile))
    outcome = _outcome(verdicts, full_scope=chosen is None)
    first = why.strip().splitlines()[0] if why.strip() else "no reason given"
    return replace(outcome, reasons=(f"the harness could not run: {first}", *outcome.reasons))


def _outcome(verdicts: tuple[RequirementVerdict, ...], *, full_scope: bool) -> Outcome:
    must = [v for v in verdicts if v.requirement.level == "MUST"]
    unexpected = tuple(v.id for v in must if v.verdict == FAIL)
    stale = tuple(v.id for v in verdicts if v.stale)
    errors = tuple(v.id for v in verdicts if v.verdict == ERROR)
    if unexpected or stale:
        exit_code = EXIT_FAILED
    elif errors:
        exit_code = EXIT_INCONCLUSIVE
    else:
        exit_code = EXIT_OK
    reasons: list[str] = []
    if unexpected:
        reasons.append(f"{len(unexpected)} MUST requirement(s) failed: {', '.join(unexpected)}")
    if stale:
        reasons.append(f"baseline out of date: {', '.join(stale)} no longer fail(s); remove "
                       "them from the baseline")
    if errors:
        reasons.append(f"{len(errors)} requirement(s) could not be judged (a harness error, "
                       f"not a failure of the system): {', '.join(errors)}")
    expected = [v.id for v in must if v.verdict == EXPECTED_FAIL]
    if expected:
        reasons.append(f"{len(expected)} MUST requirement(s) fail as the baseline expects: "
                       f"{', '.join(expected)}")
    untested = [v.id for v in must if v.verdict == NOT_TESTED]
    if untested:
        why = "the run was limited to other requirements or they have no tests" \
            if not full_scope else "no test of theirs ran"
        reasons.append(f"{len(untested)} MUST requirement(s) not tested ({why})")
    certified = full_scope and exit_code == EXIT_OK and all(v.verdict == PASS for v in must)
    return Outcome(verdicts, unexpected, stale, certified, exit_code, tuple(reasons), errors)
