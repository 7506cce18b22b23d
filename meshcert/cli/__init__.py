"""The ``meshcert`` command line: one module per command, assembled in :mod:`meshcert.cli.app`.

``meshcert = "meshcert.cli:main"`` (pyproject) and ``python -m meshcert.cli`` both start it."""

from meshcert.cli.app import app, main

__all__ = ["app", "main"]
