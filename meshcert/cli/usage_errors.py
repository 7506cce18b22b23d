"""Errors as one line: ``meshcert: error: ...`` on stderr, and the error's exit status.

This is the one place the command line reports errors that reach it: a usage error of click
(exit status 2) and any :class:`meshcert.errors.MeshcertError` (its ``exit_code``).

click (through typer) reports a usage error — an unknown option, a value of the wrong type or
out of range, a missing option, an unknown command — as a usage box of six to eight lines.
Every other user error of meshcert is one line (meshcert.cli.console.fail), so these are too, with
where to read more. ``--help`` keeps its rich layout: only the error path changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

# typer (0.29, pinned) carries its own copy of click: its exceptions, not the click package's.
from typer._click.core import Context
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

from meshcert.errors import MeshcertError


def one_line(error: ClickException) -> str:
    """The error's message on one line, naming the help to read."""
    message = " ".join(error.format_message().split())
    ctx = getattr(error, "ctx", None)
    if ctx is not None:
        message += f" (see: {ctx.command_path} --help)"
    return f"meshcert: error: {message}"


@contextmanager
def _as_one_line() -> Iterator[None]:
    try:
        yield
    except NoArgsIsHelpError:
        raise  # a command given without arguments shows its help, as before
    except ClickException as error:
        typer.echo(one_line(error), err=True)
        raise typer.Exit(error.exit_code) from None
    except MeshcertError as error:  # raised below a command and not handled there
        typer.echo(f"meshcert: error: {error}", err=True)
        raise typer.Exit(error.exit_code) from None


class OneLineUsageErrors(TyperGroup):
    """The root command group: usage errors and meshcert's errors of any (sub)command are one
    line (module doc).

    Parsing the root's own options happens in ``make_context``; every subcommand is resolved,
    parsed and run inside the root's ``invoke``."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: Context | None = None, **extra: Any) -> Context:
        with _as_one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Context) -> Any:
        with _as_one_line():
            return super().invoke(ctx)
