"""Files replaced atomically, also when several processes write the same one at once.

A home is shared by every process that opens it (server workers, scrub workers and Ray actors,
CLI calls), and they may all build and save the same cache at the same moment. Each writer
gets a temporary file of its own beside the target (a unique name: with a fixed one, a writer
renamed another's file away and failed, as seen in a Ray scrub) and renames it over the target
once complete, so readers see the old file or the new one, never part of one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO


def remove_others(kept: Path, *patterns: str) -> None:
    """Remove the files beside ``kept`` that match ``patterns`` (other versions or states of one
    cache), keeping ``kept``: written anew, the old ones are never read again."""
    for pattern in patterns:
        for old in kept.parent.glob(pattern):
            if old != kept:
                old.unlink(missing_ok=True)


@contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write; it replaces ``path`` when the block ends without an error (and is
    removed when it raises). Created with the usual permissions (0666 less the umask), as a file
    written in place would be: other users of a shared home read what one user built."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
