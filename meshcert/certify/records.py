"""What the pytest plugin records of a certification run, as typed objects: a
:class:`TestRecord` per test, the :class:`RunResults` file the runner reads back
(``--meshcert-results``), and the :class:`Evidence` file of each test (``evidence/<test>.json``).

They cross from the suites' pytest process to the runner as JSON, so they are strict, closed
pydantic models: a record that does not match is a :class:`~meshcert.errors.HarnessError`
naming the file and the field (a bug or a version mismatch of the harness, never the system
under test's failure). Their JSON is written and read here only (``to_json``/``read``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from meshcert.certify.evidence import Exchange
from meshcert.errors import HarnessError

# One word per test (the plugin's _outcome): "error" is the harness's, "failed" the target's.
TestOutcome = Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed"]
# The pytest phase a test went wrong in.
TestPhase = Literal["setup", "call", "teardown"]


class _Recorded(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def to_json(self) -> str:
        """This object as the JSON the plugin writes (indent 1, UTF-8 kept)."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=1)


class TestRecord(_Recorded):
    """One test of a run: what it verifies, how it ended, and where its evidence is."""

    __test__ = False  # not a pytest test class, despite the name

    nodeid: str
    name: str
    requirements: tuple[str, ...]
    outcome: TestOutcome
    duration_s: float                 # set-up, call and teardown
    call_duration_s: float | None     # the test body alone (None: it never ran)
    message: str | None               # the short failure (or skip) text
    phase: TestPhase | None           # where it went wrong, None when it passed
    details: str | None               # the tail of pytest's full failure report
    location: str                     # path:line of the test function
    user_properties: dict[str, Any]   # what the test recorded (``latency_ms``, ``load``)
    exchanges: int                    # how many exchanges its evidence holds
    evidence: str | None = None       # its evidence file, relative to the report folder

    def verifies(self, requirement_id: str) -> bool:
        return requirement_id in self.requirements

    def evidence_of(self, exchanges: Sequence[Exchange]) -> Evidence:
        """The evidence file of this test, holding ``exchanges``."""
        return Evidence(nodeid=self.nodeid, requirements=self.requirements,
                        outcome=self.outcome, message=self.message,
                        exchanges=tuple(exchanges))


class Evidence(_Recorded):
    """``evidence/<test>.json``: a test's outcome and the exchanges its clients recorded."""

    nodeid: str
    requirements: tuple[str, ...]
    outcome: TestOutcome
    message: str | None
    exchanges: tuple[Exchange, ...]

    @classmethod
    def read(cls, path: Path) -> Evidence:
        """The evidence file at ``path`` (HarnessError when it is unreadable or malformed)."""
        return _read(cls, path, "evidence file")


class RunResults(_Recorded):
    """The results file of the suites' pytest: every test's record and the run's facts."""

    collected: int
    exitstatus: int
    started: float
    finished: float
    hypothesis_seed: str | None
    tests: tuple[TestRecord, ...]

    @classmethod
    def read(cls, path: Path) -> RunResults:
        """The results file at ``path`` (HarnessError when it is unreadable or malformed)."""
        return _read(cls, path, "results file of the suites' pytest")


_Model = TypeVar("_Model", bound=_Recorded)


def _read(model: type[_Model], path: Path, what: str) -> _Model:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HarnessError(f"{path}: cannot read the {what}: {exc}") from None
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise HarnessError(f"{path}: not a valid {what} ({problems(exc)}); the suites' "
                           "pytest and this harness do not agree: a harness bug, not the "
                           "system under test's failure") from None


def problems(exc: ValidationError, limit: int = 5) -> str:
    """A validation error in one line: each problem as ``where: what`` (the first few)."""
    found = [f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}"
             for e in exc.errors()]
    more = f"; and {len(found) - limit} more" if len(found) > limit else ""
    return "; ".join(found[:limit]) + more
