"""The progress events of a certification run, as typed objects.

The runner says which phase it is in (:class:`Phase`); the pytest plugin appends one JSON line
per event to the progress file (``--meshcert-progress``) as the suites run: :class:`Collected`
(how many tests), :class:`Started` and :class:`TestFinished` per test, :class:`Finished`. The
runner tails that file and hands each event, parsed with :func:`parse_event`, to the
``progress`` callable of :func:`meshcert.certify.run.certify` (:data:`Progress`); a display
tells them apart with ``isinstance`` or ``match``.

A line is written with :meth:`to_line` and read with :func:`parse_event` only; a line that is
not an event is a :class:`~meshcert.errors.HarnessError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from meshcert.certify.records import TestOutcome, problems
from meshcert.errors import HarnessError


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def to_line(self) -> str:
        """The event as one line of the progress file (JSON, no newline)."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False)


class Phase(_Event):
    """The runner moved on: starting the simulators, running the suites, writing the report."""

    event: Literal["phase"] = "phase"
    text: str


class Collected(_Event):
    """pytest collected the tests of the run (after selection by requirement)."""

    event: Literal["collected"] = "collected"
    total: int


class Started(_Event):
    """A test started."""

    event: Literal["start"] = "start"
    nodeid: str


class TestFinished(_Event):
    """A test ended (after its teardown), with its outcome."""

    __test__ = False  # not a pytest test class, despite the name

    event: Literal["test"] = "test"
    nodeid: str
    outcome: TestOutcome
    requirements: tuple[str, ...]
    duration_s: float


class Finished(_Event):
    """pytest ended with ``exitstatus``."""

    event: Literal["finished"] = "finished"
    exitstatus: int


Event = Annotated[Phase | Collected | Started | TestFinished | Finished,
                  Field(discriminator="event")]
Progress = Callable[[Event], None]

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(line: str) -> Event:
    """The event one line of the progress file holds (HarnessError when it holds none)."""
    try:
        return _EVENT.validate_json(line)
    except ValidationError as exc:
        raise HarnessError(f"a progress line of the suites' pytest is not an event "
                           f"({problems(exc)}): {line.strip()[:200]!r}") from None
