"""Content words and how telling they are, shared by the lexical and semantic signals.

A word's weight is its rarity in general English (wordfreq's Zipf scale): "pinafore" says
much more about a prompt than "black". Both signals use the same stemming so that a
description's "tracksuits" and a prompt's "tracksuit" meet.
"""

from __future__ import annotations

from functools import lru_cache

from wordfreq import zipf_frequency

from clearance.text.normalize import tokenize

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
COMMON_ZIPF = 3.6
"""Words at least this frequent (e.g. "eleven", "frozen", "monster") are ordinary English."""


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    return zipf_frequency(word, "en")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light stemmer: plural and -ed/-ing endings, enough to meet common inflections."""
    for suffix, keep in (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ed", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            return word[: -len(suffix)] + keep
    return word


@lru_cache(maxsize=100_000)
def content_words(text: str) -> tuple[str, ...]:
    """Stemmed, normalised content words (no stopwords, no single characters). Cached: registry
    descriptions are asked for again and again (rewrites, indexing)."""
    return tuple(stem(t.text) for t in tokenize(text) if len(t.text) > 1 and t.text not in STOPWORDS)


def rarity(word: str) -> float:
    """How much a shared word says: 0 for the most common words, up to ~6 for rare ones."""
    return max(0.0, 6.0 - zipf(word))


def is_common(word: str) -> bool:
    return zipf(word) >= COMMON_ZIPF


def keyword_weights(texts: list[str]) -> dict[str, float]:
    """Telling words of a work's descriptions, with their rarity weights."""
    return {w: rarity(w) for text in texts for w in content_words(text) if rarity(w) > 0}
