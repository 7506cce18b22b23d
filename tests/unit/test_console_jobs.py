"""Certifications started from the console: a bad target ends the job as failed with the
configuration error relayed, and only one runs at a time."""

from __future__ import annotations

import time
from pathlib import Path

from meshcert.console.jobs import FAILED, RUNNING, Jobs


def test_a_bad_target_fails_the_job_with_the_reason(tmp_path: Path) -> None:
    target = tmp_path / "broken.yaml"
    target.write_text("profile: no-such-profile\n", encoding="utf-8")
    finished = []
    jobs = Jobs(tmp_path / "out", finished.append)
    job = jobs.start(target)
    assert job is not None and job.status == RUNNING
    assert jobs.start(target) is None                 # one at a time
    deadline = time.monotonic() + 60
    while job.status == RUNNING:
        assert time.monotonic() < deadline, job.events
        time.sleep(0.1)
    assert job.status == FAILED and finished == []
    (error,) = [e for e in job.events if e["event"] == "config-error"]
    assert "broken.yaml" in error["text"]
    assert job.events[-1] == {"event": "end", "status": FAILED}
