"""Rebuild ``src/clearance/data/english_words.txt.gz`` from SCOWL as Debian ships it.

    apt-get install wamerican && python scripts/build_english_words.py

Keeps every entry of ``/usr/share/dict/american-english`` without an apostrophe, as spelt there
(lower case for ordinary words, capitalised for proper names); see ``english_words.md``.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

SOURCE = Path("/usr/share/dict/american-english")
TARGET = Path(__file__).resolve().parents[1] / "src" / "clearance" / "data" / "english_words.txt.gz"


def main() -> int:
    if not SOURCE.exists():
        print(f"{SOURCE} is missing: apt-get install wamerican", file=sys.stderr)
        return 1
    words = sorted({w for w in SOURCE.read_text(encoding="utf-8").split() if "'" not in w})
    with gzip.GzipFile(TARGET, "wb", mtime=0) as out:  # mtime 0: the same bytes on every rebuild
        out.write(("\n".join(words) + "\n").encode("utf-8"))
    print(f"{len(words)} words -> {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
