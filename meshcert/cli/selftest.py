"""``meshcert selftest``: certify the reference, then each defective variant; print the
detection matrix."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from meshcert.catalog.requirements import Catalog
from meshcert.certify.selftest import (
    DEFAULT_SEED,
    Selftest,
    SelftestError,
    Variant,
    plan_selftest,
    planned_defects,
    profiles_with_reference,
    run_planned,
)
from meshcert.cli.console import err, fail, out, shown

ALL = "all"


def selftest(
    profile: Annotated[str, typer.Option(
        "--profile", "-p", help="Profile whose reference and defects to run, or 'all': every "
        "profile with a bundled reference. Example: --profile mesh-inquirer")] = ALL,
    defect: Annotated[list[str] | None, typer.Option(
        "--defect", metavar="ID", help="Only these defects (repeatable; with one --profile); "
        "the reference always runs. Example: --defect ignore-audience")] = None,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", min=1, max=16, help="Certifications run side by side. "
        "Example: --jobs 2")] = 2,
    seed: Annotated[int, typer.Option(
        "--seed", min=0, help="Hypothesis seed for every variant (fixed by default, so a "
        "selftest repeats exactly). Example: --seed 7")] = DEFAULT_SEED,
    reference: Annotated[Path | None, typer.Option(
        "--reference", metavar="TARGET", help="Run the defects against this reference instead "
        "of the bundled one: a target file of the --profile with 'launch' (e.g. a defined "
        "service's). Example: --reference fixtures/vendors/reference-service-kokuho.yaml")
    ] = None,
) -> None:
    """Prove the suites can fail: certify the bundled reference (everything must pass), then
    the reference with each defect (its requirement must fail, nothing else may).

    Prints the detection matrix of each profile and exits 0 only when every reference passes,
    every defect is detected and no defect trips an unrelated requirement.
    Example: `meshcert selftest -j 2` (every profile), `meshcert selftest -p resident-registry`,
    `meshcert selftest -p information-provider --reference
    fixtures/vendors/reference-service-kokuho.yaml`
    """
    from meshcert.catalog.requirements import load_catalog

    try:
        catalog = load_catalog()
        profiles = _profiles(catalog, profile)
        if defect and len(profiles) > 1:
            raise SelftestError("--defect names defects of one profile: give --profile too")
        if reference is not None and profile == ALL:
            raise SelftestError("--reference is the reference of one profile: give --profile "
                                "too")
        totals = {p: 1 + len(planned_defects(catalog, p, defect)) for p in profiles}
    except (SelftestError, ValueError) as exc:
        fail(str(exc))
    started = time.perf_counter()
    try:
        plans = [plan_selftest(name, only=defect, seed=seed, reference=reference)
                 for name in profiles]
    except SelftestError as exc:
        fail(str(exc))
    # One pool for every profile: a slot freed by one profile's last variant takes another's.
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        task = progress.add_task("selftest", total=sum(totals.values()))

        def done(name: str, variant: Variant) -> None:
            progress.advance(task)
            mark = "[green]ok[/green]" if variant.ok else "[red]NOT OK[/red]"
            progress.console.print(f"  {name}: {variant.defect or 'reference'}: {mark}")

        results = run_planned(plans, jobs=jobs, on_done=done)
    good = total = 0
    for name in profiles:
        passed = _print_profile(results[name])
        good, total = good + passed, total + totals[name]
    if len(profiles) > 1:
        out.print(f"profiles: {', '.join(profiles)} · {time.perf_counter() - started:.0f} s")
    # The plain closing line CI systems read: one line, counts only.
    out.print(f"selftest: {good} passed, {total - good} failed", highlight=False)
    raise typer.Exit(0 if all(r.ok for r in results.values()) else 1)


def _profiles(catalog: Catalog, profile: str) -> list[str]:
    """The profiles to run: one by name, or every profile of the catalog with a reference."""
    if profile != ALL:
        if profile not in catalog.profiles:
            raise SelftestError(f"catalog {catalog.version} has no profile {profile!r} (it has: "
                                f"{', '.join(sorted(catalog.profiles))})")
        return [profile]
    return profiles_with_reference(catalog)


def _print_profile(result: Selftest) -> int:
    """Print one profile's detection matrix and summary; returns its variants that were ok."""
    out.print(f"[bold]profile {result.profile}[/bold]")
    out.print(_matrix(result.reference, result.variants))
    unrelated_lines = _unrelated(result.reference, result.variants)
    if unrelated_lines:
        out.print("[yellow]unrelated failures (a defect must trip only its requirement; the "
                  "reference none):[/yellow]")
        for line in unrelated_lines:
            out.print(line, soft_wrap=True)
    musts = result.must_variants
    detected = sum(v.detected for v in musts)
    inconclusive = [v.defect for v in result.variants if v.inconclusive]
    unrelated = sum(bool(v.unrelated or v.unrelated_errors) for v in result.variants)
    variants = (result.reference, *result.variants)
    busy = sum(v.seconds for v in variants)
    out.print(f"reference: {'all requirements pass' if result.reference.ok else 'NOT clean'}"
              f" · MUST detection {detected}/{len(musts)} ({result.detection_rate:.0%})"
              + (f" · inconclusive (the harness could not judge): {len(inconclusive)}"
                 if inconclusive else "") +
              f" · defects with unrelated failures: {unrelated}"
              f" · {busy:.0f} s of certifications, seed {result.seed}")
    if result.target is not None:
        out.print(f"reference target: {shown(result.target)}")
    out.print(f"reports: {shown(result.report_dir)}/ (selftest.json, one report per variant)")
    return sum(v.ok for v in variants)


