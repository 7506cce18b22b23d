"""Machine-side time of a person's procedure, step by step, with the person's think time taken
off: the 60-second principle's measure (FRONT-60S-001), used by the front-service suites and
by the demo's walk-throughs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    name: str
    wall_start: float = 0.0     # epoch seconds, to place the exchanges captured meanwhile
    wall_end: float = 0.0
    machine_ms: float = 0.0
    hops: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Run:
    who: str
    steps: list[Step] = field(default_factory=list)

    @property
    def machine_ms(self) -> float:
        return sum(s.machine_ms for s in self.steps)


class Stopwatch:
    """Times one step of the person's; ``excluded_s`` (think time inside it) taken off."""

    def __init__(self, run: Run, name: str, excluded_s: float = 0.0) -> None:
        self.step = Step(name)
        self.run = run
        self.excluded_s = excluded_s

    def __enter__(self) -> Step:
        self.step.wall_start = time.time()
        self.started = time.perf_counter()
        return self.step

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self.started - self.excluded_s
        self.step.wall_end = time.time()
        self.step.machine_ms = round(max(0.0, elapsed) * 1000, 3)
        self.run.steps.append(self.step)
