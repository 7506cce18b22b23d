"""``meshcert ui``: the web console — runs, history, trends, comparisons, and certification
from the browser (meshcert/console/)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshcert.backends.processes import port_problem
from meshcert.certify.plan import REPORTS_OUT
from meshcert.cli.console import fail, out
from meshcert_simulators.fixtures import fixture_path

DEFAULT_DB = Path(".meshcert") / "console.sqlite"


def ui_command(
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on. The console starts certifications: keep it on "
                       "loopback unless you mean others to.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                      help="Port to listen on.")] = 8765,
    reports: Annotated[list[Path] | None, typer.Option(
        "--reports", metavar="DIR", show_default=False,
        help="A further folder of run folders to index (repeatable); reports/out/ always is. "
             "Example: --reports ci/reports")] = None,
    targets: Annotated[list[Path] | None, typer.Option(
        "--targets", metavar="DIR", show_default=False,
        help="A further folder of target files to offer for certification (repeatable); "
             "fixtures/vendors/ always is.")] = None,
    out_dir: Annotated[Path, typer.Option(
        "--out", metavar="DIR", help="Where certifications started from the browser write "
                                     "their report folders.")] = REPORTS_OUT,
    db: Annotated[Path, typer.Option("--db", metavar="FILE",
                                     help="The console's SQLite index.")] = DEFAULT_DB,
) -> None:
    """Serve the web console: every run under reports/out/ (and --reports folders) indexed,
    filterable, with trends, flaky requirements, comparisons, differential testing, and
    certifications started from the browser with live progress.

    Example: `meshcert ui --port 8765` then open http://127.0.0.1:8765/
    """
    import uvicorn

    from meshcert.console.app import Settings, create_app

    for folder in [*(reports or []), *(targets or [])]:
        if not folder.is_dir():
            fail(f"{folder}: no such folder")
    roots = [REPORTS_OUT, out_dir, *(reports or [])]
    settings = Settings(db=db, roots=list(dict.fromkeys(roots)), out_dir=out_dir,
                        target_dirs=[fixture_path("vendors"), *(targets or [])])
    problem = port_problem(host, port)  # uvicorn would log it and exit 1: one line, exit 2
    if problem:
        fail(problem)
    out.print(f"meshcert console: http://{host}:{port}/  (Ctrl-C stops it)", soft_wrap=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
