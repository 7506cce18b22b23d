"""``meshcert service``: declarative services — scaffold a definition folder, check it, list
them, regenerate a contract (meshcert_simulators/service/definition.py describes the format)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from meshcert.cli.console import fail, out, shown
from meshcert.cli.usage_errors import OneLineUsageErrors
from meshcert_simulators.service.check import check
from meshcert_simulators.service.contract import write
from meshcert_simulators.service.definition import (
    DEFINITION_FILE,
    SERVICES_DIR,
    DefinitionError,
    all_folders,
    folder_of,
    load,
)

service_app = typer.Typer(
    help="Declarative services: a provider of the mesh defined as one folder of data "
         "(service.yaml and its openapi.json), run by the simulator of kind `service`.\n\n"
         "Example: `meshcert service new gakko --dir my-services && "
         "meshcert service check my-services/gakko`",
    no_args_is_help=True,
    cls=OneLineUsageErrors)

TEMPLATE = """\
# {name}: a provider of the public service mesh, defined as data (see fixtures/services/ and
# meshcert_simulators/service/definition.py). Replace the assumed codes, items and rules, then
# run `meshcert service check` and `meshcert service contract` after each change.
service: 1
name: {name}
title: {{ja: {name}（名称）, en: {name} (title)}}
institution:
  code: chiyoda-{name}
  name: 千代田区 {name}担当
route: realtime                      # or copy: J-LIS answers from the copies it registers
variables:                           # per person, in order; rules read the population's
  income: "draw(0, 6000000, 1000) if age >= 18 else 0"   # age, sex, birth_year, is_head,
                                     # household_size, household_children, household_elderly
items:
  - code: TM99999999999901           # 特定個人情報名コード (assumed until the real one is known)
    key: status
    title: {{ja: {name}関係情報, en: {name} information}}
    assumed: true
    fields:
      eligible:
        type: boolean
        title: {{ja: 対象者である, en: Eligible}}
        rule: "age >= 18"
      amount:
        type: integer
        title: {{ja: 金額, en: Amount}}
        min: 0
        max: 1000000
        rule: "min(floor(income * 0.05, 100), 1000000) if eligible else 0"
legal_basis:
  - procedure_code: JT01030000000125
    procedure: {{ja: 給付金の支給に関する事務, en: Payment of a benefit}}
    inquirer: benefit-agency
    items: [TM99999999999901]
    valid_from: "2024-04-01"
    assumed: true
"""

PathsArgument = Annotated[list[Path] | None, typer.Argument(
    metavar="[PATH]...", help="Definition folders, or folders holding them; default "
                              "fixtures/services/")]


def _folders(paths: list[Path] | None) -> list[Path]:
    found: list[Path] = []
    for path in paths or [SERVICES_DIR]:
        path = folder_of(str(path))
        found += [path] if (path / DEFINITION_FILE).exists() or not path.is_dir() else (
            all_folders(path) or [path])
    return found


@service_app.command("new")
def new(name: Annotated[str, typer.Argument(help="The service's name: lower-case letters, "
                                                 "digits and hyphens. Example: gakko")],
        directory: Annotated[Path, typer.Option(
            "--dir", help="Where the folder NAME is made (default fixtures/services/)")]
        = SERVICES_DIR) -> None:
    """Scaffold a definition folder that passes `meshcert service check` as it is."""
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,30}", name):
        fail(f"{name!r} is not a service name: 2–31 lower-case letters, digits and hyphens, "
             "starting with a letter")
    folder = directory / name
    if folder.exists():
        fail(f"{shown(folder)} exists already")
    folder.mkdir(parents=True)
    (folder / DEFINITION_FILE).write_text(TEMPLATE.format(name=name), encoding="utf-8")
    write(load(folder))
    out.print(f"created {escape(shown(folder))}/ ({DEFINITION_FILE}, openapi.json); edit it, "
              f"then `meshcert service check {escape(shown(folder))}`")


@service_app.command("check")
def check_command(paths: PathsArgument = None) -> None:
    """Validate definitions: exit 0, or exit 2 listing every problem with its file and field."""
    folders = _folders(paths)
    problems = [p for folder in folders for p in check(folder)]
    if problems:
        fail("\n".join([f"{len(problems)} problem(s):", *(f"  {p}" for p in problems)]))
    out.print(f"{len(folders)} service definition(s) valid: "
              f"{', '.join(escape(f.name) for f in folders)}")


@service_app.command("contract")
def contract_command(paths: PathsArgument = None) -> None:
    """Rewrite each definition's openapi.json from its service.yaml (review the diff)."""
    for folder in _folders(paths):
        try:
            written = write(load(folder))
        except DefinitionError as exc:
            fail("\n".join([f"{len(exc.problems)} problem(s):",
                            *(f"  {p}" for p in exc.problems)]))
        out.print(f"wrote {escape(shown(written))}")


@service_app.command("list")
def list_command(paths: PathsArgument = None) -> None:
    """One line per definition: name, title, route, institution, items."""
    table = Table("name", "title", "route", "institution", "items")
    for folder in _folders(paths):
        try:
            d = load(folder).definition
        except DefinitionError:
            table.add_row(escape(folder.name), "[red]invalid: meshcert service check[/]",
                          "", "", "")
            continue
        table.add_row(d.name, f"{d.title.ja} ({d.title.en})", d.route, d.institution.code,
                      ", ".join(f"{i.code} {i.title.ja}" for i in d.items))
    out.print(table)
