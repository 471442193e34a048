"""What a dataset reader yields and what a scrub decides about it.

Readers know formats, not screening; the job knows screening, not formats. ``Item`` is the
hand-over between the two, so a new format is one module under ``batch/formats``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

Media = tuple[str, bytes | Path]
"""A named piece of media: bytes, or the path of a file screened where it lies."""


def unreadable(path: Path) -> str | None:
    """Why a media file named by a dataset cannot be screened where it lies, or None when it can: a
    folder, a device or a pipe (opening one could hang) is no media, nor is a file this process may
    not read. It is not opened here: a reader runs before a worker notes which record it screens
    (``batch/flight``), and a file that kills whoever opens it must be opened only after that note,
    or the death is blamed on the record before it. A file that fails on opening is reported by the
    screening (``review`` with the error)."""
    if not path.is_file():
        return "not a regular file" if path.exists() else "not found (deleted since the dataset was listed?)"
    return None if os.access(path, os.R_OK) else "permission denied"


@dataclass
class Item:
    """One dataset record: a key, its media (none, one, or several: a tar sample may hold a clip
    and its thumbnail, and every one is screened) and an optional caption/prompt."""

    key: str
    media: tuple[Media, ...] = ()
    caption: str | None = None
    error: str | None = None  # a reader problem (unreadable member, bad caption file)


@dataclass(frozen=True)
class Shard:
    """The unit of work and of checkpointing: one file, tar shard or folder chunk."""

    id: str  # stable and filesystem-safe; orders the manifest
    source: str  # what the format module needs to read it (a path, a row range)
    attempt: int = 0  # worker processes that died on it so far (``batch/flight``)
