"""``meshcert load`` and ``meshcert capacity``: load scenarios of real peaks, with live progress,
a report with charts, and the knee of the curve with a projection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from meshcert.cli.console import err, fail, out, shown
from meshcert.errors import HarnessError
from meshcert.load.capacity import CapacityOptions, run_capacity
from meshcert.load.run import MAX_RATE, LoadOptions, run_load, run_worker
from meshcert.load.scenarios import SCENARIOS, Scale, parse_duration
from meshcert.load.systems import LoadConfigError

T = TypeVar("T")
# Upper bounds of the options: beyond them a run is a typo (or inf), never a plan. Rates share
# MAX_RATE (meshcert.load.run); durations are in seconds.
MAX_RUN_S = 24 * 3600          # --duration: a load run of a day at most
MAX_WINDOW_S = 366 * 24 * 3600  # --window: a peak spread over a year at most
MAX_STEP_S = 3600              # --step: an hour per capacity step at most
MAX_POPULATION = 200_000_000   # --population: Japan's is ~125 M
MAX_PROCESSES = 1024
_SCENARIO_HELP = "Scenario: " + "; ".join(f"`{s.name}` ({s.summary})"
                                          for s in SCENARIOS.values())

ScenarioOption = Annotated[str, typer.Option(
    "--scenario", "-s", metavar="NAME", show_default=False,
    help=_SCENARIO_HELP + ". Example: --scenario moving-season")]
TargetOption = Annotated[Path, typer.Option(
    "--target", metavar="FILE", show_default=False,
    help="A resident-registry target file (a bundled reference is started on free ports) or, "
         "for mesh scenarios, a topology. Example: --target "
         "fixtures/vendors/reference-registry.yaml")]
MunicipalitiesOption = Annotated[int, typer.Option(
    "--municipalities", min=1, max=1741,
    help="How many municipalities the system serves: scales the national figures "
         "(1741 = the whole country). Example: --municipalities 20")]
PopulationOption = Annotated[int | None, typer.Option(
    "--population", min=1, max=MAX_POPULATION, show_default=False,
    help="Residents served (default: the municipalities' share of 125 M). "
         "Example: --population 700000")]
WindowOption = Annotated[str | None, typer.Option(
    "--window", metavar="DURATION", show_default=False,
    help="The scenario's window: the mesh's daily volume arrives in it (default 8h), the "
         "nationwide notice's 125 M in it (default 24h; 1h for the extreme). Example: --window 1h")]
OutOption = Annotated[Path | None, typer.Option(
    "--out", metavar="DIR", show_default=False,
    help="Report folder (new or empty; default reports/out/<run>/).")]


def _seconds(text: str | None, option: str, longest: float) -> float | None:
    if text is None:
        return None
    try:
        value = parse_duration(text)
    except ValueError as exc:
        fail(f"{option}: {exc}")
    if not 0 < value <= longest:  # also refuses nan and inf, which parse as numbers
        fail(f"{option}: must be longer than 0 s and at most {longest:g} s, not {text!r}")
    return value


def _scale(municipalities: int, population: int | None, window: str | None,
           poll_interval: float = 60.0) -> Scale:
    return Scale(municipalities=municipalities, population=population,
                 window_s=_seconds(window, "--window", MAX_WINDOW_S),
                 poll_interval_s=poll_interval)


def load_command(
    scenario: ScenarioOption,
    target: TargetOption,
    users: Annotated[int | None, typer.Option(
        "--users", "-u", min=1, max=100_000, show_default=False,
        help="Simulated users at the peak; they share the peak rate (default: one per 5 "
             "req/s, at most 500). Example: --users 50")] = None,
    rate: Annotated[float | None, typer.Option(
        "--rate", "-r", min=0.001, max=MAX_RATE, show_default=False,
        help="The peak rate in requests/s, overriding the scenario's own figure at this scale "
             "(the curve keeps its shape). Example: --rate 200")] = None,
    duration: Annotated[str | None, typer.Option(
        "--duration", "-d", metavar="DURATION", show_default=False,
        help="How long the run lasts: the scenario's curve is compressed into it "
             "(default 60s). Example: --duration 2m")] = None,
    processes: Annotated[int | None, typer.Option(
        "--processes", "-p", min=-1, max=MAX_PROCESSES, show_default=False,
        help="Locust worker processes on this machine (-1: one per core), for rates one "
             "process cannot generate. Example: --processes 4")] = None,
    municipalities: MunicipalitiesOption = 1741,
    population: PopulationOption = None,
    window: WindowOption = None,
    poll_interval: Annotated[float, typer.Option(
        "--poll-interval", min=1.0, max=86_400.0,
        help="pull-polling: seconds between two polls of one standard system. "
             "Example: --poll-interval 300")] = 60.0,
    bulk_rows: Annotated[int, typer.Option(
        "--bulk-rows", min=1, max=10_000,
        help="Rows of a bulk inquiry file (mesh scenarios). Example: --bulk-rows 1000")
    ] = 10_000,
    master: Annotated[bool, typer.Option(
        "--master", help="Distributed: run Locust's master here (it starts, seeds, shapes "
                         "and reports) and wait for --expect-workers workers.")] = False,
    expect_workers: Annotated[int, typer.Option(
        "--expect-workers", min=1, max=MAX_PROCESSES,
        help="With --master: workers to wait for.")] = 1,
    worker: Annotated[bool, typer.Option(
        "--worker", help="Distributed: run a Locust worker for the master at --master-host "
                         "(same --scenario and --target).")] = False,
    master_host: Annotated[str | None, typer.Option(
        "--master-host", metavar="HOST", show_default=False,
        help="With --worker: the master's address. Example: --master-host 10.0.0.5")] = None,
    master_port: Annotated[int, typer.Option(
        "--master-port", min=1, max=65535,
        help="The master's port (Locust's default 5557).")] = 5557,
    topology: Annotated[Path | None, typer.Option(
        "--topology", metavar="FILE", show_default=False,
        help="For a vendor target: the harness side, whose token issuer your system trusts "
             "(default fixtures/topologies/certify.yaml), as for `meshcert certify`.")] = None,
    out_dir: OutOption = None,
    keep_running: Annotated[bool, typer.Option(
        "--keep-running", help="Leave simulators this run started running.")] = False,
) -> None:
    """Run a load scenario of a real peak (docs/domain.md §7) against a system, with Locust in its
    own process; write load.html (charts) and load.json.

    Exit status: 0 every catalog latency target that applies was met and no request failed;
    1 otherwise; 2 a bad scenario, target or option.

    Examples: `meshcert load -s moving-season --target fixtures/vendors/reference-registry.yaml
    --duration 30s` · `meshcert load -s mesh-inquiries --target fixtures/topologies/mesh.yaml
    --rate 50 --bulk-rows 1000` · `meshcert load -s nationwide-notice --target T --window 1h
    --processes 4`
    """
    options = LoadOptions(
        scenario=scenario, target=target, users=users, rate=rate,
        duration_s=_seconds(duration, "--duration", MAX_RUN_S), processes=processes,
        scale=_scale(municipalities, population, window, poll_interval), bulk_rows=bulk_rows,
        out_dir=out_dir, master=master, expect_workers=expect_workers,
        master_bind_port=master_port if master else None, keep_running=keep_running,
        topology=topology)
    if worker:
        if not master_host:
            fail("--worker needs --master-host (the machine running `meshcert load --master`)")
        try:
            raise typer.Exit(run_worker(options, master_host, master_port))
        except LoadConfigError as exc:
            fail(str(exc))
    result = _with_progress(lambda show: run_load(options, progress=show))
    _print_load(result.data, result.report_dir)
    raise typer.Exit(0 if result.passed else 1)


def _with_progress(work: Callable[[Callable[[dict[str, Any]], None]], T]) -> T:
    """Run ``work`` with the live display; a bad input (LoadConfigError) or a harness that
    cannot run (Locust or a simulator failing to start) is one line and exit status 2."""
    try:
        with _live() as show:
            return work(show)
    except (LoadConfigError, HarnessError, RuntimeError) as exc:
        fail(str(exc))


class _live:
    """A progress display on stderr: phases, then a bar over the run with live figures."""

    def __enter__(self) -> Any:
        # Not on a terminal (a CI log), the bar would only leave a blank line before an error;
        # the phase lines still say what happens.
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                 BarColumn(), TimeElapsedColumn(), console=err, transient=True,
                                 disable=not err.is_terminal)
        self.progress.__enter__()
        self.task = self.progress.add_task("preparing", total=None)
        return self.show

    def show(self, event: dict[str, Any]) -> None:
        if event["event"] == "phase":
            err.print(f"[dim]·[/dim] {escape(event['text'])}")
            self.progress.update(self.task, description=escape(event["text"][:60]))
        elif event["event"] == "tick":
            p95 = f"{event['p95_ms']:.0f} ms" if event.get("p95_ms") is not None else "—"
            self.progress.update(
                self.task, total=event["duration_s"],
                completed=min(event["elapsed_s"], event["duration_s"]),
                description=f"{event['users']} users, {event['rps']:.1f} req/s, p95 {p95}, "
                            f"{event['requests']:,} requests, {event['failures']:,} failed")
        elif event["event"] == "step":
            err.print(f"  step {event['step']}: offered {event['offered_rps']:,.1f} req/s, "
                      f"achieved {event['achieved_rps']:,.1f}, p {event['observed_ms']} ms, "
                      f"errors {event['error_ratio']:.2%} — "
                      f"{'sustained' if event['sustained'] else 'NOT sustained'}")

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)


def _print_load(data: dict[str, Any], report_dir: Path) -> None:
    table = Table(title=f"{data['scenario']['title']} — {data['target']['name']}",
                  title_justify="left")
    for column in ("request", "requests", "failed", "req/s", "p50", "p95", "p99", "max"):
        table.add_column(column, justify="left" if column == "request" else "right")
    rows = [*data["endpoints"], *([data["overall"]] if data["overall"] else [])]
    for e in rows:
        table.add_row(escape(e["label"]), f"{e['requests']:,}",
                      f"{e['failures']:,}", f"{e['rps']:.1f}",
                      *(f"{e[k]:.0f}" if e[k] is not None else "—"
                        for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")))
    out.print(table)
    for check in data["checks"]:
        verdict = "[green]met[/green]" if check["met"] else "[red]NOT met[/red]"
        out.print(f"{check['requirement']}: p{check['percentile']} {check['observed_ms']:.1f} ms "
                  f"≤ {check['threshold_ms']:g} ms — {verdict}")
    for failure in data["failures"][:10]:
        out.print(f"[red]failed[/red] {failure['count']}× {escape(failure['name'])}: "
                  f"{escape(failure['kind'])}")
    out.print("Assumptions: " + "; ".join(data["assumptions"]), soft_wrap=True)
    out.print(f"Report: {shown(report_dir / 'load.html')} (and load.json)")


def capacity_command(
    scenario: ScenarioOption,
    target: TargetOption,
    start_rate: Annotated[float, typer.Option(
        "--start-rate", min=0.1, max=MAX_RATE,
        help="Offered rate of the first step, req/s.")] = 20.0,
    factor: Annotated[float, typer.Option(
        "--factor", min=1.01, max=100.0,
        help="Each step offers this many times the last.")] = 1.5,
    max_rate: Annotated[float, typer.Option(
        "--max-rate", min=0.1, max=MAX_RATE, help="Stop stepping at this rate, req/s.")] = 5000.0,
    step: Annotated[str, typer.Option(
        "--step", metavar="DURATION", help="How long each rate is held. Example: --step 15s")
    ] = "8s",
    threshold: Annotated[float | None, typer.Option(
        "--threshold", metavar="MS", min=0.001, max=3_600_000.0, show_default=False,
        help="Latency threshold (default: the catalog target of the scenario's timed request, "
             "else 500 ms).")] = None,
    percentile: Annotated[int | None, typer.Option(
        "--percentile", min=1, max=100, show_default=False,
        help="Percentile judged (default: the catalog target's, else 95).")] = None,
    headroom: Annotated[float, typer.Option(
        "--headroom", min=0.05, max=1.0,
        help="Plan instances to run at this share of the knee.")] = 0.7,
    municipalities: MunicipalitiesOption = 1741,
    population: PopulationOption = None,
    window: WindowOption = None,
    out_dir: OutOption = None,
) -> None:
    """Step the load until the latency target breaks or errors appear; report the knee (the
    highest rate sustained within the target) with the curve, and how many instances the
    scenario's national peak needs, with the assumptions beside the numbers.

    Example: `meshcert capacity -s nationwide-notice --target
    fixtures/vendors/reference-registry.yaml --window 1h`
    """
    options = CapacityOptions(
        scenario=scenario, target=target, start_rate=start_rate, factor=factor,
        max_rate=max_rate, step_s=_seconds(step, "--step", MAX_STEP_S) or 8.0,
        threshold_ms=threshold,
        percentile=percentile, headroom=headroom,
        scale=_scale(municipalities, population, window), out_dir=out_dir)
    data = _with_progress(lambda show: run_capacity(options, progress=show))
    judged = data["judged"]
    out.print(f"Judged: p{judged['percentile']} of {judged['request']} ≤ "
              f"{judged['threshold_ms']:g} ms ({judged['source']})")
    table = Table(title_justify="left")
    for column in ("step", "offered req/s", "achieved req/s", f"p{judged['percentile']} ms",
                   "errors", "sustained"):
        table.add_column(column, justify="right")
    for s in data["steps"]:
        table.add_row(str(s["step"]), f"{s['offered_rps']:,.1f}", f"{s['achieved_rps']:,.1f}",
                      "—" if s["observed_ms"] is None else f"{s['observed_ms']:.1f}",
                      f"{s['error_ratio']:.2%}", "yes" if s["sustained"] else "[red]no[/red]")
    out.print(table)
    knee, projection = data["knee"], data["projection"]
    if knee:
        out.print(f"Knee: {knee['achieved_rps']:,.1f} req/s (step {knee['step']}).")
        out.print(f"National peak {projection['national_peak_rps']:,.1f} req/s → "
                  f"{projection['instances_national']} instance(s); at the given scale "
                  f"{projection['scaled_peak_rps']:,.2f} req/s → "
                  f"{projection['instances_scaled']} instance(s).")
    else:
        out.print("[red]No knee: the first step already broke the target.[/red]")
    out.print("Assumptions: " + "; ".join(projection["assumptions"]), soft_wrap=True)
    out.print(f"Report: {shown(Path(data['report_dir']) / 'capacity.html')}")
