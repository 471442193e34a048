"""Content words and how telling they are, shared by the lexical and semantic signals.

A word's weight is its rarity in general English (wordfreq's Zipf scale): "pinafore" says
much more about a prompt than "black". Both signals use the same stemming so that a
description's "tracksuits" and a prompt's "tracksuit" meet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from clearance.index.columns import KeyIndex, StringColumn
from clearance.text import normalize
from clearance.text.frequencies import FrequencyTable, load_table, save_table, wordfreq_version
from clearance.text.normalize import MASK, Token, tokenize

STOPWORDS = frozenset(
    (
        "a an the of in on at to for with and or but is are was were be been by from as into onto over under "
        "this that these those its it it's he she they them his her their our your my we you i me who whom "
        "whose which what while where when than then so very just also only not no nor up down out off about "
        "above below between through during before after again further once all any both each few more most "
        "other some such own same too can will would should could has have had do does did doing having "
        "being s t "
    ).split()
)
RANKS = frozenset(
    "chief captain capt commander general colonel major lieutenant sergeant sgt officer agent detective inspector "
    "sheriff doctor dr professor prof mr mrs ms miss sir dame lord lady king queen prince princess uncle aunt "
    "saint".split()
)
"""Ranks and forms of address said before a person's name ("Chief Jim Hopper", "Queen Charlotte")."""
COMMON_ZIPF = 3.6
"""Words at least this frequent (e.g. "eleven", "frozen", "monster") are ordinary English."""


_wordfreq_lock = threading.Lock()
_table_lock = threading.Lock()
_table: FrequencyTable | None = None
"""The process's frequency table (the same in every home with this wordfreq)."""


@cache
def _load_wordfreq() -> Callable[[str, str], float]:
    from wordfreq import zipf_frequency

    zipf_frequency("the", "en")  # reads the English list
    return zipf_frequency


def wordfreq_zipf() -> Callable[[str, str], float]:
    """wordfreq's ``zipf_frequency`` with its English list read (~0.6 s: done on first use, once,
    however many threads ask at the same time)."""
    with _wordfreq_lock:
        return _load_wordfreq()


def use_frequency_table(folder: Path) -> None:
    """Answer ``zipf`` from the frequency table saved in ``folder`` (``clearance.text.frequencies``),
    building and saving it there first when it is missing (~1 s, once per home and wordfreq
    version). Until a table is in use, ``zipf`` asks wordfreq: the same values."""
    global _table
    with _table_lock:
        stored = load_table(folder)
        if stored is None:
            stored = _table if _table is not None else _build_table()
            save_table(folder, stored)
        if _table is None:
            _table = stored


def _build_table() -> FrequencyTable:
    from wordfreq import get_frequency_list

    return FrequencyTable(get_frequency_list("en"), wordfreq_zipf())


def versions() -> dict[str, str]:
    """What words and their weights depend on, for the keys of indexes built from them and for
    verdicts: the normalisation that spells them and the wordfreq lists that weigh them."""
    return {"text.normalisation": normalize.VERSION, "text.wordfreq": wordfreq_version()}


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """How frequent the word is in English (Zipf scale). A word with a masked letter ("bel*a") is no
    word at all, though ``wordfreq`` would read it as two that are."""
    if MASK in word:
        return 0.0
    value = _table.get(word) if _table is not None else None
    return value if value is not None else wordfreq_zipf()(word, "en")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light stemmer: plural and -ed/-ing endings, enough to meet common inflections."""
    for suffix, keep in (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ed", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            return word[: -len(suffix)] + keep
    return word


def is_content_word(word: str) -> bool:
    """Not a stopword, not a single character."""
    return len(word) > 1 and word not in STOPWORDS


def content_words(tokens: Iterable[Token]) -> tuple[str, ...]:
    """Stemmed, normalised content words of a text's tokens."""
    return tuple(stem(t.text) for t in tokens if is_content_word(t.text))


def spellings(tokens: Iterable[Token]) -> dict[str, str]:
    """The content words of a text by stem, each with the first spelling met: what evidence and
    negative prompts show a person, while matching compares stems ("waffles", not "waffl")."""
    found: dict[str, str] = {}
    for token in tokens:
        if is_content_word(token.text):
            found.setdefault(stem(token.text), token.text)
    return found


