"""English word frequencies (wordfreq's Zipf scale) in a table that opens in milliseconds.

Importing wordfreq and reading its English list take ~0.6 s of a new process, and every prompt
needs frequencies (a rare word may be a misspelt name). The table keeps wordfreq's own value
for every word of that list made of lower-case ASCII letters (90% of it), and is saved as an
index file (``clearance.index.persist``) keyed by wordfreq's version, so it is built once per
home and then mapped into memory.

For those words wordfreq's value depends only on the word's frequency band (such a word is one
token to wordfreq, with no digits), so the table asks wordfreq once per band. A word of that
form outside the list has frequency 0. Anything else (digits, apostrophes, other scripts) is
left to wordfreq itself, so every answer is the one wordfreq gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from importlib.metadata import version
from pathlib import Path

import numpy as np

from clearance.atomic import remove_others
from clearance.index import persist
from clearance.index.columns import KeyIndex

PLAIN = re.compile(r"[a-z]+")
FORMAT = 1
"""Layout of the saved table (part of its file name and key): bump when ``FrequencyTable`` changes."""


class FrequencyTable:
    """Zipf frequencies of the plain words of wordfreq's English list (see module docstring)."""

    def __init__(self, bands: list[list[str]], zipf_frequency: Callable[[str, str], float]) -> None:
        words: list[str] = []
        values: list[float] = []
        for band in bands:  # wordfreq's list: words grouped by frequency, most frequent first
            plain = [w for w in band if PLAIN.fullmatch(w)]
            if plain:
                value = zipf_frequency(plain[0], "en")
                words += plain
                values += [value] * len(plain)
        self.words = KeyIndex((w, i) for i, w in enumerate(words))
        self.zipf = np.array(values, np.float64)

    def get(self, word: str) -> float | None:
        """wordfreq's Zipf frequency of ``word``, or None when only wordfreq can tell."""
        found = self.words.get(word)
        if found:  # as in wordfreq's dict, a word listed twice has its last band's value
            return float(self.zipf[found[-1]])
        return 0.0 if PLAIN.fullmatch(word) else None


@cache
def wordfreq_version() -> str:
    """The installed wordfreq's version: its lists are what every Zipf value comes from."""
    return version("wordfreq")


def _path_and_key(folder: Path) -> tuple[Path, str]:
    wordfreq = wordfreq_version()
    return (folder / f"english-frequencies-v{FORMAT}-wordfreq-{wordfreq}.idx",
            f"english zipf frequencies v{FORMAT}, wordfreq {wordfreq}")


def load_table(folder: Path) -> FrequencyTable | None:
    """The table saved in ``folder`` for the installed wordfreq (None when missing or unusable)."""
    path, key = _path_and_key(folder)
    try:
        return persist.load(path, key)["table"]
    except Exception:
        return None


def save_table(folder: Path, table: FrequencyTable) -> None:
    """Save the table in ``folder``, dropping tables of other layouts or wordfreq versions."""
    path, key = _path_and_key(folder)
    folder.mkdir(parents=True, exist_ok=True)
    persist.save(path, {"table": table}, key)
    remove_others(path, "english-frequencies-*.idx")
