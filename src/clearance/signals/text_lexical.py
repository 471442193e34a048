"""``text.lexical``: titles, character names and aliases, found word by word.

Matching is over normalised word tokens (never raw substrings, so "pegboard" cannot hit
"Peg"), with typo tolerance only for words that are not ordinary English (a misspelt
"Sqiud" is caught; "strange thing" is not turned into "Stranger Things"). Spaced-out or
dotted letters lose their word boundaries, so inside those runs (and inside CJK text,
which has none) names are found as substrings of the joined letters.

Names that are ordinary words ("Eleven", "Wednesday", "One") are ambiguous: they count
only with support — the name was disguised, another name or two telling description words
of the same work appear, or the prompt asks for a character ("fan art", "cosplay") with the
name capitalised. That is what separates "eLeVeN fan art" from "eleven candles on a cake".
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

import ahocorasick
from rapidfuzz import process
from rapidfuzz.distance import OSA

from clearance.content import Content
from clearance.registry.store import RegistrySnapshot, WorkView, description_texts
from clearance.signals.base import SignalType, calibrate
from clearance.text.keywords import STOPWORDS, is_common, keyword_weights, stem, zipf
from clearance.text.normalize import CJK, Token, normalise, tokenize
from clearance.verdict import Match

DISTINCTIVE, NEEDS_SUPPORT, NEEDS_CONTEXT = 0, 1, 2
CUES = re.compile(
    r"\b(fan ?art|cosplay|character|official|episode|season|series|movie|film|franchise|poster|wallpaper|"
    r"plush|figurine|figure|merch|costume|fanfic|crossover|parody|scene from|cartoon|anime|live action)\b"
)
QUALIFIER = re.compile(r"\([^)]*\)")
"""A parenthetical in a registered name ("Kpop Demon Hunters (2025)") disambiguates; it is not said."""
MIN_FUZZY_LEN = 4
TYPO_MAX_ZIPF = 3.0
"""Only words rarer than this may be typos ("kite" is a word, not a misspelt "Kate")."""
SHORT_TYPO_MAX_ZIPF = 2.0
TWO_EDITS_LEN = 7
"""Words this long may be two edits from a name ("Wensday")."""
MIN_COMPACT_LEN = 5
PART_MAX_ZIPF = 3.3
"""A word of a multi-word character name or title this rare ("Weasley") is a name on its own."""
ELEMENT_PART_MAX_ZIPF = 2.0
"""Element names mix in ordinary words ("Pastel staircase maze"), so only very rare ones count."""
KEYWORD_SUPPORT = 4.0
"""Summed rarity of a work's description words in a prompt that counts as context."""


class NameEntry(NamedTuple):
    """One matchable name (a tuple: tens of thousands of these unpickle fast at start-up)."""

    work: WorkView
    element: str | None
    role: str  # title | alias | character | character alias | element | element alias
    name: str
    tokens: tuple[str, ...]
    level: int


def ambiguity(tokens: tuple[str, ...]) -> int:
    """How much support a name needs before it counts (see module docstring)."""
    compact = "".join(tokens)
    content = [t for t in tokens if t not in STOPWORDS]
    if len(compact) <= 3 or compact.isdigit() or (len(content) == 1 and zipf(content[0]) >= 5.0):
        return NEEDS_CONTEXT
    if not content or all(is_common(t) or t.isdigit() for t in content):
        return NEEDS_SUPPORT
    return DISTINCTIVE


def _names(work: WorkView) -> list[tuple[str | None, str, str]]:
    out: list[tuple[str | None, str, str]] = [(None, "title", work.title)]
    out += [(None, "alias", a) for a in work.aliases]
    for e in work.elements:
        out.append((e.name, e.role, e.name))
        out += [(e.name, f"{e.role} alias", a) for a in e.aliases]
    return out


def _entries(work: WorkView) -> list[NameEntry]:
    """Every name of a work, plus the rare words of multi-word names as names of their own."""
    entries: list[NameEntry] = []
    for element, role, name in _names(work):
        tokens = tuple(normalise(QUALIFIER.sub(" ", name)).split())
        if not tokens:
            continue
        entries.append(NameEntry(work, element, role, name, tokens, ambiguity(tokens)))
        if len([t for t in tokens if t not in STOPWORDS]) > 1:
            rare = PART_MAX_ZIPF if not role.startswith("element") else ELEMENT_PART_MAX_ZIPF
            for tok in tokens:
                if len(tok) >= MIN_COMPACT_LEN and zipf(tok) < rare and not CJK.search(tok):
                    entries.append(NameEntry(work, element, f"{role} (part)", name, (tok,), DISTINCTIVE))
    return entries


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass
class _Hit:
    entry: NameEntry
    start: int  # token index
    end: int
    tokens: list[Token]
    fuzzy: bool
    compact: bool