def telling_words(texts: Iterable[str]) -> list[str]:
    """The content words of registry texts, rarest first, as written (ties in order of
    appearance): words a generator can be told to avoid. Ranked by the word itself, not its stem:
    "christma" or "noseble" is no word, so as a stem it would rank as rarer than anything."""
    words: dict[str, str] = {}
    for text in texts:
        for key, word in _registry_spellings(text):
            words.setdefault(key, word)
    return sorted(words.values(), key=rarity, reverse=True)


@lru_cache(maxsize=100_000)
def _registry_spellings(text: str) -> tuple[tuple[str, str], ...]:
    """``spellings`` of a registry text, cached like ``description_words``: a blocked prompt asks
    for all of its work's descriptions again (3.3 ms a verdict uncached, for the dev works)."""
    return tuple(spellings(tokenize(text)).items())


@lru_cache(maxsize=100_000)
def description_words(text: str) -> tuple[str, ...]:
    """``content_words`` of a registry text, cached: descriptions are asked for again and again
    (indexing, rewrites). Prompts are not cached: each is new, and a cache of them only fills (a
    scrub kept ~0.35 MB per 1,000 unique captions until the cache was full)."""
    return content_words(tokenize(text))


def rarity(word: str) -> float:
    """How much a shared word says: 0 for the most common words, up to ~6 for rare ones."""
    return max(0.0, 6.0 - zipf(word))


def is_common(word: str) -> bool:
    return zipf(word) >= COMMON_ZIPF


def keyword_weights(texts: list[str]) -> dict[str, float]:
    """Telling words of a work's descriptions, with their rarity weights."""
    return {w: rarity(w) for text in texts for w in description_words(text) if rarity(w) > 0}


class KeywordTable:
    """Every work's telling words with their weights, by the work's position in an index.

    ``table[w]`` is work ``w``'s {word: weight} (as ``keyword_weights`` gave it); ``table.postings``
    finds the works that use a word. Both are arrays over one vocabulary rather than thousands of
    small dicts, so a persisted index loads them without unpickling (``clearance.index.columns``);
    a work's dict is decoded when first asked for, and the postings are built only for a signal
    that asks for them (the semantic one; the lexical one reads works' dicts only).
    """

    def __init__(self, per_work: list[dict[str, float]]) -> None:
        vocabulary = sorted({word for weights in per_work for word in weights})
        ids = {word: i for i, word in enumerate(vocabulary)}
        self.words = StringColumn(vocabulary)
        self.offsets = np.zeros(len(per_work) + 1, np.int64)
        np.cumsum([len(weights) for weights in per_work], out=self.offsets[1:])
        self.word_ids = np.array([ids[word] for weights in per_work for word in weights], np.int64)
        self.weights = np.array([weight for weights in per_work for weight in weights.values()], np.float64)
        self._decoded: dict[int, dict[str, float]] = {}

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @cached_property
    def postings(self) -> KeywordPostings:
        return KeywordPostings(self)

    def __getitem__(self, work: int) -> dict[str, float]:
        if work not in self._decoded:
            lo, hi = int(self.offsets[work]), int(self.offsets[work + 1])
            self._decoded[work] = {self.words[i]: w for i, w in zip(self.word_ids[lo:hi].tolist(),
                                                                   self.weights[lo:hi].tolist(), strict=True)}
        return self._decoded[work]

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "_decoded"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state, _decoded={})


class KeywordPostings:
    """For each word of a ``KeywordTable``, the works using it (ascending) and its weight in each
    (float32): ``word in postings``, ``postings[word] -> (works, weights)``."""

    def __init__(self, table: KeywordTable) -> None:
        works = np.repeat(np.arange(len(table), dtype=np.int64), np.diff(table.offsets))
        order = np.argsort(table.word_ids, kind="stable")  # by word, then by work
        self.vocabulary = KeyIndex((word, i) for i, word in enumerate(table.words))
        self.offsets = np.searchsorted(table.word_ids[order], np.arange(len(table.words) + 1))
        self.works = works[order]
        self.weights = table.weights[order].astype(np.float32)

    def __contains__(self, word: str) -> bool:
        return word in self.vocabulary

    def __getitem__(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        found = self.vocabulary.get(word)
        if not found:
            raise KeyError(word)
        lo, hi = self.offsets[found[0]], self.offsets[found[0] + 1]
        return self.works[lo:hi], self.weights[lo:hi]