def _matrix(reference: Variant, variants: tuple[Variant, ...]) -> Table:
    table = Table(title="detection matrix", title_justify="left")
    for column in ("defect", "must trip", "level", "its verdict", "result"):
        table.add_column(column, no_wrap=True)
    for v in (reference, *variants):
        if v.defect is None:
            table.add_row("(reference)", "—", "—", "—", _result(v))
        else:
            table.add_row(v.defect, v.requirement or "—", v.level or "—",
                          v.error or v.verdicts.get(v.requirement or "", "—"), _result(v))
    return table


def _unrelated(reference: Variant, variants: tuple[Variant, ...]) -> list[str]:
    """One line per variant that failed requirements it should not have."""
    lines = [f"  (reference) fails {', '.join(reference.failed)}"] if reference.failed else []
    if reference.errored:
        lines.append(f"  (reference) could not be judged on {', '.join(reference.errored)} "
                     "(harness errors)")
    lines += [f"  {v.defect} also fails {', '.join(v.unrelated)}"
              for v in variants if v.unrelated]
    lines += [f"  {v.defect} also errors on {', '.join(v.unrelated_errors)} (harness errors)"
              for v in variants if v.unrelated_errors]
    lines += [f"  {v.defect or '(reference)'}: {', '.join(v.not_reproduced)} failed once, "
              "passed when certified again alone (not reproduced: the machine's load)"
              for v in (reference, *variants) if v.not_reproduced]
    return lines


def _result(v: Variant) -> str:
    if v.ok:
        return "[green]ok[/green]" if v.defect is None else "[green]detected[/green]"
    if v.error:
        return f"[red]{v.error}[/red]"
    if v.defect is None:
        return "[magenta]inconclusive (harness errors)[/magenta]" \
            if v.errored and not v.failed else "[red]reference fails[/red]"
    if v.inconclusive:
        return "[magenta]inconclusive (its requirement errored)[/magenta]"
    if not v.detected:
        return "[red]missed[/red]"
    return f"[yellow]too broad ({len(v.unrelated) + len(v.unrelated_errors)})[/yellow]"
