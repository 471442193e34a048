"""What a dataset reader yields and what a scrub decides about it.

Readers know formats, not screening; the job knows screening, not formats. ``Item`` is the
hand-over between the two, so a new format is one module under ``batch/formats``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Item:
    """One dataset record: a key, optional media (bytes, or the path of a file screened where it
    lies) and an optional caption/prompt."""

    key: str
    media: bytes | Path | None = None
    media_name: str | None = None
    caption: str | None = None
    error: str | None = None  # a reader problem (unreadable member, bad caption file)


@dataclass(frozen=True)
class Shard:
    """The unit of work and of checkpointing: one file, tar shard or folder chunk."""

    id: str  # stable and filesystem-safe; orders the manifest
    source: str  # what the format module needs to read it (a path, a row range)
