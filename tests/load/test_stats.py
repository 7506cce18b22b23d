"""Reading Locust's CSV stats and the exact samples; finding the knee of a capacity curve."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshcert.load.capacity import evaluate, step_rates
from meshcert.load.stats import (
    endpoint_stats,
    failure_kinds,
    history,
    nearest_rank,
    read_samples,
)
from meshcert.load.systems import LoadConfigError

READ = "GET /municipalities/{lg_code}/residents/{atena_number}"
PCT = "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"


def write_stats(tmp_path: Path) -> Path:
    prefix = tmp_path / "locust"
    Path(f"{prefix}_stats.csv").write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
        f"Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,{PCT}\n"
        f"GET,{READ},200,2,6,9.5,1.2,310.4,800,40.0,0.4,6,7,8,9,12,18,40,95,300,310,310\n"
        f",Aggregated,200,2,6,9.5,1.2,310.4,800,40.0,0.4,6,7,8,9,12,18,40,95,300,310,310\n",
        encoding="utf-8")
    Path(f"{prefix}_stats_history.csv").write_text(
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s," + PCT +
        ",Total Request Count,Total Failure Count,Total Median Response Time,"
        "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
        "Total Average Content Size\n"
        f"1000,0,,Aggregated,0.000000,0.000000,{','.join(['N/A'] * 11)},0,0,0,0,0,0,0\n"
        f"1001,4,GET,{READ},38.0,0.0,6,7,8,9,12,17,40,90,300,310,310,40,0,6,9,1,300,800\n"
        "1001,4,,Aggregated,38.0,0.0,6,7,8,9,12,17,40,90,300,310,310,40,0,6,9,1,300,800\n",
        encoding="utf-8")
    Path(f"{prefix}_failures.csv").write_text(
        "Method,Name,Error,Occurrences\n"
        f"GET,{READ},\"CatchResponseError('HTTP 503 urn:meshcert:problem:unavailable')\",2\n"
        f"GET,{READ},ConnectionRefusedError(111),1\n", encoding="utf-8")
    return prefix


def test_per_request_percentiles_come_from_the_stats_file(tmp_path: Path):
    read, total = endpoint_stats(write_stats(tmp_path))
    assert read["label"] == READ and read["method"] == "GET"
    assert (read["requests"], read["failures"]) == (200, 2)
    assert (read["p50_ms"], read["p95_ms"], read["p99_ms"], read["max_ms"]) == \
        (6, 18, 95, 310.4)
    assert total["name"] == "Aggregated"


def test_history_is_a_point_a_second_per_request_and_overall(tmp_path: Path):
    found = history(write_stats(tmp_path))
    assert [p["t"] for p in found["Aggregated"]] == [0, 1]
    [point] = found[READ]
    assert point == {"t": 1, "users": 4, "rps": 38.0, "fail_rps": 0.0, "p50_ms": 6,
                     "p95_ms": 17, "p99_ms": 90, "max_ms": 310, "requests": 40}


def test_failures_are_grouped_by_the_kind_the_locustfile_named(tmp_path: Path):
    kinds = failure_kinds(write_stats(tmp_path))
    assert kinds[0] == {"method": "GET", "name": READ, "count": 2,
                        "kind": "HTTP 503 urn:meshcert:problem:unavailable"}
    assert kinds[1]["kind"] == "ConnectionRefusedError(111)"


def test_samples_of_every_process_are_read_in_time_order(tmp_path: Path):
    (tmp_path / "samples-1.csv").write_text(f"10.5,{READ},4.0,1\n12.0,{READ},9.0,0\n")
    (tmp_path / "samples-2.csv").write_text(f"11.0,{READ},6.0,1\n")
    samples = read_samples(tmp_path)
    assert [s.ms for s in samples] == [4.0, 6.0, 9.0]
    assert [s.ok for s in samples] == [True, True, False]
    assert nearest_rank([s.ms for s in samples], 50) == 6.0


def synthetic_run(tmp_path: Path, latency_by_step: list[float], rates: list[float],
                  step_s: float = 4.0) -> Path:
    lines = []
    for index, (rate, ms) in enumerate(zip(rates, latency_by_step, strict=True)):
        count = int(rate * step_s)
        for n in range(count):
            at = 100 + index * step_s + n / rate
            lines.append(f"{at:.3f},{READ},{ms},1\n")
    (tmp_path / "samples-9.csv").write_text("".join(lines))
    return tmp_path


def test_the_knee_is_the_last_step_within_the_target(tmp_path: Path):
    rates = [10.0, 20.0, 40.0, 80.0]
    folder = synthetic_run(tmp_path, [5, 20, 150, 400], rates)
    steps = evaluate(read_samples(folder), rates, 4.0, READ, 95, 200)
    assert [s["sustained"] for s in steps] == [True, True, True, False]
    assert steps[2]["achieved_rps"] == pytest.approx(40, rel=0.05)
    assert steps[3]["observed_ms"] == 400


def test_a_step_short_of_its_offered_rate_is_not_sustained(tmp_path: Path):
    folder = synthetic_run(tmp_path, [5, 5], [10.0, 20.0])
    steps = evaluate(read_samples(folder), [10.0, 40.0], 4.0, READ, 95, 200)
    assert [s["sustained"] for s in steps] == [True, False]  # 20 achieved of 40 offered


def test_steps_grow_geometrically_and_bad_steps_are_refused():
    assert step_rates(10, 2, 80) == [10, 20, 40, 80]
    with pytest.raises(LoadConfigError):
        step_rates(10, 1, 80)
