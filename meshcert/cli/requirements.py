"""``meshcert requirements``: read the catalog, trace it to tests and defects, compare versions."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from meshcert.catalog.coverage import coverage
from meshcert.catalog.requirements import (
    DEFAULT_VERSION,
    Catalog,
    CatalogError,
    Requirement,
    diff_catalogs,
    load_catalog,
)
from meshcert.cli.console import fail, out
from meshcert.cli.usage_errors import OneLineUsageErrors

requirements_app = typer.Typer(
    help="The requirement catalog: list, show, trace to tests and defects, compare versions.\n\n"
         "Example: `meshcert requirements coverage --missing`",
    no_args_is_help=True,
    cls=OneLineUsageErrors)  # also when invoked on its own: errors as one line

CatalogOption = Annotated[str, typer.Option(
    "--catalog", "-c", metavar="VERSION|FILE",
    help="Catalog version under fixtures/requirements/ or a catalog file. "
         "Example: --catalog 2026.1")]
ProfileOption = Annotated[str | None, typer.Option(
    "--profile", "-p", metavar="NAME",
    help="Only this profile's requirements. Example: --profile resident-registry")]
LEVEL_STYLE = {"MUST": "bold", "SHOULD": "default", "MAY": "dim"}


# A CatalogError (exit 2) or CollectionError (exit 1) reaches the root command group, which
# reports it as one line.


def _catalog(source: str) -> Catalog:
    return load_catalog(source)


def _selected(catalog: Catalog, profile: str | None) -> tuple[Requirement, ...]:
    if profile is None:
        return catalog.requirements
    return catalog.for_profile(profile)


@requirements_app.command("list")
def list_requirements(catalog: CatalogOption = DEFAULT_VERSION,
                      profile: ProfileOption = None,
                      level: Annotated[str | None, typer.Option(
                          "--level", help="Only MUST, SHOULD or MAY. Example: --level MUST")
                      ] = None) -> None:
    """One line per requirement: id, level, profiles, title.

    Example: `meshcert requirements list --profile resident-registry --level MUST`
    """
    found = _catalog(catalog)
    table = Table(title=f"catalog {found.catalog} {found.version} ({found.published})",
                  title_justify="left")
    for column in ("id", "level", "profiles", "title"):
        table.add_column(column, no_wrap=column != "title")
    rows = [r for r in _selected(found, profile) if level is None or r.level == level.upper()]
    for r in rows:
        table.add_row(r.id, f"[{LEVEL_STYLE[r.level]}]{r.level}[/]", ", ".join(r.profiles),
                      f"{r.title.ja} — {r.title.en}")
    out.print(table)
    out.print(f"{len(rows)} requirement(s)")


@requirements_app.command("show")
def show(requirement_id: Annotated[str, typer.Argument(metavar="ID")],
         catalog: CatalogOption = DEFAULT_VERSION) -> None:
    """Everything the catalog says about one requirement.

    Example: `meshcert requirements show SEC-AUTH-002`
    """
    found = _catalog(catalog)
    try:
        r = found.get(requirement_id.upper())
    except CatalogError as exc:
        fail(str(exc))
    out.print(f"[bold]{r.id}[/bold]  {r.level}  (catalog {found.version})")
    out.print(f"  {r.title.ja}\n  {r.title.en}")
    out.print(f"\n{r.text}\n")
    out.print(f"profiles  {', '.join(r.profiles)}")
    out.print(f"basis     [{r.basis.kind}] {r.basis.ref}")
    if r.basis.note:
        out.print(f"          {r.basis.note}")
    if r.target:
        t = r.target
        out.print(f"target    p{t.percentile} {t.metric} ≤ {t.threshold:g} ({t.load})")
    out.print(f"defect    {r.defect or '—'}")


@requirements_app.command("coverage")
def show_coverage(catalog: CatalogOption = DEFAULT_VERSION, profile: ProfileOption = None,
                  missing: Annotated[bool, typer.Option(
                      "--missing", help="Only MUST requirements without a test or a working "
                      "defect; prints nothing and exits 0 when there are none, exits 1 "
                      "otherwise. Example: --missing")] = False) -> None:
    """Each requirement with the tests that verify it and the defect that must trip them.

    Tests are found by their `@pytest.mark.requirement` marker (pytest collection; nothing
    runs). Example: `meshcert requirements coverage --profile resident-registry`
    """
    found = _catalog(catalog)
    if profile:
        _selected(found, profile)
    rows = coverage(found, profile)
    if missing:
        gaps = [row for row in rows if row.requirement.level == "MUST" and not row.complete]
        for row in gaps:
            out.print(f"{row.requirement.id}: {'; '.join(row.problems)}", markup=False)
        raise typer.Exit(1 if gaps else 0)
    out.print(f"[bold]coverage of catalog {found.version}[/bold]")
    for row in rows:
        r = row.requirement
        status = ("[green]ok[/green]" if row.complete
                  else f"[red]{escape('; '.join(row.problems))}[/red]")
        out.print(f"{r.id}  {r.level}  defect {r.defect or '—'}  {status}")
        for test in row.tests:
            out.print(f"    {test}", soft_wrap=True, markup=False)
    must = [r for r in rows if r.requirement.level == "MUST"]
    out.print(f"MUST requirements with tests and a defect: {sum(r.complete for r in must)} "
              f"of {len(must)}")


@requirements_app.command("diff")
def diff(old: Annotated[str, typer.Argument(metavar="OLD", help="version or file")],
         new: Annotated[str, typer.Argument(metavar="NEW", help="version or file")],
         profile: ProfileOption = None) -> None:
    """What changed between two catalog versions, and which requirements a certified vendor
    must re-run (with --profile, only those of that kind of system).
    Example: `meshcert requirements diff 2026.1 2026.2 --profile resident-registry`
    """
    before, after = _catalog(old), _catalog(new)
    result = diff_catalogs(before, after, profile)
    scope = f" (profile {profile})" if profile else ""
    out.print(f"catalog {result.old} → {result.new}{scope}")
    for name in sorted(after.profiles.keys() - before.profiles.keys()):
        if profile not in (None, name):
            continue
        out.print(f"  [green]+ profile {name}[/green]  {after.profiles[name].title.en}")
    for rid in result.added:
        out.print(f"  [green]+ {rid}[/green]  {after.get(rid).title.en}")
    for rid in result.removed:
        out.print(f"  [red]- {rid}[/red]  {before.get(rid).title.en}")
    for change in result.changed:
        out.print(f"  [yellow]~ {change.id}[/yellow]  changed: {', '.join(change.fields)}")
    if not (result.added or result.removed or result.changed):
        out.print("  no differences")
        return
    rerun = result.to_rerun
    if rerun:
        flags = " ".join(f"--requirement {rid}" for rid in rerun)
        out.print(f"\nA system certified against {result.old} re-runs {len(rerun)} "
                  f"requirement(s):\n  meshcert certify --target TARGET {flags}")
    else:
        out.print("\nNo obligation changed (titles or bases only): nothing to re-run.")


