"""meshcert's errors: one base, :class:`MeshcertError`, carrying the command's exit status.

Every error meshcert raises for the user to act on derives from it, and each docstring says what
to do about it. The command line reports any of them in one place (the root command group,
meshcert.cli.usage_errors) as one line ``meshcert: error: <message>`` and exits with the error's
``exit_code``:

- 1: something broke while running (a simulator crashed or timed out, a container failed);
- 2: what was asked cannot run as given — a file, an option, a port (the user's to fix);
- 3: the harness could not judge (``EXIT_INCONCLUSIVE``): nothing was judged, and it is never
  the system's failure.

Errors of libraries while reading a file (YAML, the file system) become meshcert errors in one
place, :func:`map_exceptions`, so a message names the file and the problem, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import yaml

from meshcert_simulators.common.yaml_errors import yaml_error_line


class MeshcertError(Exception):
    """Base of meshcert's errors. Catch this to handle any of them; ``exit_code`` is the exit
    status the command line ends with."""

    exit_code: ClassVar[int] = 2


class ConfigError(MeshcertError, ValueError):
    """What was asked cannot run as given: fix the option or file the message names (a target,
    a defect, a busy port, an unusable signing key) and run again. Exit status 2."""


class HarnessError(MeshcertError, RuntimeError):
    """The harness itself could not run the certification, so nothing was judged: read the
    message and the simulators' logs in the report folder, fix the harness side (or report a
    bug), and run again. Exit status 3 (``EXIT_INCONCLUSIVE``), never the system's failure."""

    exit_code: ClassVar[int] = 3


@contextmanager
def map_exceptions(error: type[MeshcertError], where: str, *, missing: str = "no such file",
                   strerror: bool = False) -> Iterator[None]:
    """Turn the errors of reading a YAML file into ``error``, its message starting with
    ``where`` (a path, or an option and its path): a file that is not there (``missing`` says
    so), one that cannot be read (``strerror``: only the system's words, without errno and
    path), and YAML that does not parse (the line and the problem)."""
    try:
        yield
    except FileNotFoundError:
        raise error(f"{where}: {missing}") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = (getattr(exc, "strerror", None) or exc) if strerror else exc
        raise error(f"{where}: cannot read: {why}") from None
    except yaml.YAMLError as exc:
        raise error(f"{where}: not valid YAML: {yaml_error_line(exc)}") from None


__all__ = ["ConfigError", "HarnessError", "MeshcertError", "map_exceptions"]
