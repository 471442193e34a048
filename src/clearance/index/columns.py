"""Index structures made of a few flat numpy arrays, so a persisted index loads without unpickling.

A registry of 10,000 works gives the text signals hundreds of thousands of small Python
objects (names, description rows, typo variants); unpickling them one by one took seconds of
every process start. These structures keep the same data in a handful of arrays, which the
persisted index file maps into memory as they are (``clearance.index.persist``): loading
costs nothing, and a lookup touches only the pages it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, pairwise
from typing import Any, NamedTuple

import numpy as np


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # any str, even one with a lone surrogate


class StringColumn(Sequence[str]):
    """Many strings as one UTF-8 buffer plus offsets (element ``i`` is decoded when asked for)."""

    def __init__(self, values: Iterable[str]) -> None:
        encoded = [_utf8(v) for v in values]
        self.offsets = np.zeros(len(encoded) + 1, np.int64)
        np.cumsum([len(b) for b in encoded], out=self.offsets[1:])
        self.data = np.frombuffer(b"".join(encoded), np.uint8)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        start, end = self.offsets[i], self.offsets[i + 1]
        return self.data[start:end].tobytes().decode("utf-8", "surrogatepass")

    def __iter__(self) -> Iterator[str]:
        blob = self.data.tobytes()
        bounds = self.offsets.tolist()
        return (blob[a:b].decode("utf-8", "surrogatepass") for a, b in pairwise(bounds))


class WorkKey(NamedTuple):
    owner: str
    slug: str


class WorkKeys(Sequence[WorkKey]):
    """The (owner, id) of each work an index covers, by its position in the index."""

    def __init__(self, keys: Iterable[tuple[str, str]]) -> None:
        pairs = list(keys)
        self.owners = StringColumn(owner for owner, _ in pairs)
        self.slugs = StringColumn(slug for _, slug in pairs)

    def __len__(self) -> int:
        return len(self.slugs)

    def __getitem__(self, i: int) -> WorkKey:  # type: ignore[override]
        return WorkKey(self.owners[i], self.slugs[i])


_MULTIPLIER = 0x9E3779B97F4A7C15
"""Odd, so its powers never vanish modulo 2^64."""
_MASK = (1 << 64) - 1


def key_hash(key: str) -> int:
    """A stable 64-bit hash (Python's ``hash`` changes with every process): the sum of
    (byte + 1) x M^i over the key's UTF-8 bytes, modulo 2^64, a form ``column_hashes`` computes for
    a whole ``StringColumn`` at once."""
    h, power = 0, 1
    for byte in _utf8(key):
        h = (h + (byte + 1) * power) & _MASK
        power = (power * _MULTIPLIER) & _MASK
    return h


def column_hashes(column: StringColumn) -> np.ndarray:
    """``key_hash`` of every string of the column, with numpy (uint64 arithmetic wraps modulo 2^64)."""
    lengths = np.diff(column.offsets)
    if not len(column.data):
        return np.zeros(len(column), np.uint64)
    powers = np.ones(int(lengths.max()), np.uint64)
    powers[1:] = np.cumprod(np.full(len(powers) - 1, _MULTIPLIER, np.uint64))
    position = np.arange(len(column.data)) - np.repeat(column.offsets[:-1], lengths)
    sums = np.zeros(len(column.data) + 1, np.uint64)
    np.cumsum((column.data.astype(np.uint64) + np.uint64(1)) * powers[position], out=sums[1:])
    return sums[column.offsets[1:]] - sums[column.offsets[:-1]]


class KeyIndex:
    """A multimap from strings to integers, as arrays: the distinct keys (a ``StringColumn``), their
    hashes in sorted order for lookup, and each key's values (in the order they were added).

    A lookup hashes the key, finds the hash by binary search and compares the stored key, so it
    is exact whatever the hash does. That costs a few microseconds, so answers are remembered
    (prompts repeat their words), up to ``MEMO_SIZE`` keys per index and process.
    """

    MEMO_SIZE = 20_000

    def __init__(self, pairs: Iterable[tuple[str, int]]) -> None:
        grouped: dict[str, list[int]] = {}
        for key, value in pairs:
            grouped.setdefault(key, []).append(value)
        self.keys = StringColumn(grouped)
        hashes = column_hashes(self.keys)
        self.slots = np.argsort(hashes, kind="stable")  # key of each sorted hash
        self.hashes = hashes[self.slots]
        self.offsets = np.zeros(len(grouped) + 1, np.int64)
        np.cumsum([len(v) for v in grouped.values()], out=self.offsets[1:])
        self.values = np.fromiter(chain.from_iterable(grouped.values()), np.int64, int(self.offsets[-1]))
        self._memo: dict[str, list[int]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "_memo"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state, _memo={})

    def __len__(self) -> int:
        return len(self.keys)

    def _find(self, key: str) -> int:
        """The key's position in ``keys``, or -1."""
        h = np.uint64(key_hash(key))
        i = int(np.searchsorted(self.hashes, h))
        while i < len(self.hashes) and self.hashes[i] == h:
            slot = int(self.slots[i])
            if self.keys[slot] == key:
                return slot
            i += 1
        return -1

    def __contains__(self, key: str) -> bool:
        return bool(self.get(key))  # every key was added with a value

    def get(self, key: str) -> list[int]:
        """The values added under ``key``, in insertion order (empty when none). Do not modify."""
        found = self._memo.get(key)
        if found is None:
            slot = self._find(key)
            found = self.values[self.offsets[slot] : self.offsets[slot + 1]].tolist() if slot >= 0 else []
            if len(self._memo) >= self.MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = found
        return found


def deletes(word: str) -> set[str]:
    """The word with each one character left out."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class OneEditIndex:
    """Candidates within one edit of a query, by symmetric deletion: a word and each of its
    one-letter deletions point to it, in a ``KeyIndex`` rather than a dict of a million variants.
    Every word within one edit (OSA) shares a variant with the query; some that share one are two
    edits away, so the caller compares each candidate with the query.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.words = StringColumn(sorted(set(words)))
        self.variants = KeyIndex((v, i) for i, w in enumerate(self.words) for v in sorted(deletes(w) | {w}))

    def candidates(self, word: str) -> set[str]:
        return {self.words[i] for variant in deletes(word) | {word} for i in self.variants.get(variant)}


class FormIndex:
    """Words looked up by a form derived from each (their letters without vowels, without doubled
    letters): ``get(form)`` gives the words of that form. Only the forms are given in; the function
    that makes them stays with the caller, so the index pickles as arrays."""

    def __init__(self, words_and_forms: Iterable[tuple[str, str]]) -> None:
        pairs = sorted(set(words_and_forms))
        self.words = StringColumn(word for word, _ in pairs)
        self.forms = KeyIndex((form, i) for i, (_, form) in enumerate(pairs))

    def get(self, form: str) -> set[str]:
        return {self.words[i] for i in self.forms.get(form)}
