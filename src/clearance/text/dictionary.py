"""Which words are ordinary English words, from a dictionary rather than from frequency.

Frequency alone cannot tell a registered name that is also an everyday word from one that is
merely popular: "hopper" (Zipf 3.5) and "creeper" (2.9) are ordinary words ("an Edward Hopper
painting", "an ivy creeper"), while "minecraft" (3.8) and "pokemon" (4.1) are names used often.
SCOWL's word list (``data/english_words.md``) spells ordinary words in lower case and proper
names capitalised, which is the distinction needed. Its medium size lacks many words in everyday
use today (foods of other cuisines, trade and hobby jargon, solid compounds, loanwords): those come
from a supplement written for Clearance (``data/everyday_words.md``), all of them ordinary words.
Both are read when a registry is indexed or the lexical signal preloads.
"""

from __future__ import annotations

import gzip
from functools import cache

from clearance.text import package_data

SCOWL, EVERYDAY = FILES = ("english_words.txt.gz", "everyday_words.txt")


@cache
def _entries() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(ordinary words, every entry in lower case, proper names in lower case)."""
    words = gzip.decompress(package_data.read_bytes(SCOWL)).decode("utf-8").split()
    everyday = frozenset(line for line in package_data.read_bytes(EVERYDAY).decode("utf-8").splitlines()
                         if line and not line.startswith("#"))
    return (frozenset(w for w in words if w.islower()) | everyday, frozenset(w.lower() for w in words) | everyday,
            frozenset(w.lower() for w in words if not w.islower()))


def is_ordinary_word(word: str) -> bool:
    """A dictionary word in its own right ("hopper", "frozen", "dragons"), not only a name."""
    return word in _entries()[0]


def is_proper_name(word: str) -> bool:
    """Listed capitalised, as somebody's or something's name ("daisy", "rocky", "wednesday"), whether
    or not it is also an ordinary word."""
    return word in _entries()[2]


def is_listed(word: str) -> bool:
    """In the dictionary at all, as a word or as a proper name ("wednesday", "steve")."""
    return word in _entries()[1]
