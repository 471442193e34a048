"""One batch job at a time per output: a scrub's manifest, a sweep's quarantine folder.

Two runs writing the same checkpoints or the same ledger (a job started twice by hand, or
re-launched by a scheduler while the first is still running) would screen the same shards
twice, truncate each other's lists and race to move the same files. Each job therefore holds
an exclusive ``flock`` on a lock file beside what it writes, for as long as it runs. The
kernel drops the lock when the holder exits, however it exits, so a run killed with
``kill -9`` never leaves a stale lock behind and ``--resume`` can start at once.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class JobBusyError(RuntimeError):
    """Another running job holds the lock."""


@contextmanager
def held(lock_file: Path, job: str) -> Iterator[None]:
    """Hold ``lock_file`` (in a folder that exists) for the body, or raise ``JobBusyError`` at once if
    another process holds it."""
    with lock_file.open("a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise JobBusyError(f"another {job} is running on this output ({holder}, lock {lock_file}); "
                               "wait for it to finish or stop it, then use --resume") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
