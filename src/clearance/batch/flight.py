"""Which record a worker process was screening when it died, so that the next try leaves it out.

A record that crashes native code every time (a decoder's segfault, an allocation the kernel's
out-of-memory killer answers) kills every worker process that screens it. The local engine tells
a shard's worker how many workers died on it before (``Shard.attempt``). A first try screens as
usual, several records at a time. A retry screens one record at a time and writes each record's
position in the shard to the shard's flight log before screening it, so a death leaves the
culprit on the log's last line; later tries leave the records so blamed out, as ``review``
rows with an error, and screen the rest. Each run of a job starts with no logs, so a job killed as a
whole (``kill -9``, then ``--resume``) blames no record.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from clearance.batch.items import Item, Shard
from clearance.verdict import Verdict

if TYPE_CHECKING:
    from clearance.screening import Screener

SCREENED = "screened"
"""A log's last line once every record was screened: a death after it blames no record."""
LEFT_OUT = ("left out unscreened: screening it killed the worker process (a crash in native code, "
            "or out of memory)")


def clear(folder: Path) -> None:
    """Start a run with no flight logs (see module docstring)."""
    shutil.rmtree(folder, ignore_errors=True)


class FlightLog:
    """The flight logs of one shard, in ``folder``: one file per retry."""

    def __init__(self, folder: Path, shard: Shard) -> None:
        self.folder = folder
        self.shard = shard

    def _path(self, attempt: int) -> Path:
        return self.folder / f"{self.shard.id}.{attempt}"

    def blamed(self) -> set[int]:
        """Positions of the records that earlier retries of this shard died screening."""
        blamed = set()
        for attempt in range(1, self.shard.attempt):
            path = self._path(attempt)
            lines = path.read_text().split() if path.exists() else []
            if lines and lines[-1] != SCREENED:
                blamed.add(int(lines[-1]))
        return blamed

    def screen(self, screener: Screener, items: Iterable[Item]) -> Iterator[Verdict]:
        """The verdicts of ``items`` in order: all at once on a first try, one by one on a retry."""
        if self.shard.attempt == 0:
            yield from screener.screen_items(items)
            return
        blamed = self.blamed()
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._path(self.shard.attempt).open("w") as log:
            for position, item in enumerate(items):
                log.write(f"{position}\n")
                log.flush()  # in the kernel's hands: it outlives the process
                yield from screener.screen_items([Item(item.key, error=LEFT_OUT) if position in blamed else item])
            log.write(f"{SCREENED}\n")
