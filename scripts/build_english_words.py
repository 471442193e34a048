"""Rebuild ``src/clearance/data/english_words.txt.gz`` from SCOWL as Debian ships it.

    apt-get install wamerican && python scripts/build_english_words.py

Keeps every entry of ``/usr/share/dict/american-english`` without an apostrophe, as spelt there
(lower case for ordinary words, capitalised for proper names); see ``english_words.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from word_list import write_word_list

SOURCE = Path("/usr/share/dict/american-english")
TARGET = Path(__file__).resolve().parents[1] / "src" / "clearance" / "data" / "english_words.txt.gz"


def main() -> int:
    if not SOURCE.exists():
        print(f"{SOURCE} is missing: apt-get install wamerican", file=sys.stderr)
        return 1
    write_word_list(TARGET, (w for w in SOURCE.read_text(encoding="utf-8").split() if "'" not in w))
    return 0


if __name__ == "__main__":
    sys.exit(main())
