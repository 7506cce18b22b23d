"""``meshcert certify``: certify a system named by a target file, with live progress."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from meshcert.certify.events import Collected, Event, Phase, Started, TestFinished
from meshcert.certify.run import Certification, certify, previous_run
from meshcert.certify.verdicts import (
    ERROR,
    EXIT_INCONCLUSIVE,
    EXPECTED_FAIL,
    FAIL,
    NOT_PASSED_OUTCOMES,
    PHASES,
    RequirementVerdict,
)
from meshcert.cli.console import err, fail, out, shown
from meshcert.errors import ConfigError, HarnessError
from meshcert.reports.signing import KEY_ENV


def certify_command(
    target: Annotated[Path, typer.Option(
        "--target", metavar="FILE", show_default=False,
        help="Target file of the system to certify (profile, base URL, keys, seeding). "
             "Example: --target fixtures/vendors/reference-registry.yaml")],
    requirement: Annotated[list[str] | None, typer.Option(
        "--requirement", "-r", metavar="ID", show_default=False,
        help="Run only the tests of this requirement (repeatable). "
             "Example: --requirement SEC-AUTH-002")] = None,
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", metavar="FILE", show_default=False,
        help="Expected failures (YAML: catalog, expected_failures with id and reason); the run "
             "also fails when one of them passes. Example: --baseline ci/baseline.yaml")] = None,
    rerun_failed: Annotated[str | None, typer.Option(
        "--rerun-failed", metavar="RUN", show_default=False,
        help="Rerun only the requirements that failed or could not be judged (error) in an "
             "earlier run (its id under reports/out/, or its folder), with its seed unless "
             "--seed is given.")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0, show_default=False,
        help="Hypothesis seed (default: a random one, recorded in the certificate), so a "
             "failure replays exactly. Example: --seed 1234")] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR", show_default=False,
        help="Report folder to write (new or empty; default reports/out/<run id>/).")] = None,
    keep_running: Annotated[bool, typer.Option(
        "--keep-running", help="Leave the simulators this run started running.")] = False,
    defect: Annotated[str | None, typer.Option(
        "--defect", metavar="ID", show_default=False,
        help="For a bundled reference target only: run it with this defect (a negative "
             "control from meshcert_simulators/defects/) instead of its launch.defect.")] = None,
    signing_key: Annotated[Path | None, typer.Option(
        "--signing-key", metavar="FILE", show_default=False, envvar=KEY_ENV,
        help="Ed25519 key that signs certificate.json, made on first use "
             "(default ~/.meshcert/signing-key.pem).")] = None,
    topology: Annotated[Path | None, typer.Option(
        "--topology", metavar="FILE", show_default=False,
        help="Harness topology for a vendor target: the issuer and counterparts your system "
             "is configured to reach (default per profile: fixtures/topologies/certify.yaml "
             "for resident-registry, mesh-inquirer.yaml, information-provider.yaml, "
             "private-service.yaml).")] = None,
    backend: Annotated[str, typer.Option(
        "--backend", metavar="process|docker",
        help="Run the simulators as local processes or as containers of the meshcert image "
             "(build it first: meshcert image build). Example: --backend docker")
    ] = "process",
) -> None:
    """Certify a system against the requirements of its profile and write a signed report.

    Validates the target (and the catalog, the baseline) first, starts the simulators the
    profile needs, runs the profile's suites with pytest, and writes reports/out/<run id>/:
    junit.xml, allure-results/, evidence/, certificate.json with its signature, index.html.
    Exit 0 when every MUST requirement passes (after the baseline), 1 when one fails, 2 for
    configuration errors, 3 when the harness could not judge (a simulator, seed or fixture
    failed: "error" in the report, not the system's failure; not certified).

    Example: `meshcert certify --target fixtures/vendors/reference-registry.yaml`
    """
    requirements = list(requirement) if requirement else None
    rerun_of = None
    try:
        if rerun_failed is not None:
            if requirements:
                fail("give --requirement or --rerun-failed, not both")
            previous = previous_run(rerun_failed)
            if not previous.failed:
                out.print(f"Nothing failed in {shown(previous.run_dir)}: nothing to rerun.")
                raise typer.Exit(0)
            requirements = list(previous.failed)
            seed = seed if seed is not None else previous.seed
            rerun_of = previous.run_dir.name
            out.print(f"Rerunning {len(requirements)} requirement(s) that failed or errored in "
                      f"{previous.run_dir.name}: {', '.join(requirements)}")
        with ProgressDisplay() as display:
            result = certify(target, requirements=requirements, defect=defect, seed=seed,
                             out_dir=out_dir, baseline=baseline, progress=display.on_event,
                             topology=topology, signing_key=signing_key,
                             keep_running=keep_running, rerun_of=rerun_of, backend=backend)
    except ConfigError as exc:
        fail(str(exc))
    except HarnessError as exc:
        fail(f"could not judge: {exc}", EXIT_INCONCLUSIVE)
    except KeyboardInterrupt:
        err.print("interrupted: the simulators this run started were stopped")
        raise typer.Exit(130) from None
    print_summary(result, backend)
    raise typer.Exit(result.exit_code)


class ProgressDisplay:
    """A progress bar on stderr fed by the runner's events: tests done / total, the current
    test, failures so far; each failure printed above the bar as it happens."""

    def __init__(self) -> None:
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}", style="bold"), BarColumn(),
            MofNCompleteColumn(), TextColumn("{task.fields[failures]}"), TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[current]}"), console=err, transient=True)
        self.task = self.progress.add_task("preparing", total=None, failures="", current="")
        self.failed = 0
        self.errors = 0  # tests the harness could not judge
        self.started = False

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.started:
            self.progress.stop()

    def on_event(self, event: Event) -> None:
        if not self.started:  # from the first event on: a configuration error shows no bar
            self.progress.start()
            self.started = True
        match event:
            case Phase(text=text):
                self.progress.update(self.task, description=text)
            case Collected(total=total):
                self.progress.update(self.task, total=total, description="tests")
            case Started(nodeid=nodeid):
                self.progress.update(self.task, current=escape(_short(nodeid)))
            case TestFinished():
                self._test_finished(event)

    def _test_finished(self, event: TestFinished) -> None:
        """Count the test; a failure or harness error printed above the bar."""
        requirements = f"[dim]({escape(', '.join(event.requirements))})[/dim]"
        if event.outcome == "failed":
            self.failed += 1
            self.progress.console.print(
                f"[red]✗[/red] {escape(event.nodeid)} {requirements}", soft_wrap=True)
        elif event.outcome == "error":
            self.errors += 1
            self.progress.console.print(
                f"[magenta]![/magenta] {escape(event.nodeid)} [magenta]harness error"
                f"[/magenta] {requirements}", soft_wrap=True)
        failures = f"[red]{self.failed} failed[/red]" if self.failed else "[green]0 failed"
        if self.errors:
            failures += f" [magenta]{self.errors} error(s)[/magenta]"
        self.progress.update(self.task, advance=1, failures=failures)


def _print_requirement(verdict: RequirementVerdict, replay: str | None, note: str) -> None:
    """A failed or errored requirement: its tests that did not pass, and its replay."""
    requirement = verdict.requirement
    out.print(f"  [bold]{requirement.id}[/bold] {requirement.level} "
              f"{escape(requirement.title.en)}{note}", soft_wrap=True)
    for test in verdict.tests:
        if test.outcome in NOT_PASSED_OUTCOMES:
            message = (test.message or test.outcome).strip().splitlines()[0][:160]
            where = f" (error {PHASES[test.phase]})" \
                if test.outcome == "error" and test.phase in PHASES else ""
            out.print(f"    {escape(test.nodeid.split('::')[-1])}{where}: "
                      f"{escape(message)}", soft_wrap=True)
    out.print(f"    replay: {escape(replay or '')}", soft_wrap=True)


def _short(nodeid: str, width: int = 50) -> str:
    name = nodeid.split("::", 1)[-1]
    return name if len(name) <= width else name[: width - 1] + "…"


def print_summary(result: Certification, backend: str = "process") -> None:
    c = result.certificate
    counts = c["summary"]["verdicts"]
    if result.certified:
        out.print("[bold green]✓ Certified[/bold green]")
    elif result.exit_code == EXIT_INCONCLUSIVE:
        out.print("[bold magenta]? Could not judge: not certified[/bold magenta] (the harness "
                  "failed, not the system: see the errors below)")
    elif result.exit_code:
        out.print("[bold red]✗ Not certified[/bold red]")
    else:
        partial = c["scope"]["requirements"] is not None
        out.print("[bold yellow]● Passed, not certified[/bold yellow] (partial run)" if partial
                  else "[bold yellow]● Not certified[/bold yellow]")
    launch = c["target"]["launch"]
    defect = f", defect {launch['defect']}" if launch and launch["defect"] else ""
    out.print(f"  {escape(c['target']['name'])} at {c['target']['base_url']}{defect} · profile "
              f"{c['profile']['id']} · catalog {c['catalog']['version']} · seed {c['seed']} · "
              f"{c['duration_s']:.1f} s", soft_wrap=True)
    out.print("  requirements: " + " · ".join(f"{n} {v}" for v, n in counts.items()),
              soft_wrap=True)
    tests = c["summary"]["tests"]
    out.print("  tests: " + (" · ".join(f"{n} {k}" for k, n in sorted(tests.items()))
                             or "none ran"))
    for reason in c["summary"]["reasons"]:
        out.print(f"  [dim]{escape(reason)}[/dim]", soft_wrap=True)
    replays = {r["id"]: r["replay"] for r in c["requirements"]}
    verdicts = result.outcome.verdicts
    failing = [v for v in verdicts if v.verdict in (FAIL, EXPECTED_FAIL)]
    if failing:
        out.print("Failed:")
    for v in failing:
        note = " [yellow](expected by the baseline)[/yellow]" \
            if v.verdict == EXPECTED_FAIL else ""
        _print_requirement(v, replays.get(v.id), note)
    errored = [v for v in verdicts if v.verdict == ERROR]
    if result.harness_error:
        # Nothing ran: one reason and one command, not one per requirement.
        lines = result.harness_error.strip().splitlines()
        out.print("[magenta]The harness could not run the suites:[/magenta] "
                  + escape("\n  ".join(lines[:12])), soft_wrap=True)
        if len(lines) > 12:
            out.print(f"  [dim]… {len(lines) - 12} more line(s) in the report[/dim]")
        out.print(f"Run again: {escape(c['replay'])}", soft_wrap=True)
        errored = []
    if errored:
        out.print("Could not judge (harness errors, not failures of the system):")
    for v in errored:
        _print_requirement(v, replays.get(v.id), "")
    for rid in c["summary"]["stale_expectations"]:
        out.print(f"[red]Stale baseline entry:[/red] {rid} passes now; remove it from "
                  f"{escape(c['baseline']['file'])}", soft_wrap=True)
    out.print(f"Report:  {shown(result.index)}", soft_wrap=True)
    out.print(f"Verify:  meshcert verify {shlex.quote(shown(result.report_dir))}", soft_wrap=True)
    if result.kept_running and result.sim_run_dir:
        urls = ", ".join(f"{n} {u}" for n, u in result.kept_running.items())
        run = shlex.quote(shown(result.sim_run_dir))
        docker = (f" --backend docker --topology {run}/topology.yaml" if backend == "docker"
                  else "")
        out.print(f"Running: {urls}\nStop:    meshcert sim down --run-dir {run}{docker}",
                  soft_wrap=True)