class TextLexical(SignalType):
    name = "text.lexical"
    version = "3"
    content_kinds = frozenset({"text"})
    persist_index = True

    def index(self, snapshot: RegistrySnapshot) -> None:
        self.trie: dict = {}
        self.fuzzy_tokens: dict[str, set[str]] | dict[str, tuple[str, ...]] = defaultdict(set)
        self.fuzzy_compact: dict[str, set[str]] | dict[str, tuple[str, ...]] = defaultdict(set)
        self.name_tokens: set[str] = set()
        self.long_tokens: dict[str, set[str]] = defaultdict(set)  # first/last letter -> long name words
        self.compact = ahocorasick.Automaton()
        self.keywords: dict[tuple[str, str], dict[str, float]] = {}
        self.compact_entries: dict[str, list[NameEntry]] = defaultdict(list)
        for work in snapshot.works:
            self.keywords[work.key] = keyword_weights(description_texts(work))
            for entry in _entries(work):
                self._add_to_trie(entry)
                compact = "".join(entry.tokens)
                if len(compact) >= MIN_COMPACT_LEN or CJK.search(compact):
                    self.compact_entries[compact].append(entry)
                    if len(entry.tokens) > 1 and not CJK.search(compact):
                        for variant in _deletes(compact) | {compact}:
                            self.fuzzy_compact[variant].add(compact)
        for tok in self.name_tokens:
            if len(tok) >= TWO_EDITS_LEN and not CJK.search(tok):
                self.long_tokens["^" + tok[0]].add(tok)
                self.long_tokens[tok[-1] + "$"].add(tok)
        self.fuzzy_tokens = {k: tuple(v) for k, v in self.fuzzy_tokens.items()}  # plain, compact to persist
        self.fuzzy_compact = {k: tuple(v) for k, v in self.fuzzy_compact.items()}
        for compact, entries in self.compact_entries.items():
            self.compact.add_word(compact, (compact, entries))
        if self.compact_entries:
            self.compact.make_automaton()
        self.has_compact = bool(self.compact_entries)

    def _add_to_trie(self, entry: NameEntry) -> None:
        node = self.trie
        for tok in entry.tokens:
            node = node.setdefault(tok, {})
            self.name_tokens.add(tok)
            if len(tok) >= MIN_FUZZY_LEN and not tok.isdigit():
                for variant in _deletes(tok) | {tok}:
                    self.fuzzy_tokens[variant].add(tok)
        node.setdefault(None, []).append(entry)

    # -- matching -----------------------------------------------------------------------
    @staticmethod
    def _typo_candidate(word: str) -> bool:
        """Only words that are not ordinary English may be typos of a name."""
        if len(word) < MIN_FUZZY_LEN or word.isdigit() or CJK.search(word):
            return False
        return zipf(word) < (SHORT_TYPO_MAX_ZIPF if len(word) == MIN_FUZZY_LEN else TYPO_MAX_ZIPF)

    def _within_two_edits(self, word: str) -> set[str]:
        """Long name words two edits away, searched among those sharing the first or last letter."""
        pool = self.long_tokens.get("^" + word[0], set()) | self.long_tokens.get(word[-1] + "$", set())
        found = process.extract(word, pool, scorer=OSA.distance, score_cutoff=2, limit=None)
        return {name for name, _dist, _ in found if abs(len(name) - len(word)) <= 2}

    @staticmethod
    def _within_one_edit(word: str, index: dict[str, set[str]]) -> set[str]:
        found: set[str] = set()
        for variant in _deletes(word) | {word}:
            found |= {c for c in index.get(variant, ()) if c != word and OSA.distance(c, word) <= 1}
        return found

    def _alternatives(self, word: str) -> set[str]:
        """The word itself plus registered name words within one edit of it."""
        if word in self.name_tokens or not self._typo_candidate(word):
            return {word}
        found = {word} | self._within_one_edit(word, self.fuzzy_tokens)
        if len(word) >= TWO_EDITS_LEN and len(found) == 1:
            found |= self._within_two_edits(word)
        return found

    def _phrase_hits(self, tokens: list[Token]) -> list[_Hit]:
        alternatives = [self._alternatives(t.text) for t in tokens]
        hits = []
        for i in range(len(tokens)):
            frontier = [(self.trie, False)]
            for j in range(i, len(tokens)):
                step = []
                for node, fuzzy in frontier:
                    for alt in alternatives[j]:
                        if alt in node:
                            step.append((node[alt], fuzzy or alt != tokens[j].text))
                frontier = step
                if not frontier:
                    break
                for node, fuzzy in frontier:
                    for entry in node.get(None, ()):
                        hits.append(_Hit(entry, i, j + 1, tokens[i : j + 1], fuzzy, False))
        return hits

    def _glued_hits(self, tokens: list[Token], text: str) -> list[_Hit]:
        """Names split by punctuation without spaces ("Ve-cna", "Squid_Game", "Gi.hun")."""
        hits = []
        for i in range(len(tokens)):
            j, gaps = i + 1, []
            while j < len(tokens):
                gap = text[tokens[j - 1].end : tokens[j].start]
                if not gap or len(gap) > 3 or any(c.isspace() for c in gap):
                    break
                gaps.append(gap)
                j += 1
            if j - i < 2:
                continue
            for end in range(i + 2, j + 1):
                joined = "".join(t.text for t in tokens[i:end])
                odd = any(g not in ("-", "'", "’") for g in gaps[: end - i - 1])
                candidates = {joined} if joined in self.compact_entries else set()
                if self._typo_candidate(joined) and len(joined) >= 6:
                    candidates |= self._within_one_edit(joined, self.fuzzy_compact)
                for compact in candidates:
                    hits += [_Hit(e, i, end, tokens[i:end], compact != joined, odd)
                             for e in self.compact_entries[compact]]
        return hits

    def _compact_hits(self, tokens: list[Token]) -> list[_Hit]:
        """Names inside joined letter runs, long unknown words (hashtags) and CJK text."""
        if not self.has_compact:
            return []
        hits = []
        for i, tok in enumerate(tokens):
            inside = tok.collapsed or CJK.search(tok.text) or (len(tok.text) >= 10 and zipf(tok.text) == 0)
            if inside:
                for _end, (compact, entries) in self.compact.iter(tok.text):
                    hits += [_Hit(e, i, i + 1, [tok], False, True) for e in entries if len(e.tokens) > 1 or
                             tok.collapsed or CJK.search(compact)]
            if self._typo_candidate(tok.text) and len(tok.text) >= 5:  # "squidgame", "sqiudgame", "gihun"
                exact = {tok.text} if tok.text in self.compact_entries else set()
                for compact in exact | self._within_one_edit(tok.text, self.fuzzy_compact):
                    hits += [_Hit(e, i, i + 1, [tok], compact != tok.text, True)
                             for e in self.compact_entries[compact] if len(e.tokens) > 1]
        return hits

    def match(self, content: Content) -> list[Match]:
        text = content.text or ""
        tokens = tokenize(text)
        hits = self._phrase_hits(tokens) + self._compact_hits(tokens) + self._glued_hits(tokens, text)
        if not hits:
            return []
        words = [stem(t.text) for t in tokens]
        cue = CUES.search(" ".join(t.text for t in tokens)) is not None
        works_named = defaultdict(set)
        for h in hits:
            works_named[h.entry.work.key].add(h.entry.tokens)
        best: dict[tuple, Match] = {}
        for hit in hits:
            match = self._score(hit, text, words, cue, works_named)
            if match is None:
                continue
            key = (hit.entry.work.key, hit.entry.element)
            if key not in best or match.score > best[key].score:
                best[key] = match
        return list(best.values())

    def _score(self, hit: _Hit, text: str, words: list[str], cue: bool, named: dict) -> Match | None:
        entry = hit.entry
        disguised = any(t.disguised or t.collapsed for t in hit.tokens) or hit.compact
        other_name = len(named[entry.work.key] - {entry.tokens}) > 0
        keywords = self.keywords.get(entry.work.key, {})
        context = sum(keywords.get(w, 0.0) for w in set(words)) >= KEYWORD_SUPPORT
        original = text[hit.tokens[0].start : hit.tokens[-1].end]
        words_cased = [w for w in original.split() if w[:1].isalpha() and w.lower() not in STOPWORDS]
        capitalised = bool(words_cased) and all(w[:1].isupper() for w in words_cased)
        supported = {
            DISTINCTIVE: True,
            NEEDS_SUPPORT: disguised or hit.fuzzy or other_name or context
            or (capitalised and (cue or len(entry.tokens) > 1)),
            NEEDS_CONTEXT: other_name or context,
        }[entry.level]
        if not supported:
            return None
        exact = not hit.fuzzy and entry.level == DISTINCTIVE and not entry.role.endswith("(part)")
        raw = 1.0 if exact else 0.9
        reasons = [r for r, on in (("typo-tolerant", hit.fuzzy), ("disguised", disguised),
                                   ("another name of the work", other_name), ("description words", context),
                                   ("character request", cue)) if on]
        return Match(
            work_id=entry.work.slug, owner=entry.work.owner, element=entry.element, signal=self.name, basis="name",
            score=round(calibrate(raw, 0.6, 0.85), 4), raw_score=raw,
            evidence=f"{entry.role} {entry.name!r} matched {original!r}"
            + (f" ({', '.join(reasons)})" if reasons else ""),
            details={"span": [hit.tokens[0].start, hit.tokens[-1].end], "words": original, "name": entry.name,
                     "role": entry.role, "fuzzy": hit.fuzzy, "disguised": disguised},
        )
