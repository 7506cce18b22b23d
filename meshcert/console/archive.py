"""A report folder as one zip file: every file under one top folder named after the run, so
that unpacked, ``meshcert verify <run folder>`` checks it as it was written."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


def zip_report(folder: Path) -> bytes:
    """The zip of ``folder`` (files only, symbolic links skipped: a report has none)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()
