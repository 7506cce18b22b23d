"""What Hypothesis derives from code and Unicode, derived once and shared by every certification.

Hypothesis keeps two kinds of derived data in its storage directory: tables from Python's
Unicode database (the code points of each category; those a codec can encode) and the
constants found in each local module's source (file names are a hash of the source). Deriving
them costs seconds of CPU. Each certification gives its suites' pytest a storage directory of its
own (``pytest_run.pytest_env``), so each would derive them again: :func:`restore` copies the kept
data in before the run and :func:`keep` keeps what a run newly derived. Neither depends on the
run (the tables on the Python and Hypothesis versions, which name the cache folder; the
constants on the source they were read from), and nothing else is shared — no examples: the
example database is off in the ``meshcert-certify`` profile — so a run generates what it would
have generated without them.

The cache only saves time: what cannot be read or written is derived again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

# Hypothesis's folders of derived data, inside its storage directory.
DERIVED = ("unicode_data", "constants")


def cache_dir() -> Path:
    """Where the derived data is kept between runs: the user's cache folder
    (``$XDG_CACHE_HOME/meshcert/``, by default ``~/.cache/meshcert/``), never the folder a
    certification runs in — a certification writes nothing there but its report."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "meshcert" / f"hypothesis-{version('hypothesis')}-py{python}"


def restore(storage: Path, cache: Path | None = None) -> None:
    """Copy the kept data into Hypothesis storage directory ``storage`` (before a run)."""
    for name in DERIVED:
        kept = (cache or cache_dir()) / name
        with contextlib.suppress(OSError):
            if kept.is_dir():
                shutil.copytree(kept, storage / name, dirs_exist_ok=True)


def keep(storage: Path, cache: Path | None = None) -> None:
    """Keep what a run derived in ``storage`` and the cache does not have yet (after a run).
    Each file appears whole or not at all: certifications run side by side."""
    for name in DERIVED:
        made, kept = storage / name, (cache or cache_dir()) / name
        if not made.is_dir():
            continue
        for path in made.rglob("*"):
            destination = kept / path.relative_to(made)
            # Hypothesis's own half-written files start with a dot.
            if not path.is_file() or path.name.startswith(".") or destination.exists():
                continue
            with contextlib.suppress(OSError):
                destination.parent.mkdir(parents=True, exist_ok=True)
                handle, partial = tempfile.mkstemp(dir=destination.parent, prefix=".part-")
                os.close(handle)
                try:
                    shutil.copyfile(path, partial)
                    os.replace(partial, destination)
                finally:
                    Path(partial).unlink(missing_ok=True)
