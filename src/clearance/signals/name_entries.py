"""Every name of a registered work, and how much support it needs before it counts.

A registered name is a title, an alias, a character's or element's name, or a rare word of one of
those ("Weasley"). Its level says how much else the prompt must say before the name alone is
evidence: none for a name only a name (``DISTINCTIVE``: "Demogorgon"), support for one that is also
an everyday word, a place or a public-domain figure (``NEEDS_SUPPORT``: "Eleven", "Nairobi",
"Pandora"), and another name of the work elsewhere for the shortest and commonest (``NEEDS_CONTEXT``:
"M", "Red"). ``text.lexical`` finds the names in prompts and decides whether the support is there.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from clearance.index.columns import StringColumn
from clearance.registry.views import WorkView
from clearance.text import namesakes
from clearance.text.dictionary import is_listed, is_ordinary_word
from clearance.text.gazetteer import is_place
from clearance.text.keywords import STOPWORDS, is_common, stem, zipf
from clearance.text.languages import everyday_words_of_phrase
from clearance.text.normalize import HAN, UNSPACED, normalise

DISTINCTIVE, NEEDS_SUPPORT, NEEDS_CONTEXT = 0, 1, 2
QUALIFIER = re.compile(r"\([^)]*\)")
"""A parenthetical in a registered name ("Kpop Demon Hunters (2025)") disambiguates; it is not said."""
ARTICLES = frozenset(("the", "a", "an"))
MIN_COMPACT_LEN = 5
"""Names this long (or CJK) are looked for inside runs of joined letters."""
PART_MAX_ZIPF = 3.3
"""A word of a multi-word name this rare ("Weasley", "Hogwarts") is a name on its own."""
SYLLABLES = re.compile(r"[\u3040-\u30ff\u3130-\u318f\uac00-\ud7af]+")
"""Kana and Hangul: each character is a syllable ("ナルト" na-ru-to, "배트맨" Batman), so three of
them say as much as a Latin word of six letters or so; but no dictionary of Japanese or Korean
ships here, and three syllables are as often an everyday word ("원피스", a dress, is *One Piece*'s
Korean title; "カメラ", a camera), so such a name needs support (a request for the work, in any
language: ``text_lexical.CJK_CUES``). Two are too short, as for Han."""
IDEOGRAPHS = re.compile(rf"[{HAN}]+")
"""Chinese characters (in Chinese, Japanese and Korean names): each is a syllable with a meaning of
its own, so three of them ("皮卡丘" Pikachu, "加菲猫" Garfield) say as much as a Latin name of
several letters. Two can be an everyday word ("辐射", radiation, is *Fallout*'s Chinese title)."""


class NameEntry(NamedTuple):
    """One matchable name of the work at position ``work`` of the index."""

    work: int
    element: str | None
    role: str  # title | alias | character | character alias | element | element alias
    name: str
    tokens: tuple[str, ...]
    level: int


def too_short(compact: str) -> bool:
    """Too short to count without another name of the work: three letters or fewer ("M", "Red"), or
    two Chinese characters, kana or Hangul syllables or fewer (``IDEOGRAPHS``, ``SYLLABLES``)."""
    return len(compact) <= (2 if IDEOGRAPHS.fullmatch(compact) or SYLLABLES.fullmatch(compact) else 3)


def ordinary(word: str) -> bool:
    """An everyday word ("hopper", "eleven") or a frequent name that is also a word of English
    ("wednesday", "steve"); a frequent name known only as a name ("minecraft") is not one."""
    return is_ordinary_word(word) or (is_common(word) and is_listed(word))


def ambiguity(tokens: tuple[str, ...]) -> int:
    """How much support a name needs before it counts (see module docstring)."""
    return judged(tokens)[0]


def judged(tokens: tuple[str, ...]) -> tuple[int, str]:
    """``ambiguity`` and the reason for it, in words a rights holder reads (``name_support``)."""
    compact = "".join(tokens)
    content = [t for t in tokens if t not in STOPWORDS]
    if too_short(compact) or compact.isdigit():
        return NEEDS_CONTEXT, "too short to be evidence alone"
    if len(content) == 1 and zipf(content[0]) >= 5.0:
        return NEEDS_CONTEXT, "one of the commonest words of English"
    if len(content) == 1 and SYLLABLES.fullmatch(compact) and len(compact) == 3:
        return NEEDS_SUPPORT, "three kana or Hangul syllables, as often an everyday word"
    if everyday(content):
        return NEEDS_SUPPORT, "also an everyday word, phrase or place"
    if namesakes.is_namesake(" ".join(tokens)):
        return NEEDS_SUPPORT, "also the name of a figure of myth or literature, or of a real person or thing"
    return DISTINCTIVE, "a name only"


def everyday(content: list[str]) -> bool:
    """The words of a name (less stopwords) are everyday words: one word of the dictionary or a
    place's name, or a phrase of frequent words ("Stranger Things", not "Squid Game")."""
    if len(content) == 1:
        return ordinary(content[0]) or is_place(content[0])
    return all(is_common(t) or t.isdigit() for t in content)


def only_a_namesake(entry: NameEntry) -> bool:
    """The name needs support only because a public-domain figure or a real one has it too
    ("Pandora", "Demogorgon", "Michelangelo"): said alone, it may mean the work as well as the
    figure, so it is reviewed. A word of a longer name is not the name ("iced dalgona coffee" says
    nothing of the "Dalgona honeycomb candy" of *Squid Game*)."""
    content = [t for t in entry.tokens if t not in STOPWORDS]
    return (entry.level == NEEDS_SUPPORT and not entry.role.endswith("(part)") and not everyday(content)
            and namesakes.is_namesake(" ".join(entry.tokens)))


def without_article(tokens: tuple[str, ...]) -> int | None:
    """How ambiguous a name is said without its article ("Lord of the Rings", "Simpsons"), or None
    when it is no name at all that way: "the snowy owl" is a character, "snowy owl" a bird, so a
    phrase of everyday words needs support, and one everyday word ("the Duke") is not a name."""
    content = [t for t in tokens if t not in STOPWORDS]
    if not all(ordinary(t) for t in content):
        return ambiguity(tokens)
    return NEEDS_SUPPORT if len(content) > 1 else None


def everyday_phrase(tokens: tuple[str, ...]) -> bool:
    """Several words, each a word of the dictionary: as the name of a prop, a place or a character
    ("Frying pan", "Archery contest", "Central Perk", "Weeping Angel") it is also the thing
    itself, which everyday prompts ask for ("a chef flipping an omelette in a frying pan", "a
    weeping angel statue on a grave"), so it needs support. A title of such words ("Squid Game")
    stays a name: that is what titles are for."""
    content = [t for t in tokens if t not in STOPWORDS]
    return len(content) > 1 and all(is_ordinary_word(t) or t.isdigit() for t in content)


def names_of(work: WorkView) -> list[tuple[str | None, str, str]]:
    out: list[tuple[str | None, str, str]] = [(None, "title", work.title)]
    out += [(None, "alias", a) for a in work.aliases]
    for e in work.elements:
        out.append((e.name, e.role, e.name))
        out += [(e.name, f"{e.role} alias", a) for a in e.aliases]
    return out


def name_tokens(name: str) -> tuple[str, ...]:
    """A registered name as the index holds it: normalised words, its parenthetical left out."""
    return tuple(normalise(QUALIFIER.sub(" ", name)).split())


def name_level(role: str, tokens: tuple[str, ...]) -> tuple[int, str] | None:
    """How much support a registered name needs in its role, and why; None for a name of stopwords
    only ("It", "Her", "The"), which is no evidence of anything."""
    if all(t in STOPWORDS for t in tokens):
        return None
    level, why = judged(tokens)
    if role not in ("title", "alias") and level == DISTINCTIVE and everyday_phrase(tokens):
        return NEEDS_SUPPORT, "a prop, place or character named in everyday words"
    return level, why


NEEDS = {DISTINCTIVE: "nothing", NEEDS_SUPPORT: "support", NEEDS_CONTEXT: "another name of the work"}
"""What a name needs before it blocks, as ``name_support`` says it (support: a disguise or misspelling,
another name of the work, a title written as one, a request such as "fan art", or for one everyday
word, a capital inside a sentence: ``text_lexical._written_as_a_name``)."""


def said_words(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """What a name says, for telling names apart: its stems without a leading article, so "Aliens"
    and "Alien" are one name, and so are "The Oracle" and its alias "Oracle"."""
    words = tuple(stem(t) for t in tokens)
    return words[1:] if len(words) > 1 and words[0] in ARTICLES else words


NUMERAL = re.compile(r"\d+|[ivx]+")
"""A sequel's number, in digits or Roman numerals, as name words spell it."""


def only_a_number_more(name_words: tuple[str, ...], inner_words: tuple[str, ...]) -> bool:
    """Whether a name is another name of its work plus a number ("Frozen 2", "Cars 3"): the number
    says nothing of the work, so the inner name does not vouch for it (until 2026-12-08 "fish
    frozen 2 weeks ago" blocked as the alias "Frozen 2", which "Frozen" inside it supported)."""
    return tuple(w for w in name_words if not NUMERAL.fullmatch(w)) == tuple(inner_words)


def vouches(entry: NameEntry) -> bool:
    """Said in a prompt, the name supports another name of its work: a name that blocks alone, or one
    that needs support and is a whole name (not a word of one, "clownfish" of "Nemo the clownfish")."""
    return entry.level == DISTINCTIVE or (entry.level == NEEDS_SUPPORT and not entry.role.endswith("(part)"))


def name_support(work: WorkView) -> list[dict[str, str | bool]]:
    """What each registered name of ``work`` needs before it blocks on its own, and why: a rights
    holder can see that "Rumi" alone is the poet's name too (reviewed, not blocked, unless the
    prompt says more of the work) and register a fuller name or alias where that matters. A name
    that holds another of the work's names that supports it ("Derpy tiger" holds the alias "Derpy")
    blocks alone as registered, since saying it says both, as screening finds."""
    entries = work_entries(work)
    rows: list[dict[str, str | bool]] = []
    for _, role, name in names_of(work):
        tokens = name_tokens(name)
        level, why = name_level(role, tokens) or (None, "only stopwords or symbols")
        if level == NEEDS_SUPPORT and (inner := _supporting_name_inside(name, tokens, entries)):
            level, why = DISTINCTIVE, f"holds {inner!r}, a name of the work in its own right, which supports it"
        rows.append({"name": name, "role": role, "blocks_alone": level == DISTINCTIVE,
                     "needs": NEEDS[level] if level is not None else "never counts", "because": why})
    return rows


def _supporting_name_inside(name: str, tokens: tuple[str, ...], entries: list[NameEntry]) -> str | None:
    """The first name of ``entries`` said within ``tokens`` that supports the name ``name``: one that
    vouches for another name (``vouches``) and says other words, or a word of it that blocks alone."""
    words = said_words(tokens)
    for entry in entries:
        n = len(entry.tokens)
        if n >= len(tokens) or not any(tokens[i : i + n] == entry.tokens for i in range(len(tokens) - n + 1)):
            continue
        if entry.level == DISTINCTIVE or (entry.name != name and said_words(entry.tokens) != words
                                          and vouches(entry) and not only_a_number_more(words,
                                                                                         said_words(entry.tokens))):
            return entry.name if entry.name != name else " ".join(entry.tokens)
    return None


def work_entries(work: WorkView, position: int = 0) -> list[NameEntry]:
    """Every name of a work, plus the rare words of multi-word names as names of their own."""
    entries: list[NameEntry] = []
    for element, role, name in names_of(work):
        tokens = name_tokens(name)
        judgement = name_level(role, tokens)
        if judgement is None:
            continue
        level = judgement[0]
        entries.append(NameEntry(position, element, role, name, tokens, level))
        if tokens[0] in ARTICLES and len(tokens) > 1 and (level := without_article(tokens[1:])) is not None:
            entries.append(NameEntry(position, element, role, name, tokens[1:], level))
        if len([t for t in tokens if t not in STOPWORDS]) > 1 and not name.islower():
            # a rare word of a character's name or a title names it ("Weasley"); a rare word of a
            # place or prop may be a real thing ("dalgona coffee", "Namsan"), and so may a word of
            # the dictionary ("Chilli" Heeler: "chilli con carne") or a city's name ("Princess
            # Merida": Mérida, Yucatán), so those need support, as they would alone; so does a
            # word of an epithet after "the" ("Nemo the clownfish": any clownfish). An alias the
            # registry wrote in lower case is a description ("shapeshifter demigod"): no word of it
            # is a name ("a shapeshifter" is any shapeshifter), and no everyday word of another
            # language in a title translated into it is one ("cosas" of "Cosas extrañas", "neiges"
            # of "La Reine des neiges", nor their misspellings: text.languages)
            translated = _translated_words(role, name)
            for i, tok in enumerate(tokens):
                if (len(tok) >= MIN_COMPACT_LEN and zipf(tok) < PART_MAX_ZIPF and not UNSPACED.search(tok)
                        and tok not in translated):
                    epithet = any(t in ARTICLES for t in tokens[1:i])
                    other_lives = everyday([tok]) or namesakes.is_namesake(tok)
                    level = NEEDS_SUPPORT if role.startswith("element") or other_lives or epithet else DISTINCTIVE
                    entries.append(NameEntry(position, element, f"{role} (part)", name, (tok,), level))
    return entries


def _translated_words(role: str, name: str) -> frozenset[str]:
    """The words of a title or alias that are everyday words of the language it is a phrase of, as
    the index spells them ("Cosas extrañas": cosas, extranas)."""
    if role not in ("title", "alias"):
        return frozenset()
    return frozenset(t for word in everyday_words_of_phrase(name) for t in normalise(word).split())


def compact_form(entry: NameEntry) -> str | None:
    """The name's letters without spaces, when long enough (or CJK) to be looked for inside words."""
    compact = "".join(entry.tokens)
    return compact if len(compact) >= MIN_COMPACT_LEN or UNSPACED.search(compact) else None


class EntryTable:
    """All ``NameEntry`` rows as columns (``clearance.index.columns``); a row is rebuilt when a
    prompt hits it. An element of ``""`` stands for the work itself (names are never empty)."""

    def __init__(self, entries: list[NameEntry]) -> None:
        self.roles = sorted({e.role for e in entries})
        self.work = np.array([e.work for e in entries], np.int64)
        self.element = StringColumn(e.element or "" for e in entries)
        self.role = np.array([self.roles.index(e.role) for e in entries], np.int8)
        self.name = StringColumn(e.name for e in entries)
        self.tokens = StringColumn(" ".join(e.tokens) for e in entries)
        self.level = np.array([e.level for e in entries], np.int8)

    def __getitem__(self, i: int) -> NameEntry:
        return NameEntry(int(self.work[i]), self.element[i] or None, self.roles[self.role[i]], self.name[i],
                         tuple(self.tokens[i].split(" ")), int(self.level[i]))
