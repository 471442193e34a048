"""Everyday words of other languages, for the words of translated titles.

A rare word of a multi-word name counts as a name on its own ("Weasley", "Hogwarts"), and rarity
is judged in English. A title translated into another language ("Cosas extrañas", "La Reine des
neiges", "Bob l'éponge") is a phrase of that language, so its words are rare in English and
everyday there: one of them blocked a Spanish or French prompt on its own ("cosas bonitas sobre la
mesa" as *Stranger Things*, "une éponge de mer" as *SpongeBob*; a black-box pass, 2026-12-07). A
title or alias whose words, but for one name at most, are frequent in one of ``LANGUAGES`` is such
a phrase, and its words frequent there are that language's everyday words
(``everyday_words_of_phrase``).

The frequencies are wordfreq's own lists for those languages (in its wheel, as its English list
is), read only while a registry is indexed and dropped after it (``forget``): the fourteen lists
hold some 600,000 words, ~14 MB for the 0.1 s it takes to read them.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from clearance.text.keywords import zipf

LANGUAGES = ("es", "fr", "de", "it", "pt", "nl", "pl", "ru", "uk", "el", "ar", "he", "tr", "sv")
"""The languages whose titles registries write most with spaces between words (Japanese, Chinese
and Korean titles are read whole, without parts)."""
PHRASE_MIN_ZIPF = 3.0
"""A word at least this frequent in a language is a word of it (wordfreq's small lists)."""
ABOVE_ENGLISH = 1.0
"""A word of such a title this much more frequent in its language than in English is an everyday
word of that language ("cosas" 5.9 against 2.0, "extrañas" 4.0, "neiges" 3.8, "calamar" 3.1), not
a name; the other languages' texts quote English titles and names too ("squid", "weasley"), which
stay names, as do a title's invented words, in no list ("pitufos", "schtroumpfs")."""
WORD = re.compile(r"\w+")


@cache
def _zipf_table(language: str) -> dict[str, float]:
    """The language's words of Zipf frequency ``PHRASE_MIN_ZIPF`` and above, in wordfreq's small list."""
    import wordfreq  # imported only when a registry is indexed

    path = Path(wordfreq.__file__).parent / "data" / f"small_{language}.msgpack.gz"
    buckets = wordfreq.read_cBpack(str(path))  # bucket i: frequency 10 ** (-i / 100), Zipf 9 - i / 100
    last = round((9 - PHRASE_MIN_ZIPF) * 100)
    return {word: 9 - i / 100 for i, bucket in enumerate(buckets[: last + 1]) for word in bucket}


def everyday_words_of_phrase(name: str) -> frozenset[str]:
    """The words of ``name``, as written, that are everyday words of a language it is a phrase of:
    every word but one at most (a name: "Las crónicas de Narnia") is a word of it, two at least.
    Empty for a name of one word or a phrase of no language in ``LANGUAGES``. (Looked up case-folded,
    as wordfreq lists words; returned as written, which the caller normalises as it normalises
    names: a Greek final sigma folds to another letter than the name's own.)"""
    words = WORD.findall(name)
    if len(words) < 2:
        return frozenset()
    tables = [_zipf_table(language) for language in LANGUAGES]
    table = max(tables, key=lambda t: sum(word.casefold() in t for word in words))  # the language most of it is in
    known = [word for word in words if word.casefold() in table]
    if len(known) < 2 or len(words) - len(known) > 1:
        return frozenset()
    return frozenset(word for word in known if table[word.casefold()] >= zipf(word.casefold()) + ABOVE_ENGLISH)


def forget() -> None:
    """Drop the frequency lists (after indexing a registry): a screening process keeps only what
    the index it built holds."""
    _zipf_table.cache_clear()
