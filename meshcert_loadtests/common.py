"""What every locustfile shares: the run's plan (written by ``meshcert load``), the load shape
that follows it, TLS trust, failure kinds, and exact per-request samples.

These files run inside Locust's own process (``python -m locust -f meshcert_loadtests/<file>.py``),
never inside meshcert or pytest: Locust's gevent patching would break them.

The plan is a JSON file named by ``MESHCERT_LOAD_PLAN``::

    scenario, per_user_rate (requests/s of one user), spawn_rate,
    stages [[end_s, users], ...]   the shape: users until end_s (seconds from the start)
    weights {task: weight}         the mix of request kinds
    tokens {name: bearer token}    minted by the parent (never written into the locustfile)
    ca_file, verify                how to trust the target's TLS certificate
    data {...}                     the scenario's seeded identifiers
    samples                        a folder for exact samples (one CSV per process), or null
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import gevent.ssl
from locust import LoadTestShape, constant_throughput, events

PLAN_ENV = "MESHCERT_LOAD_PLAN"


def load_plan() -> dict[str, Any]:
    path = os.environ.get(PLAN_ENV)
    if not path:
        raise SystemExit(f"{PLAN_ENV} is not set: run this locustfile through `meshcert load` "
                         "(it mints the tokens and writes the plan)")
    return dict(json.loads(Path(path).read_text(encoding="utf-8")))


PLAN = load_plan()


def wait_time() -> Any:
    """Each user paces itself to the plan's per-user rate: users × rate is the offered load."""
    return constant_throughput(float(PLAN["per_user_rate"]))


def ssl_context_factory() -> Any:
    """TLS as the plan says: the target's CA (or the system's), or no verification."""
    if not PLAN.get("verify", True):
        context = gevent.ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = gevent.ssl.CERT_NONE
        return context
    return gevent.ssl.create_default_context(cafile=PLAN.get("ca_file") or None)


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {PLAN['tokens'][name]}"}


def check(response: Any, *expected: int) -> None:
    """Mark a caught response failed unless its status is expected; the failure kind is the
    status and, for problem+json, the problem type (what `meshcert load` groups by)."""
    if response.status_code in (expected or (200,)):
        response.success()
        return
    kind = ""
    if "problem+json" in (response.headers.get("content-type") or ""):
        try:
            kind = " " + str(json.loads(response.text).get("type", ""))
        except ValueError:
            kind = ""
    status = response.status_code or "no response"
    response.failure(f"HTTP {status}{kind}")


class PlanShape(LoadTestShape):
    """Users over time as the plan's stages say; stops after the last."""

    def tick(self) -> tuple[int, float] | None:
        run_time = self.get_run_time()
        for end_s, users in PLAN["stages"]:
            if run_time < end_s:
                return int(users), float(PLAN["spawn_rate"])
        return None


# -- exact samples (for percentiles per step and per certification, on one machine) ----------

_samples: dict[str, Any] = {"pid": None, "file": None, "buffer": [], "flushed": 0.0}


def _sample_file() -> Any:
    # One file per process: `--processes K` forks, and each fork writes its own.
    if _samples["pid"] != os.getpid():
        folder = Path(PLAN["samples"])
        folder.mkdir(parents=True, exist_ok=True)
        _samples.update(pid=os.getpid(), buffer=[],
                        file=(folder / f"samples-{os.getpid()}.csv").open("a", encoding="utf-8"))
    return _samples["file"]


def _flush(**_kwargs: Any) -> None:
    if _samples["file"] is not None and _samples["pid"] == os.getpid():
        _samples["file"].write("".join(_samples["buffer"]))
        _samples["file"].flush()
        _samples["buffer"] = []
        _samples["flushed"] = time.monotonic()


if PLAN.get("samples"):
    @events.request.add_listener
    def _record(request_type: str, name: str, response_time: float, exception: Any,
                **_kwargs: Any) -> None:
        _sample_file()
        _samples["buffer"].append(
            f"{time.time():.3f},{name},{response_time:.3f},{0 if exception else 1}\n")
        # Flushed often enough for `meshcert capacity` to judge each step as it ends.
        if len(_samples["buffer"]) >= 500 or time.monotonic() - _samples["flushed"] > 0.5:
            _flush()

    events.test_stop.add_listener(_flush)
    events.quitting.add_listener(_flush)
