"""``meshcert harness up | down | status``: the harness side a vendor's system runs against,
started before certification, with what the system must trust and call
(meshcert/certify/harness_side.py).
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from meshcert.backends import processes
from meshcert.certify.harness import PROFILE_TOPOLOGIES
from meshcert.certify.harness_side import (
    VENDOR_TOPOLOGY,
    Plan,
    make_brief,
    plan,
    read_brief,
    start,
)
from meshcert.cli.console import err, fail, out, shown, start_simulators, uptime
from meshcert.cli.usage_errors import OneLineUsageErrors
from meshcert_simulators.common.topology import TopologyError, load_topology

Profile = Enum("Profile", {name: name for name in sorted(PROFILE_TOPOLOGIES)},
               type=str)

harness_app = typer.Typer(
    help="The harness side for a vendor's system: the simulators around it (issuer, mesh, "
         "J-LIS, counterpart provider — not the reference), on the fixed ports `meshcert "
         "certify` uses, and what your system must trust and call.\n\n"
         "Example: `meshcert harness up --profile mesh-inquirer --client-key my.public.jwk.json"
         "` then configure your system, then the `meshcert certify` line it prints.",
    no_args_is_help=True,
    cls=OneLineUsageErrors)  # also when invoked on its own: errors as one line

ProfileOption = Annotated[Profile | None, typer.Option(
    "--profile", "-p", show_default=False,
    help="The kind of system you certify. Example: --profile information-provider")]
TargetOption = Annotated[Path | None, typer.Option(
    "--target", metavar="FILE", show_default=False,
    help="Your target file (no 'launch'): fills in your URL, audience and institution, and "
         "the certify command. Example: --target my-provider.yaml")]
HarnessTopologyOption = Annotated[Path | None, typer.Option(
    "--topology", metavar="FILE", show_default=False,
    help="The profile topology to derive the vendor topology from (default: the profile's, "
         "fixtures/topologies/). Example: --topology my-ports.yaml")]
JsonOption = Annotated[bool, typer.Option(
    "--json", help="Print the brief as JSON on stdout instead of text (it is also written "
                   "to harness.json in the run folder).")]


def _plan_or_fail(profile: Profile | None, target: Path | None, topology: Path | None,
                  client_key: Path | None = None) -> Plan:
    # A HarnessSideError reaches the root command group: one line, exit status 2.
    return plan(profile.value if profile else None, target_path=target,
                topology_path=topology, client_key=client_key)


@harness_app.command("up")
def harness_up(
    profile: ProfileOption = None, target: TargetOption = None,
    topology: HarnessTopologyOption = None,
    client_key: Annotated[Path | None, typer.Option(
        "--client-key", metavar="FILE", show_default=False,
        help="Your system's public JWK, registered for the client it gets access tokens as "
             "(mesh-inquirer; default: the bundled demo key). "
             "Example: --client-key my-inquirer.public.jwk.json")] = None,
    as_json: JsonOption = False,
) -> None:
    """Start the harness side of a profile and print what your system must trust and call.

    Derives the vendor topology (the profile's, without the bundled reference, pointing at
    your system), makes the local CA, starts the simulators the profile surrounds your system
    with and waits for their GET /health, then prints the URLs, the CA file, the issuer and its
    JWKS, the audience and subject of the harness's calls, client ids and keys, where to
    register copies, and the `meshcert certify` line that uses exactly this.
    Already running with the same configuration: left as is.

    Example: `meshcert harness up --target my-provider.yaml`
    """
    chosen = _plan_or_fail(profile, target, topology, client_key)
    try:  # a ProcessError (exit 1) or Conflict (exit 2) reaches the root command group
        launched, brief = start(chosen, up=start_simulators)
    except OSError as exc:  # the run folder cannot be written
        fail(f"cannot write the run folder {shown(chosen.run_dir)}: {exc.strerror or exc}")
    if as_json:
        typer.echo(json.dumps(brief, ensure_ascii=False, indent=2))
        return
    _print_simulators(launched)
    for line in render(brief):
        typer.echo(line)


def _print_simulators(launched: list[processes.Launched]) -> None:
    table = Table(title="harness side", title_justify="left")
    for column in ("simulator", "URL", "pid", "state"):
        table.add_column(column, no_wrap=column == "URL")
    for item in launched:
        table.add_row(item.name, item.url, str(item.pid),
                      "already running" if item.already_running else "started")
    out.print(table)


def render(brief: dict[str, Any]) -> list[str]:
    """The brief as text: what a vendor configures, grouped by direction."""
    issuer = brief["issuer"]
    calls = brief["harness_calls_you"]
    lines = ["", "Trust",
             f"  CA file      {brief['ca_file']}  (the local CA; kept across down and up)",
             f"  issuer       {issuer['url']}  (the iss of every access token)",
             f"  JWKS         {issuer['jwks_url']}"
             + (f"  (as a file: {issuer['jwks_file']})" if issuer.get("jwks_file") else ""),
             f"  tokens       {issuer['algorithm']}, typ {issuer['token_type']}",
             f"  local HTTPS  optional: serve {brief['server_certificate']['cert']} with its key "
             f"{brief['server_certificate']['key']} "
             f"({', '.join(brief['server_certificate']['names'])}) and put "
             "`tls: {ca_file: run}` in your target",
             "", "The harness calls your system",
             f"  at           {calls['base_url'] or '<base_url of your target file>'}",
             f"  aud          {calls['audience'] or '<auth.audience of your target file>'}",
             f"  sub          {calls['subject']}  (client_id too)",
             f"  scopes       {' '.join(calls['scopes'])}",
             f"  contract     {calls['contract']}"]
    lines += [f"  {op}" for op in calls["operations"]]
    for call in brief["you_call"]:
        lines += ["", f"Your system calls {call['name']} at {call['url']}: {call['what']}",
                  f"  as client    {call['client_id']}"
                  + (f"  (institution {call['institution']})" if call.get("institution")
                     else ""),
                  f"  auth         {call['authentication']}"]
        if call.get("token"):
            lines.append(f"  token        {call['token']}")
        if call.get("audience"):
            lines.append(f"  audience     {call['audience']}  (resource of your token request)")
        if call.get("client_certificate"):
            cert = call["client_certificate"]
            lines.append(f"  mutual TLS   {cert['cert']} with {cert['key']}")
        lines += [f"  {op}" for op in call["operations"]]
        for rule in call.get("may_ask", ()):
            lines.append(f"  may ask      {rule['provider']}: procedure {rule['procedure_code']}"
                         f", item {rule['item_code']}")
        lines.append(f"  contract     {call['contract']}")
    for key in brief["register"]:
        lines += ["", "Registered keys",
                  f"  client {key['client_id']}: {key['public_jwk']}", f"  ({key['note']})"]
    lines += ["",
              f"Topology  {brief['topology']}",
              f"          (derived from {brief['derived_from']})",
              f"Brief     {Path(brief['run_dir']) / 'harness.json'}",
              f"Certify   {brief['certify']}",
              f"Stop      {brief['stop']}"]
    return lines


def _run_dir(profile: Profile | None, topology: Path | None) -> tuple[str, Path]:
    if profile is None:
        fail("give --profile (one of " + ", ".join(p.value for p in Profile) + ")")
    try:
        source = load_topology(topology or PROFILE_TOPOLOGIES[profile.value])
    except TopologyError as exc:
        fail(str(exc))
    return profile.value, processes.default_run_dir(source).resolve()


@harness_app.command("down")
def harness_down(profile: ProfileOption = None, topology: HarnessTopologyOption = None) -> None:
    """Stop the harness side of a profile (only the simulators started from its run folder).

    The local CA and the vendor topology stay, so your system keeps trusting the same CA.
    Example: `meshcert harness down --profile resident-registry`
    """
    _, run_dir = _run_dir(profile, topology)
    stopped = processes.down(run_dir)
    if not stopped:
        out.print(f"Nothing to stop: no pid files in {shown(run_dir)}")
    for item in stopped:
        out.print(f"{item.name} (pid {item.pid}): {item.outcome}")


@harness_app.command("status")
def harness_status(profile: ProfileOption = None, topology: HarnessTopologyOption = None,
                   as_json: JsonOption = False) -> None:
    """Show the harness side of a profile: each simulator's health, then the brief again.

    Exits 1 when it is not set up or a simulator is not healthy.
    Example: `meshcert harness status -p mesh-inquirer || meshcert harness up -p mesh-inquirer`
    """
    name, run_dir = _run_dir(profile, topology)
    vendor = run_dir / VENDOR_TOPOLOGY
    brief = read_brief(run_dir)
    if not vendor.is_file() or brief is None:
        fail(f"the harness side of {name} is not set up in {shown(run_dir)}: "
             f"meshcert harness up --profile {name}", code=1)
    try:
        rows = [r for r in processes.status(run_dir, load_topology(vendor))
                if r.name in brief["simulators"]]
    except TopologyError as exc:
        fail(str(exc))
    healthy = all(row.healthy for row in rows)
    if as_json:
        brief["health"] = {row.name: row.health for row in rows}
        typer.echo(json.dumps(brief, ensure_ascii=False, indent=2))
    else:
        table = Table(title=f"harness side of {name}, run folder {shown(run_dir)}",
                      title_justify="left")
        for column in ("simulator", "URL", "pid", "health", "uptime"):
            table.add_column(column, no_wrap=column == "URL")
        for row in rows:
            health = ("[green]healthy[/green]" if row.healthy
                      else f"[red]{escape(row.health)}[/red]")
            table.add_row(row.name, row.url, str(row.pid) if row.alive else "—", health,
                          uptime(row.uptime_s))
        out.print(table)
        for line in render(brief):
            typer.echo(line)
    if not healthy:
        err.print("not every simulator is healthy: meshcert harness down, then up")
        raise typer.Exit(1)


__all__ = ["harness_app", "make_brief", "render"]
