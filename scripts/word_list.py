"""Write a sorted word list as the gzipped package data the dictionaries read (``build_*.py``)."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path


def write_word_list(target: Path, words: Iterable[str]) -> int:
    """One word a line, sorted; mtime 0 so a rebuild from the same source gives the same bytes."""
    ordered = sorted(set(words))
    with gzip.GzipFile(target, "wb", mtime=0) as out:
        out.write(("\n".join(ordered) + "\n").encode("utf-8"))
    print(f"{len(ordered)} words -> {target}")
    return len(ordered)
