"""Paths that are not what they were given for, and why: said the same way everywhere.

A path given by mistake (a file where a folder belongs, a place this user may not write) got a
``FileExistsError`` or ``PermissionError`` traceback; each caller now says what the folder was
for, with this reason, in an error of its own. A folder given where a file belongs was called
"file not found" by the registry import (a QA pass, 2026-12-08), though it exists.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from clearance.safe_text import printable


def make_folder(path: Path) -> str | None:
    """Create ``path`` and its parents; None once it is a folder, else why it cannot be one."""
    if path.exists() and not path.is_dir():
        return "it is a file, not a folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def writable_folder(path: Path) -> str | None:
    """``make_folder``, and a file can be made in it (the process's permissions, an immutable or
    read-only folder, which ``os.access`` misjudges for root): a job's output folder is checked
    before the work, which until 2026-12-08 ended with a traceback once every record was screened."""
    if problem := make_folder(path):
        return problem
    try:
        tempfile.TemporaryFile(dir=path).close()
    except OSError as exc:
        return f"cannot write there: {exc.strerror or exc}"
    return None


def cannot_write(exc: OSError) -> str:
    """Why a job stopped on a file of its own it could not write (a ledger, a lock, a checkpoint),
    and that the same command finishes it: what it did before is noted there."""
    where = f"{printable(str(exc.filename))}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}; nothing done is lost: run the same command again once it can write there"


def not_a_file(path: Path) -> str:
    """Why ``path``, which is not a regular file, cannot be read as one: missing, or something else."""
    return f"{'not a regular file' if path.exists() else 'file not found'}: {path}"
