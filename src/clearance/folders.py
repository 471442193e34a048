"""Folders Clearance makes for its state (a home, a quarantine), and why it could not.

A path given by mistake (a file where a folder belongs, a place this user may not write) got a
``FileExistsError`` or ``PermissionError`` traceback; each caller now says what the folder was
for, with this reason, in an error of its own.
"""

from __future__ import annotations

from pathlib import Path


def make_folder(path: Path) -> str | None:
    """Create ``path`` and its parents; None once it is a folder, else why it cannot be one."""
    if path.exists() and not path.is_dir():
        return "it is a file, not a folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None
