"""``meshcert verify``: check a report's signature and the hash of every file it lists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshcert.certify.plan import REPORTS_OUT
from meshcert.cli.console import fail, out, shown
from meshcert.reports.certificate import UnreadableReport, verify_report


def verify_command(
    report: Annotated[Path, typer.Argument(
        metavar="DIR", show_default=False,
        help="A report folder (or a run id under reports/out/). "
             "Example: reports/out/20261126T101500Z-3fa2c1")],
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", metavar="FILE", show_default=False,
        help="The signer's public key (PEM) to check against. Without it the report's own "
             "signing-key.pub.pem is used, which proves integrity but not who signed.")] = None,
) -> None:
    """Verify a certification report: the Ed25519 signature over certificate.json and the
    SHA-256 of every file it lists. Names each file that was altered, is missing or was added.

    Exit 0 valid, 1 invalid, 2 unreadable. Example: `meshcert verify reports/out/RUN`
    """
    folder = report
    if not folder.is_dir() and (REPORTS_OUT / str(report)).is_dir():
        folder = REPORTS_OUT / str(report)
    try:
        result = verify_report(folder, public_key)
    except UnreadableReport as exc:
        fail(str(exc))
    where = shown(folder)
    key = f"{result.key_fingerprint} ({result.key_source})"
    if result.valid:
        out.print(f"[green]valid[/green]: {where}: signature over certificate.json verifies "
                  f"with Ed25519 {key}; {result.checked} listed files match their SHA-256",
                  soft_wrap=True)
        return
    out.print(f"[red]invalid[/red]: {where}", soft_wrap=True)
    if not result.signature_valid:
        out.print(f"  signature: certificate.json does not verify with Ed25519 {key} "
                  "(certificate.json or its signature was altered, or another key signed it)",
                  soft_wrap=True)
    for label, names in (("altered", result.altered), ("missing", result.missing),
                         ("added", result.added)):
        for name in names:
            out.print(f"  {label}: {name}", soft_wrap=True)
    raise typer.Exit(1)
