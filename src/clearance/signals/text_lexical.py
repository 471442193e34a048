"""``text.lexical``: titles, character names and aliases, found word by word.

Matching is over normalised word tokens (never raw substrings, so "pegboard" cannot hit
"Peg"), with typo tolerance only for words that are not ordinary English (a misspelt
"Sqiud" is caught; "strange thing" is not turned into "Stranger Things"), and a typo keeps the
first letter; a name typed without its vowels ("Strngr") is caught too. Spaced-out or dotted
letters lose their word boundaries, so inside those runs (and inside CJK text, which has none)
names are found as substrings of the joined letters, the longest where names overlap; a name
broken inside a word ("Stran ger") is joined again.

Names that are ordinary words ("Eleven", "Wednesday", "One"), places ("Nairobi") or figures of myth
and public-domain literature ("Pandora", "Rapunzel", "Captain Hook") are ambiguous:
they count only with support — the name was disguised or misspelt, another name of the same work
appears (one that is neither as short as three letters nor among the commonest words: "M" and
"Q" do not vouch for each other; a name of stopwords only, "It" or "Her", is no name at all),
a name of several words is written as a title, or the prompt asks for the work ("fan art",
"cosplay", "poster") and the name is several words in any case (people type "stranger things
fan art" in lower case) or one capitalised word, or one everyday word is capitalised where English
capitalises only names ("oil painting of Toothless"); a one-word title after "from", with another name
of its work before it, is the title even in lower case ("doc from cars"). That is what separates
"eLeVeN fan art" and "Eleven fan art" from "eleven candles on a cake" and "eleven fan art". Telling description
words of the work around the name are weaker support: such a match is reviewed, and the
description layer decides whether the prompt blocks. A figure's name said alone is reviewed too,
since it may mean the work as much as the figure. A word of English in its own right is no
typo of a name ("ringed" is not "Ringe"), and a name of everyday words said after "a" or "an"
is a common noun ("a dark lord costume"); any name after "named" or "called" or "my daughter",
before a surname ("Zelda Fitzgerald"), or inside a longer name on the namesake lists ("michelangelo
buonarroti"), is somebody's own ("a girl named Sakura") unless the work is asked for all the same.
A prop, place or character named in dictionary words ("Frying pan",
"Weeping Angel") is the everyday thing unless supported, and a word of a name that is no name on
its own (a rare word of a prop's name, of an epithet: "Nemo the clownfish") vouches for nothing.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import ahocorasick
from rapidfuzz import process
from rapidfuzz.distance import OSA

from clearance.content import Content
from clearance.index.columns import FormIndex, KeyIndex, OneEditIndex, StringColumn, WorkKeys
from clearance.registry.views import RegistrySnapshot, description_texts
from clearance.signals.base import SignalType, calibrate
from clearance.signals.name_entries import (
    ARTICLES,
    DISTINCTIVE,
    MIN_COMPACT_LEN,
    NEEDS_CONTEXT,
    NEEDS_SUPPORT,
    QUALIFIER,
    EntryTable,
    NameEntry,
    compact_form,
    everyday,
    only_a_namesake,
    only_a_number_more,
    said_words,
    vouches,
    work_entries,
)
from clearance.text import dictionary, gazetteer, keywords, languages, namesakes, package_data
from clearance.text.dictionary import is_listed, is_ordinary_word, is_proper_name
from clearance.text.gazetteer import is_place
from clearance.text.keywords import (
    RANKS,
    STOPWORDS,
    KeywordTable,
    keyword_weights,
    stem,
    use_frequency_table,
    zipf,
)
from clearance.text.normalize import UNSPACED, Token, content_tokens, normalise, undoubled
from clearance.verdict import Match

CUES = re.compile(
    r"\b(fan ?art|cosplay|(?<!original )characters?|official|episode|season|series|movie|"
    r"(?<!mm )film(?! (?:photo|photograph|photography|grain|camera|stock|look|negative|roll|emulation)\b)|"
    r"franchise|poster|wallpaper|"
    r"plush|figurine|(?:action|vinyl|collectible|pvc|resin|anime) figure|minifig(?:ure)?|funko|lego|merch|costume|"
    r"stickers?|fanfic|crossover|parody|scene from|cartoon|anime|live action|"
    r"video ?game|game (?:art|render|screenshot|still|footage|cover)|gameplay|in-game|box art|"
    r"comic book|comics|comic (?:art|panel|strip|cover)|manga)\b"
)
"""Words that ask for a work's own material. An "original character" is the user's own, not a cue,
and "film" in a photograph's description ("35mm film", "a candid film photo") is the medium. A
"figure" is a toy only as an "action figure" and the like, or right after the name ("Merida
figure"): "a lone figure walking through Nairobi" is somebody in Nairobi. A game's own material is
asked for as "video game", "game art", "game render", "gameplay" and the like, not by "game" alone
("a board game"); a comic's as "comic book", "comics", "manga" (not "comic relief")."""
CJK_CUES = re.compile(
    "ファンアート|ポスター|コスプレ|フィギュア|ぬいぐるみ|グッズ|アニメ|漫画|マンガ|映画|壁紙|キャラクター|コミック|カートゥーン|"
    "팬아트|포스터|코스프레|피규어|굿즈|애니|만화|영화|배경화면|캐릭터|코믹|카툰|"
    "同人|海报|手办|周边|公仔|动漫|动画|电影|壁纸|卡通"
)
"""``CUES`` in Japanese, Korean and Chinese (fan art, poster, cosplay, figure, plush, merchandise,
anime, manga, film, wallpaper, character, comic, cartoon), found inside unspaced text: a name in a
script without capitals ("トトロ", "배트맨") cannot be written as a title, so such a request is its
support."""
FIGURE = frozenset(("figure", "figures"))
SENTENCE_ENDS = frozenset(".!?:;,\"“'‘([\n")
"""After these a word is capitalised as the first of a sentence, a quotation or an item of a list of
tags ("a misty valley, Frozen lake, pine trees"), not as a name."""
NAME_JOINERS = frozenset(("of", "the", "and", "de", "la", "le", "von", "van", "da", "del", "du"))
"""Lower-case words inside longer names: "the Ark of the Covenant", "Dungeons and Dragons"."""
INDEFINITE = frozenset(("a", "an"))
GIVEN = frozenset(stem(w) for w in ("named", "called", "nicknamed"))
"""Words before a name that make it somebody's own: "a girl named Sakura", "a dog called Totoro"."""
PLACE_NOUNS = frozenset(
    "island islands river lake bay beach park street avenue road valley mountain mountains strait canyon falls "
    "county province prefecture district city town village harbour harbor peninsula desert forest peak".split()
)
"""Capitalised after a name, these make it a place's name: "Nami Island", "Naruto Strait"."""
PLACE_ONLY_NOUNS = frozenset("prefecture province county district peak strait peninsula".split())
"""After a name these make it a place's name in lower case too ("miyagi prefecture", "mera peak"):
they follow little else, where "a spongebob beach towel" and "a minecraft village" are the works."""
POSSESSIVES = frozenset(("my", "our", "his", "her", "their", "your"))
KIN = frozenset(stem(w) for w in (
    "daughter son baby kid child friend wife husband partner mom mum mother dad father sister brother niece "
    "nephew cousin aunt uncle grandma grandpa grandmother grandfather grandson granddaughter boyfriend girlfriend "
    "fiance fiancee neighbor neighbour colleague coworker boss teacher dog cat puppy kitten pet"
).split())
"""After "my" (or "our", ...), these say whose name follows: "my daughter Moana", "my friend Leslie"
(``_kin_of_somebody``)."""
DIGIT = re.compile(r"[0-9]")
MIN_FUZZY_LEN = 4
MIN_SKELETON_LEN, MIN_UNVOWELLED_NAME_LEN, MIN_BARE_SKELETON_LEN = 2, 5, 5
"""A short name word typed without its vowels ("mn" for "man") is read as that word inside a name of
several words so typed, of this many letters together ("irn mn"): ``_short_words_unvowelled``. A name
word that begins with a vowel is also read from its letters without any vowel when that leaves this
many ("lstgrl"), where four would be as often an acronym ("ptms" for "Optimus", "nsfw")."""
MAX_FUZZY_LEN = 64
"""Longer words are never typos of a name (none is this long): the one-edit candidates of a word
cost its length squared, and a prompt of 20,000 spaced-out letters is one such word (78 s before)."""
TYPO_MAX_ZIPF = 3.0
"""Only words rarer than this may be typos ("kite" is a word, not a misspelt "Kate")."""
SHORT_TYPO_MAX_ZIPF = 2.0
ENGLISH_MIN_ZIPF = 2.0
"""A word this frequent is a word of English ("elven" 2.6), not a misspelling: frequencies also
count common misspellings, but lower ("wensday" 1.0, "hoper" 1.5)."""
REAL_WORD_MIN_ZIPF = 2.5
"""A word this frequent, one typo from a distinctive name, is a word of its own ("ringed" 2.9 is not
the German "Ringe" of "Der Herr der Ringe", "Fredo" 2.6 is not "Frodo"); the misspellings people
type for names are rarer ("Bridgeton" 2.3, "Hermoine" 1.6) and still match."""
FIRST_LETTER_FREE_LEN = 8
"""Names this long may be misspelt at their first letter too (seven letters left when it is dropped)."""
TWO_EDITS_LEN = 7
"""Words this long may be two edits from a name ("Wensday")."""
LONG_NAME_LEN = 10
"""A name word this long, misspelt twice, is still that name without other support: no word of
English or place comes within two edits of one ("gisaengchoong" is *Parasite*'s Korean title),
while shorter names have such neighbours ("Geiranger" fjord is two from "Granger")."""
MAX_GLUED_WORDS = 8
"""Most words a name split by punctuation or spaces is looked for across ("Squid_Game", "Stran ger"): the runs
are tried at every start and length, and a prompt of 5,000 accented letters separated by
combining marks is one run of 5,000 words."""
JOIN_GAP = re.compile(r"|\S{1,3}|[ _.'’:,–—-]{1,3}|-\r?\n")
"""What may join the words of a name ("Squid_Game", "Ki-hun", "Gi.hun"; nothing, where normalising cut
one word in two: "ToyStory2" is "toystory" and "2"), or break a name inside a
word ("Stran ger", "St- ranger": spaces and a little punctuation, a title's colon, comma or dash
too: "Frozen: el re ino del hielo", whose Spanish words count only together)."""
VOWELS = re.compile("[aeiou]")
MAX_SEGMENT, MAX_SEGMENTED_RUN = 24, 64
"""Longest name word a run of spaced-out letters is cut into (``_segment``), and longest run cut: a
hostile prompt of 9,000 spaced letters is one run, and names said that way are a few words."""
KEYWORD_SUPPORT = 4.0
"""Summed rarity of a work's description words in a prompt that counts as context."""
CONTEXT_ONLY_RAW = 0.7
"""Raw score (review) of an ambiguous name whose only support is description words: "ash falling
like snow" near "fire" and "dragon" is not Ash Ketchum, "dungeons and dragons" is not a Game of
Thrones element. Review leaves the decision to the description layer, which runs next
(cheapest-first screening stops only at a block) and blocks when the prompt describes the work."""


MIDDLE_NOT_A_NAME = STOPWORDS | frozenset("le la les de du des van von der den di da del dos y e bin al el mac mc st o"
                                           .split())
"""Little words and surname particles, which a title-cased text capitalises but which are no
middle name ("Simon Le Basset", "Simon And Basset": ``TextLexical._middle_name_hits``)."""


@dataclass
class _Hit:
    entry: NameEntry
    start: int  # token index
    end: int
    tokens: list[Token]
    fuzzy: bool
    compact: bool


@dataclass
class _SpansOf:
    """Where the names of one work spelt with the same words were said (``_NamesSaid``)."""
    names: set[str]
    first_end: int
    last_start: int
    only_as_words: bool
    """Each time, a one-word name said as the everyday word it also is (``_an_everyday_word``)."""
    shortest_from: dict[int, int] = field(default_factory=dict)
    """Where each saying of these words starts -> where the shortest ends (``inside``)."""

    def inside(self, start: int, end: int) -> bool:
        """Said within the words ``start``..``end``, as "Fiona" in "Princess Fiona": whichever is fewer
        is walked, the words or the sayings (a name found in a run of 5,000 spaced letters spans them)."""
        if end - start > len(self.shortest_from):
            return any(start <= k and stop <= end for k, stop in self.shortest_from.items())
        return any(self.shortest_from.get(k, end + 1) <= end for k in range(start, end))


@dataclass
class _NamesSaid:
    """The names of one work said in a prompt, summed up once so that each hit's questions (is
    another name of the work said apart from it? does a name start or sit here?) cost the same
    however often a name recurs: a 100 kB prompt of one name repeated is one request, not a
    quadratic walk over every pair of its hits."""
    by_words: dict[tuple[str, ...], _SpansOf] = field(default_factory=dict)
    starts: set[int] = field(default_factory=set)
    covered: set[int] = field(default_factory=set)

    def add(self, hit: _Hit, as_a_word: bool) -> None:
        spans = self.by_words.setdefault(_name_words(hit.entry), _SpansOf(set(), hit.end, hit.start, True))
        spans.names.add(hit.entry.name)
        spans.only_as_words = spans.only_as_words and as_a_word
        spans.shortest_from[hit.start] = min(spans.shortest_from.get(hit.start, hit.end), hit.end)
        spans.first_end, spans.last_start = min(spans.first_end, hit.end), max(spans.last_start, hit.start)
        self.starts.add(hit.start)
        self.covered.update(range(hit.start, hit.end))


def _piece(tok: Token, at: int, length: int) -> Token:
    """The letters ``at``..``at + length`` of an unspaced-script word as a word of their own, with their own span,
    so evidence and the rewrite name the title and not the sentence around it ("我想看鱿鱼游戏的视频");
    the whole word where normalising changed its length (half-width kana)."""
    if len(tok.original) != len(tok.text) or (at, length) == (0, len(tok.text)):
        return tok
    return Token(tok.text[at : at + length], tok.start + at, tok.start + at + length, tok.disguised, tok.collapsed,
                 tok.original[at : at + length], tok.stretched)


@functools.lru_cache(maxsize=1 << 16)
def _name_words(entry: NameEntry) -> tuple[str, ...]:
    """``name_entries.said_words`` of the entry, computed once per entry."""
    return said_words(entry.tokens)


class TextLexical(SignalType):
    name = "text.lexical"
    version = "53"
    content_kinds = frozenset({"text"})
    bases = frozenset({"name"})
    persist_index = True

    def index(self, snapshot: RegistrySnapshot) -> None:
        """Names, the words of names and their typo variants, each as a ``KeyIndex`` over arrays.

        Phrase lookup replaces a token trie: ``phrases`` maps each name's words (joined by
        spaces) to its entries, and each proper prefix of a multi-word name to -1, so a prompt
        is walked word by word as before.
        """
        use_frequency_table(self.store_dir)
        works = snapshot.works
        entries = [e for position, work in enumerate(works) for e in work_entries(work, position)]
        languages.forget()
        self.works = WorkKeys(w.key for w in works)
        self.keywords = KeywordTable([keyword_weights(description_texts(w)) for w in works])
        self.entries = EntryTable(entries)
        prefixes = sorted({" ".join(e.tokens[:k]) for e in entries for k in range(1, len(e.tokens))})
        self.phrases = KeyIndex([(" ".join(e.tokens), i) for i, e in enumerate(entries)] + [(p, -1) for p in prefixes])
        name_tokens = sorted({t for e in entries for t in e.tokens})
        self.name_tokens = KeyIndex((t, 0) for t in name_tokens)
        self.fuzzy_tokens = OneEditIndex(t for t in name_tokens if len(t) >= MIN_FUZZY_LEN and not t.isdigit())
        self.skeletons = FormIndex((t, s) for t in name_tokens if t.isascii() and t.isalpha()
                                   for s in skeletons(t) if s != t)
        self.short_skeletons = FormIndex((t, s) for t in name_tokens if t.isascii() and t.isalpha()
                                         and MIN_SKELETON_LEN <= len(s := skeleton(t)) < MIN_FUZZY_LEN and s != t)
        self.undoubled = FormIndex((t, undoubled(t)) for t in name_tokens if undoubled(t) != t)
        long_tokens: dict[str, list[str]] = defaultdict(list)  # first letter -> long name words
        for tok in name_tokens:
            if len(tok) >= TWO_EDITS_LEN and not UNSPACED.search(tok):
                long_tokens["^" + tok[0]].append(tok)
        self.long_tokens = {k: tuple(v) for k, v in long_tokens.items()}
        compact_pairs = [(c, i) for i, e in enumerate(entries) if (c := compact_form(e)) is not None]
        self.compact_entries = KeyIndex(compact_pairs)
        self.compacts = StringColumn(dict.fromkeys(c for c, _ in compact_pairs))
        self.fuzzy_compact = OneEditIndex(c for c, i in compact_pairs
                                          if len(entries[i].tokens) > 1 and not UNSPACED.search(c))
        self.short_compact_entries = KeyIndex(  # "r2d2", "xmen": too short to look for inside words
            (c, i) for i, e in enumerate(entries)
            if len(e.tokens) > 1 and MIN_FUZZY_LEN <= len(c := "".join(e.tokens)) < MIN_COMPACT_LEN
            and not UNSPACED.search(c))
        self.compact = ahocorasick.Automaton(ahocorasick.STORE_INTS)  # value: position in ``compacts``
        for i, compact in enumerate(self.compacts):
            self.compact.add_word(compact, i)
        if len(self.compacts):
            self.compact.make_automaton()
        self.has_compact = bool(len(self.compacts))

    def model_versions(self) -> dict[str, str]:
        """The code's version, what words depend on (``keywords.versions``) and digests of the word
        lists the index's entries were judged with (``clearance.text.package_data``)."""
        return {self.name: self.version, **keywords.versions(),
                **{f"text.{name.split('.')[0]}": package_data.digest(name)
                   for name in (*dictionary.FILES, gazetteer.FILE, *namesakes.FILES)}}

    def preload(self) -> None:
        """Every prompt's words are weighed by their frequency in English: open the frequency table
        kept in this signal's folder before the first prompt (building it if it is missing). The
        word after a name is looked up in the dictionary and the gazetteer (is it a surname, a
        place?), a typo's word in the namesakes and the words around a name in their longer names:
        read them now too, not in the first such request (~80 ms for the dictionary)."""
        use_frequency_table(self.store_dir)
        is_listed("")
        is_place("")
        namesakes.load()

    def _entries_of(self, ids: list[int]) -> list[NameEntry]:
        return [self.entries[i] for i in ids if i >= 0]

    # -- matching -----------------------------------------------------------------------
    @staticmethod
    def _typo_candidate(word: str) -> bool:
        """Only words that are not ordinary English may be typos of a name."""
        if not MIN_FUZZY_LEN <= len(word) <= MAX_FUZZY_LEN or word.isdigit() or UNSPACED.search(word):
            return False
        return zipf(word) < (SHORT_TYPO_MAX_ZIPF if len(word) == MIN_FUZZY_LEN else TYPO_MAX_ZIPF)

    def _within_two_edits(self, word: str) -> set[str]:
        """Long name words two edits away that begin with the word's first letter (``_within_one_edit``)."""
        found = process.extract(word, self.long_tokens.get("^" + word[0], ()), scorer=OSA.distance, score_cutoff=2,
                                limit=None)
        return {name for name, _dist, _ in found if abs(len(name) - len(word)) <= 2}

    @staticmethod
    def _within_one_edit(word: str, index: OneEditIndex) -> set[str]:
        """Names one edit away that begin with the same letter: misspellings keep the first letter
        (every typo in the labelled prompts does), while a short word that differs from a name there
        is another word ("kente" cloth is not the "Mente" of *Intensa-Mente*). A long name changed at
        its first letter ("Vridgerton", "Dtranger", "tranger") is a deliberate disguise: no word of
        English lies there (``FIRST_LETTER_FREE_LEN``). A digit added, dropped or changed is no typo
        but another number: "half-life" is not "Half-Life 2", nor "ocean's 12" "Ocean's 11"."""
        return {c for c in index.candidates(word) if c != word and OSA.distance(c, word) <= 1
                and (c[:1] == word[:1] or (len(c) >= FIRST_LETTER_FREE_LEN and len(word) >= FIRST_LETTER_FREE_LEN - 1))
                and DIGIT.sub("", c) != DIGIT.sub("", word)}

    def _alternatives(self, word: str) -> set[str]:
        """The word itself plus registered name words within one edit of it, or that it spells
        without their vowels ("Strngr Thngs")."""
        if len(word) < MIN_FUZZY_LEN and skeleton(word) == word and word not in self.name_tokens:
            return {word} | self.short_skeletons.get(word)  # a hit must pass ``_short_words_unvowelled``
        if word in self.name_tokens or not self._typo_candidate(word):
            return {word}
        found = {word} | self._within_one_edit(word, self.fuzzy_tokens)
        if skeleton(word) == word:
            found |= self.skeletons.get(word)
        if len(word) >= TWO_EDITS_LEN and len(found) == 1:
            found |= self._within_two_edits(word)
        return found

    def _doubled_names(self, tok: Token) -> set[str]:
        """Name words with a doubled letter that a stretched word, read with each letter once, may
        have had ("Addddams" is read "adams", and may be "addams")."""
        if not tok.stretched:
            return set()
        return self.undoubled.get(undoubled(tok.text))

    def _phrase_hits(self, tokens: list[Token]) -> list[_Hit]:
        """Names said word by word, each word as typed or one of its ``_alternatives``. Once a name is
        misspelt, its later words may be one edit off even where that makes a word of English:
        "micheal scot" misspells "Michael Scott" throughout, while "a stranger thing" is no typo."""
        alternatives = [self._alternatives(t.text) | self._doubled_names(t) for t in tokens]
        # each word's options in a fixed order (so ties resolve alike in every process); after a
        # misspelt word, those plus the name words one edit off (once per word, when first needed)
        in_order = [sorted(options) for options in alternatives]
        after_typo: dict[int, list[str]] = {}

        def loose(j: int) -> list[str]:
            if j not in after_typo:
                after_typo[j] = sorted(alternatives[j] | self._within_one_edit(tokens[j].text, self.fuzzy_tokens))
            return after_typo[j]

        hits = []
        for i in range(len(tokens)):
            frontier = [("", False)]
            for j in range(i, len(tokens)):
                step = []
                for prefix, fuzzy in frontier:
                    for alt in loose(j) if fuzzy and len(tokens[j].text) >= MIN_FUZZY_LEN else in_order[j]:
                        phrase = f"{prefix} {alt}" if prefix else alt
                        ids = self.phrases.get(phrase)  # entries of the name, -1 for a prefix of one
                        if ids:
                            step.append((phrase, fuzzy or not _same_word(tokens[j].text, alt), ids))
                frontier = [(phrase, fuzzy) for phrase, fuzzy, _ in step]
                if not frontier:
                    break
                for _, fuzzy, ids in step:
                    for entry in self._entries_of(ids):
                        if _short_words_unvowelled(tokens[i : j + 1], entry):
                            hits.append(_Hit(entry, i, j + 1, tokens[i : j + 1], fuzzy, False))
        return hits

    def _glued_hits(self, tokens: list[Token], text: str) -> list[_Hit]:
        """Names split by punctuation without spaces ("Ve-cna", "Squid_Game", "Gi.hun"), or broken by a
        space inside a word (``_broken_name_hits``), looked for in runs of words from every start."""
        hits = []
        for i in range(len(tokens)):
            joined, spaced, odd = tokens[i].text, False, False
            for j in range(i + 1, min(len(tokens), i + MAX_GLUED_WORDS)):
                gap = text[tokens[j - 1].end : tokens[j].start]
                if not JOIN_GAP.fullmatch(gap):
                    break
                joined += tokens[j].text
                spaced = spaced or " " in gap  # and so are all longer runs from i
                if spaced:
                    if not (self.has_compact and self.compact.match(joined)):
                        break  # no name begins with these letters
                    hits += self._broken_name_hits(tokens[i : j + 1], i, joined)
                    continue
                odd = odd or gap not in ("-", "_", "'", "’")  # tags join words with "_": "the_monster"
                candidates = {joined} if joined in self.compact_entries else set()
                if self._typo_candidate(joined) and len(joined) >= 6:
                    candidates |= self._within_one_edit(joined, self.fuzzy_compact)
                for compact in sorted(candidates):
                    hits += [_Hit(e, i, j + 1, tokens[i : j + 1], compact != joined, odd)
                             for e in self._entries_of(self.compact_entries.get(compact))]
        return hits

    def _middle_name_hits(self, tokens: list[Token], text: str) -> list[_Hit]:
        """A character's two-word name with a middle name or initial inside ("Harry James Potter",
        "Young Jim R. Hopper at the station"), all three words capitalised as written: the name said
        in full, which the word-by-word match missed (a QA pass, 2026-12-08: "Harry Potter on a
        broom" blocked, "Harry James Potter on a broom" was allowed). Verify passes bounded it:
        only characters' names written as a person's, both words capitalised (not "Pink guards"), that
        do not start with a rank ("Queen Sophie Charlotte" is somebody else), three words joined by spaces alone
        ("Kate, Raj Sharma" and "Kate & Raj Sharma" are two people), a middle word that is no
        particle or little word ("Simon Le Basset"), and a last word not followed by a capitalised
        one, with which it would be another name ("Harry Truman Potter County", "Steve Jobs
        Harrington Park"). Two middle names too ("Harry James Edward Potter", since 2026-12-08)."""
        hits = []
        for size in (3, 4):
            for i in range(len(tokens) - size + 1):
                window = tokens[i : i + size]
                if (any(t.disguised or t.collapsed or not _capitalised(t, text) for t in window)
                        or window[0].text in RANKS or any(t.text in MIDDLE_NOT_A_NAME for t in window[1:-1])
                        or not _joined_by_spaces(window, text) or _named_on(tokens, i + size, text)):
                    continue
                ids = self.phrases.get(f"{window[0].text} {window[-1].text}")
                hits += [_Hit(e, i, i + size, window, False, False) for e in self._entries_of(ids)
                         if e.role.startswith("character") and len(e.tokens) == 2
                         and all(word[:1].isupper() for word in e.name.split())]
        return hits

    def _broken_name_hits(self, window: list[Token], start: int, joined: str) -> list[_Hit]:
        """A name broken by a space inside a word ("Stran ger Things", "Squid Ga me", "Vec na"): exactly
        its letters, split elsewhere than between its words, and a disguise only where a piece is no
        word of English: "bat man" is two words, and "up side down" is not the Upside Down."""
        said = tuple(t.text for t in window)
        if joined not in self.compact_entries or all(is_ordinary_word(w) for w in said):
            return []
        return [_Hit(e, start, start + len(window), window, False, True)
                for e in self._entries_of(self.compact_entries.get(joined)) if e.tokens != said]

    def _compact_hits(self, tokens: list[Token]) -> list[_Hit]:
        """Names inside joined letter runs, long unknown words (hashtags, "vecnaposter") and CJK text: in
        an unknown word, a name of several words or one that is only a name, a disguise there."""
        if not self.has_compact:
            return []
        hits = []
        for i, tok in enumerate(tokens):
            inside = tok.collapsed or UNSPACED.search(tok.text) or (len(tok.text) >= 10 and zipf(tok.text) == 0)
            if inside:
                for compact in self._outermost_inside(tok.text):
                    unspaced = UNSPACED.search(compact) is not None  # written so, or a particle attached
                    said = _piece(tok, tok.text.find(compact), len(compact)) if unspaced else tok
                    hits += [_Hit(e, i, i + 1, [said], False, not unspaced)
                             for e in self._entries_of(self.compact_entries.get(compact))
                             if len(e.tokens) > 1 or tok.collapsed or unspaced
                             or (e.level == DISTINCTIVE and self._glued_to_words(tok.text, compact))]
            if tok.collapsed:
                hits += self._segmented_hits(tok, i)
            if not is_ordinary_word(tok.text):  # the name as people also write it, not a disguise
                hits += [_Hit(e, i, i + 1, [tok], False, False)
                         for e in self._entries_of(self.short_compact_entries.get(tok.text))]
            if self._typo_candidate(tok.text) and len(tok.text) >= 5 and tok.text not in self.name_tokens:
                # "squidgame", "sqiudgame", "gihun"; a word that is a name itself is no typo of another
                exact = {tok.text} if tok.text in self.compact_entries else set()
                for compact in sorted(exact | self._within_one_edit(tok.text, self.fuzzy_compact)):
                    hits += [_Hit(e, i, i + 1, [tok], compact != tok.text, True)
                             for e in self._entries_of(self.compact_entries.get(compact)) if len(e.tokens) > 1]
        return hits

    def _glued_to_words(self, word: str, name: str) -> bool:
        """Whether ``word`` is ``name`` glued to words ("avecnaposter": "a" and "poster"): what is left
        on each side is nothing, a word of English or of a registered name, or two words of English
        ("fanart"). A name inside a word of another language is not said there: "narutomaki", the
        fish cake, holds "naruto"."""
        at = word.find(name)
        return all(self._words_or_name(side) for side in (word[:at], word[at + len(name):]))

    def _words_or_name(self, letters: str) -> bool:
        if len(letters) > 2 * MAX_SEGMENT:  # no two words are this long: a hostile 20,000-letter run is not
            return False                   # split at every position
        return (not letters or is_ordinary_word(letters) or letters in self.name_tokens
                or any(is_ordinary_word(letters[:k]) and is_ordinary_word(letters[k:])
                       for k in range(2, len(letters) - 1)))

    def _unspaced_run_hits(self, tokens: list[Token], text: str) -> list[_Hit]:
        """A CJK (or Thai...) name of several words found across the words of a run of such text as people write it:
        Korean attaches particles to the last word ("오징어 게임의 인형", Squid Game's doll) and spaces
        where it likes, so the name's letters are looked for in the run's letters, spaces dropped."""
        if not self.has_compact:
            return []
        runs: list[list[int]] = []  # consecutive unspaced-script words with nothing but spaces between them
        for i, tok in enumerate(tokens):
            if not UNSPACED.search(tok.text):
                continue
            if runs and runs[-1][-1] == i - 1 and not text[tokens[i - 1].end : tok.start].strip():
                runs[-1].append(i)
            else:
                runs.append([i])
        return [hit for run in runs if len(run) > 1 for hit in self._across(tokens, run)]

    def _across(self, tokens: list[Token], run: list[int]) -> list[_Hit]:
        """Names inside the joined letters of the words ``run`` that span more than one of them."""
        ends = list(itertools.accumulate(len(tokens[i].text) for i in run))
        hits = []
        for end, k in self.compact.iter("".join(tokens[i].text for i in run)):  # letters start..end
            compact, start = self.compacts[k], end + 1 - len(self.compacts[k])
            first, last = bisect.bisect_right(ends, start), bisect.bisect_right(ends, end)  # the words holding them
            if last == first or not UNSPACED.search(compact):
                continue
            head, tail = tokens[run[first]], tokens[run[last]]
            skip = start - (ends[first - 1] if first else 0)
            said = [_piece(head, skip, len(head.text) - skip), *tokens[run[first] + 1 : run[last]],
                    _piece(tail, 0, end + 1 - ends[last - 1])]
            hits += [_Hit(e, run[first], run[last] + 1, said, False, False)
                     for e in self._entries_of(self.compact_entries.get(compact))]
        return hits

    def _segmented_hits(self, tok: Token, i: int) -> list[_Hit]:
        """A run of spaced-out letters that is wholly a sequence of name words names what they name,
        short names too ("I n d y J o n e s": "Indy", whom no name of five letters or more inside
        the run finds), the longest where names overlap, as inside any run."""
        words = self._segment(tok.text) if len(tok.text) <= MAX_SEGMENTED_RUN else []
        if len(words) < 2:
            return []
        said = [Token(w, tok.start, tok.end, True, True, tok.original) for w in words]
        found = self._phrase_hits(said)
        return [_Hit(h.entry, i, i + 1, [tok], False, True)
                for h in _outermost(found, lambda hit: (hit.start, hit.end))]

    def _segment(self, letters: str) -> list[str]:
        """The fewest registered name words that spell ``letters`` exactly (none if they do not)."""
        best: list[list[str] | None] = [[]] + [None] * len(letters)
        for a in range(len(letters)):
            if best[a] is None:
                continue
            for b in range(a + 2, min(len(letters), a + MAX_SEGMENT) + 1):
                if (best[b] is None or len(best[a]) + 1 < len(best[b])) and letters[a:b] in self.name_tokens:
                    best[b] = [*best[a], letters[a:b]]
        return best[-1] or []

    def _outermost_inside(self, joined: str) -> list[str]:
        """The names found inside a run of joined letters, each once however often it recurs, less
        those found only within a longer one: "strangerthings" holds "anger" and "indianajones" holds
        "jones", and neither is a name said there."""
        found = sorted({(end + 1 - len(self.compacts[k]), end + 1) for end, k in self.compact.iter(joined)})
        return list(dict.fromkeys(joined[a:b] for a, b in _outermost(found, lambda span: span)))

    def match(self, content: Content) -> list[Match]:
        text = content.text or ""
        tokens = content_tokens(content)
        hits = (self._phrase_hits(tokens) + self._compact_hits(tokens) + self._unspaced_run_hits(tokens, text)
                + self._glued_hits(tokens, text) + self._middle_name_hits(tokens, text))
        if not hits:
            return []
        words = [stem(t.text) for t in tokens]
        said = " ".join(t.text for t in tokens)
        cue = CUES.search(said) is not None or CJK_CUES.search(said) is not None
        sources = _sources(hits, words)
        as_words = [_an_everyday_word(h, text) and i not in sources for i, h in enumerate(hits)]
        works_named = defaultdict(_NamesSaid)  # names that can support another: not the shortest or
        for h, as_a_word in zip(hits, as_words, strict=True):  # commonest, nor a word of a name that is
            if vouches(h.entry):
                works_named[h.entry.work].add(h, as_a_word)  # no name on its own ("clownfish")
        best: dict[tuple, Match] = {}
        for hit, as_a_word in zip(hits, as_words, strict=True):
            match = self._score(hit, tokens, text, words, cue, works_named, as_a_word)
            if match is None:
                continue
            key = (hit.entry.work, hit.entry.element)
            if key not in best or match.score > best[key].score:
                best[key] = match
        return list(best.values())

    def _score(self, hit: _Hit, tokens: list[Token], text: str, words: list[str], cue: bool,
               named: dict[int, _NamesSaid], as_a_word: bool) -> Match | None:
        entry = hit.entry
        disguised = any(t.disguised or t.collapsed for t in hit.tokens) or hit.compact
        if hit.fuzzy and entry.level == DISTINCTIVE and (_two_typos_in_a_short_word(hit, entry) or _real_word(hit)):
            entry = entry._replace(level=NEEDS_CONTEXT)  # a real word too ("Geiranger", "ringed")
        keywords = self.keywords[entry.work]
        as_is = _said_as_is(hit)
        longer = _longer_name_around(hit, tokens) if as_is else None
        of_another = as_is and (longer is not None
                                or _first_name_of_another(hit, tokens, text, named[entry.work])
                                or _introduced_as_another(hit, words, keywords, named[entry.work]))
        given = (hit.start > 0 and words[hit.start - 1] in GIVEN) or _kin_of_somebody(words, hit.start) or of_another
        a_namesake = only_a_namesake(entry)
        # somebody's own name needs another name of the work elsewhere, as a name needing context does;
        # a namesake's, outside the namesake's name ("grigori rasputin" does not vouch for "rasputin")
        other_name = _other_name(hit, NEEDS_CONTEXT if given else entry.level, named[entry.work],
                                 as_a_word and not cue, longer or ((hit.start, hit.end) if a_namesake else None))
        own = {stem(t.text) for t in hit.tokens}  # a name is no context for itself ("dragons")
        context = sum(keywords.get(w, 0.0) for w in set(words) - own) >= KEYWORD_SUPPORT
        original = text[hit.tokens[0].start : hit.tokens[-1].end]
        words_cased = [w for w in original.split() if w[:1].isalpha() and w.lower() not in STOPWORDS]
        capitalised = bool(words_cased) and all(w[:1].isupper() for w in words_cased)
        uncased = not any(c.isupper() or c.islower() for c in original)  # kana, Hangul, Han
        common_noun = hit.start > 0 and words[hit.start - 1] in INDEFINITE and _article_dropped(entry)
        cue = cue or (hit.end < len(tokens) and tokens[hit.end].text in FIGURE)  # "Merida figure"
        written_as_a_name = _written_as_a_name(hit, tokens, text)
        asked_for = {  # support that says the name is meant, not only that the topic is near
            DISTINCTIVE: True,
            NEEDS_SUPPORT: not common_noun and (disguised or _misspelt(hit, entry) or other_name
                                                or (_several_words(entry) and (capitalised or cue))
                                                or ((capitalised or uncased) and cue) or written_as_a_name),
            NEEDS_CONTEXT: other_name,
        }[entry.level]
        if given:  # somebody's own name, unless the work is asked for all the same; a request word
            # does not ask for it before another's surname: "Harry Styles concert poster" is the singer's
            asked_for = asked_for and (disguised or other_name or (cue and not of_another))
        namesake = not (asked_for or context or given or common_noun) and a_namesake
        if not (asked_for or context or namesake):
            return None
        exact = not (hit.fuzzy or given) and entry.level == DISTINCTIVE and not entry.role.endswith("(part)")
        raw = 1.0 if exact else 0.9 if asked_for else CONTEXT_ONLY_RAW
        reasons = [r for r, on in (("typo-tolerant", hit.fuzzy), ("disguised", disguised),
                                   ("another name of the work", other_name), ("description words", context),
                                   ("character request", cue), ("written as a name", written_as_a_name),
                                   ("also a public-domain figure's or a real namesake's name", namesake)) if on]
        return Match(
            work_id=self.works[entry.work].slug, owner=self.works[entry.work].owner, element=entry.element,
            signal=self.name, basis="name",
            score=round(calibrate(raw, 0.6, 0.85), 4), raw_score=raw,
            evidence=f"{entry.role} {entry.name!r} matched {original!r}"
            + (f" ({', '.join(reasons)})" if reasons else ""),
            details={"span": [hit.tokens[0].start, hit.tokens[-1].end], "words": original, "name": entry.name,
                     "role": entry.role, "fuzzy": hit.fuzzy, "disguised": disguised},
        )


def _same_word(said: str, name_word: str) -> bool:
    """The name word as said, or its plural: "Demogorgons" is no typo of "Demogorgon" (a typo counts
    as support, so until 2026-12-08 the plural of a namesake blocked where the name was reviewed)."""
    return said == name_word or said in (name_word + "s", name_word + "es")


def _capitalised(tok: Token, text: str) -> bool:
    return text[tok.start : tok.end][:1].isupper()


def _joined_by_spaces(words: list[Token], text: str) -> bool:
    """Whether only spaces come between the words, or a full stop and spaces after an initial."""
    gaps = (text[a.end : b.start] for a, b in itertools.pairwise(words))
    return all(gap.isspace() or (gap.startswith(".") and gap[1:].isspace() and len(a.text) == 1)
               for gap, a in zip(gaps, words, strict=False))


def _named_on(tokens: list[Token], at: int, text: str) -> bool:
    """Whether a capitalised word follows at ``at`` after spaces alone: the word before it may begin
    a name with it ("Potter County", "Harrington Park")."""
    return (at < len(tokens) and text[tokens[at - 1].end : tokens[at].start].isspace()
            and _capitalised(tokens[at], text))


def _several_words(entry: NameEntry) -> bool:
    """A name of several words, which written as a title is the name: a title or alias of the work
    ("The Smurfs"), or a character's or element's name of two words besides an article. "The Queen"
    and "the Duke" (characters' aliases) are one everyday word with an article, capitalised as
    English writes any queen's or duke's title: "the Queen of England waving from a balcony" is not
    *Bridgerton*."""
    return len(entry.tokens) > 1 and (entry.role in ("title", "alias")
                                      or sum(t not in ARTICLES for t in entry.tokens) > 1)


def _written_as_a_name(hit: _Hit, tokens: list[Token], text: str) -> bool:
    """A one-word name that is an ordinary word of English and nobody else's ("Toothless", "Hiccup",
    "Sonic"), capitalised where English capitalises only names: after another word of its sentence
    (not after a comma, where lists of tags capitalise each item), after no "a" or "an", as a name
    of its own (not a word of a longer one: "the Ark of the Covenant", "Ocean's Eleven", "Frozen
    Yogurt Bar", nor one of a prompt that capitalises every word). "a photorealistic video of
    Toothless walking through a city" is the dragon; "toothless grin" and "Toothless grin, macro
    photo" (the first word of a sentence) are not. Words that are also names of people or places
    ("Daisy", "Rocky", "Madagascar") stay ambiguous, capitalised or not, and so does a word of a
    longer registered name: "Hanafuda" of "Hanafuda earrings" is a card game too."""
    if len(hit.tokens) != 1 or len(hit.entry.tokens) != 1 or hit.entry.role.endswith("(part)") or not _said_as_is(hit):
        return False
    token, word = hit.tokens[0], hit.entry.tokens[0]
    said = text[token.start : token.end]
    if not (said[:1].isupper() and said[1:].islower()) or not is_ordinary_word(word):
        return False
    if is_proper_name(word) or is_place(word) or namesakes.is_namesake(word):
        return False
    if hit.start > 0 and tokens[hit.start - 1].text in INDEFINITE:
        return False
    previous = tokens[hit.start - 1] if hit.start > 0 else None  # only the text since it is read: a long
    before = text[previous.end if previous else 0 : token.start].rstrip()  # prompt costs no more per hit
    if not before and previous:
        before = text[previous.start : previous.end]
    if not before or before[-1] in SENTENCE_ENDS:
        return False
    return not _in_a_longer_name(hit, tokens, text)


def _in_a_longer_name(hit: _Hit, tokens: list[Token], text: str) -> bool:
    """The capitalised hit has a capitalised neighbour, across joining words ("of", "the", "and")
    and a possessive ("Ocean's Eleven") but not across punctuation: it is a word of a longer name.
    Only the words next to the hit are read, so a long prompt of repeated names costs no more per hit."""
    for step in (-1, 1):
        i = hit.start - 1 if step < 0 else hit.end
        edge = hit.tokens[0].start if step < 0 else hit.tokens[-1].end
        while 0 <= i < len(tokens):
            gap = text[tokens[i].end : edge] if step < 0 else text[edge : tokens[i].start]
            if gap.strip():
                break
            if step < 0 and tokens[i].text == "s" and i > 0 and text[tokens[i - 1].end : tokens[i].start] in ("'", "’"):
                i -= 1  # the word whose "'s" this is
            if text[tokens[i].start : tokens[i].end][:1].isupper():
                return True
            if tokens[i].text not in NAME_JOINERS:
                break
            edge = tokens[i].start if step < 0 else tokens[i].end
            i += step
    return False


def _kin_of_somebody(words: list[str], start: int) -> bool:
    """The name at ``start`` follows a kin word after a possessive, with at most one word between:
    "my aunt Edna", "my great-aunt Edna", "my little sister Elsa", "our family dog Bluey" name
    somebody's own (``words``: the prompt's stems)."""
    if start < 2 or words[start - 1] not in KIN:
        return False
    return words[start - 2] in POSSESSIVES or (start > 2 and words[start - 3] in POSSESSIVES)


def _misspelt(hit: _Hit, entry: NameEntry) -> bool:
    """A typo of a name that is also an everyday word ("Elevn") is deliberate, so it counts as
    support; a word of English one edit from it is just that word: a frequent one ("elven" is not
    "Eleven") or a rarer one of the dictionary ("nightcrawlers" for bait is not *X-Men*'s
    "Nightcrawler")."""
    return hit.fuzzy and all(zipf(t.text) < ENGLISH_MIN_ZIPF and not is_ordinary_word(t.text)
                             for t in hit.tokens if t.text not in entry.tokens)


def _other_name(hit: _Hit, level: int, named: _NamesSaid, as_a_word: bool,
                outside: tuple[int, int] | None = None) -> bool:
    """Another name of the hit's work is in the prompt (``named``). A name that needs context
    (``level``: the commonest words, "Red", or a real word one typo from a name) needs it elsewhere:
    the longer name it is part of ("turning red", itself unsupported) is no support. Nor is a rare
    word of the hit's own name read again ("archery" in the element "Archery contest"), nor another
    form of the same words ("Aliens" for "Alien"), with or without an article ("the oracle of Delphi"
    says the character "The Oracle" and its alias "Oracle" once, not two names). A name said in the
    same words vouches only from inside the hit ("Fiona" for "Princess Fiona": saying the longer says
    both), never from around it: "Black Manta", itself unsupported, says nothing for its word "manta"
    of the prop "Manta Helmet" ("an all-black manta ray"). Nor do two everyday
    words typed as such vouch for each other (``as_a_word``: "joy and sadness in an abstract
    painting" is about two feelings, "joy and sadness from inside out" about *Inside Out*), unless
    the prompt asks for a work's own material (the caller passes ``as_a_word`` false then: "tails
    and knuckles, 3d game render" are two characters of *Sonic*). Where ``outside`` is given (the
    span of a real person's or thing's name around the hit, or of a namesake's name that the hit is),
    only a name said apart from it counts: the words of one real name do not vouch for each other."""
    said = _name_words(hit.entry)
    start, end = outside or (hit.start, hit.end)
    return any(words != said and not (as_a_word and spans.only_as_words)
               and ((level < NEEDS_CONTEXT and spans.names != {hit.entry.name} and outside is None
                     and spans.inside(start, end) and not only_a_number_more(said, words))
                    or spans.first_end <= start or spans.last_start >= end)
               for words, spans in named.by_words.items())


def _an_everyday_word(hit: _Hit, text: str) -> bool:
    """A one-word name that is an everyday word, typed as is and in lower case ("joy and sadness"): it
    is most likely the word, so it vouches for no other name of the work."""
    said = text[hit.tokens[0].start : hit.tokens[-1].end]
    return (len(hit.entry.tokens) == 1 and _said_as_is(hit) and said.islower()
            and everyday([t for t in hit.entry.tokens if t not in STOPWORDS]))


def _sources(hits: list[_Hit], words: list[str]) -> set[int]:
    """The hits that are a title said after "from" with another name of its work before it ("mater the
    tow truck from cars", "merida from brave"): where that name comes from, so the title even in
    lower case, as a title of several words is ("joy and sadness from inside out"). Not "courage from
    brave volunteers in merida": nothing of the work is said before it. (``words``: the prompt's stems.)"""
    first = {}
    for h in hits:
        first[h.entry.work] = min(first.get(h.entry.work, h.start), h.start)
    return {i for i, h in enumerate(hits)
            if h.entry.role in ("title", "alias") and h.start > 0 and words[h.start - 1] == "from"
            and first[h.entry.work] < h.start - 1}


def _said_as_is(hit: _Hit) -> bool:
    """Neither misspelt nor disguised: a name typed wrong on purpose is meant, so what follows it
    cannot make it somebody else's (``_first_name_of_another``, ``_introduced_as_another``)."""
    return not hit.fuzzy and not any(t.disguised or t.collapsed for t in hit.tokens)


def _first_name_of_another(hit: _Hit, tokens: list[Token], text: str, named: _NamesSaid) -> bool:
    """A one-word name followed by a surname or a place's noun that no name of the work begins with
    is part of somebody else's name: "Zelda Fitzgerald", "Harry Styles", "Nami Island", "mera peak";
    followed by a comma and a place, it is a place ("Maui, Hawaii"). A surname is a capitalised word that the
    dictionary lists only as a proper name (not "Kart" of "Mario Kart", nor "Breath" of "Zelda
    Breath of the Wild")."""
    if len(hit.entry.tokens) != 1 or hit.end >= len(tokens):
        return False
    after = tokens[hit.end]
    raw_gap = text[hit.tokens[-1].end : after.start]
    gap = raw_gap.strip()
    if gap not in ("", ",") or not raw_gap:  # glued on ("VecnaXL", "Grogu4K") is no surname
        return False
    if not text[after.start : after.end][:1].isupper():
        return gap == "" and after.text in PLACE_ONLY_NOUNS and hit.end not in named.starts
    if gap == ",":  # "Maui, Hawaii": a place followed by its region or country
        part_of_another = is_place(after.text)
    else:
        part_of_another = (is_listed(after.text) and not is_ordinary_word(after.text)) or after.text in PLACE_NOUNS
    return part_of_another and hit.end not in named.starts


def _introduced_as_another(hit: _Hit, words: list[str], keywords: dict[str, float], named: _NamesSaid) -> bool:
    """A name followed by "the" and what its bearer is, when the work says no such thing of
    anything of its own, names somebody else: "Coco the poodle" is a pet, while "Olaf the snowman"
    and "Crush the sea turtle" are what their works describe (``words`` are stems, as the work's
    description ``keywords`` are)."""
    after = hit.end + 1
    if after >= len(words) or words[hit.end] != "the":
        return False
    return words[after] not in keywords and after not in named.covered


def _longer_name_around(hit: _Hit, tokens: list[Token]) -> tuple[int, int] | None:
    """The span of a longer name of a real person or thing, or of a figure of myth or literature,
    said around the hit ("shaun" in "shaun white", "nemo" in "captain nemo"): that one is meant
    (``namesakes.around``). Only the words near the hit are read, so a long prompt of repeated
    names costs no more per hit."""
    low = max(0, hit.end - namesakes.LONGEST_AROUND)
    near = [t.text for t in tokens[low : hit.start + namesakes.LONGEST_AROUND]]
    found = namesakes.around(near, hit.start - low, hit.end - low)
    return None if found is None else (found[0] + low, found[1] + low)


def _article_dropped(entry: NameEntry) -> bool:
    """The entry is a name said without its leading "the". Said after "a" or "an", such a name of
    everyday words (the only kind that needs support) is a common noun: "a dark lord costume" is
    any dark lord, "the Dark Lord" one character. Description words of the work may still make it
    a review."""
    said = normalise(QUALIFIER.sub(" ", entry.name)).split()
    return said[0] in ARTICLES and tuple(said[1:]) == entry.tokens


def _real_word(hit: _Hit) -> bool:
    """One word that is English in its own right (``REAL_WORD_MIN_ZIPF``), a place's name or a
    namesake's matched a name by a typo: "Namib" (the desert) is not a typo of *One Piece*'s Nami.
    A word of a longer name said alone is weaker evidence, so for it any word of the language's
    own (``ENGLISH_MIN_ZIPF``) is that word: "showa kaiju" (Japan's Showa era) is not a typo of
    the "Shota" of *My Hero Academia*'s Shota Aizawa."""
    if len(hit.tokens) != 1:
        return False
    said = hit.tokens[0].text
    least = ENGLISH_MIN_ZIPF if hit.entry.role.endswith("(part)") else REAL_WORD_MIN_ZIPF
    return zipf(said) >= least or is_place(said) or namesakes.is_namesake(said)


def _two_typos_in_a_short_word(hit: _Hit, entry: NameEntry) -> bool:
    """Whether some word of the match is two typos from a name word under ``LONG_NAME_LEN``
    letters ("Sqiud Gaem" has one per word); a word typed without its vowels is one deliberate
    change, not several typos that might make another word, and a letter doubled in the wrong place
    ("jurrasic" for "jurassic") is the commonest slip of spelling, not two."""
    said = [t.text for t in hit.tokens]
    if len(said) != len(entry.tokens):  # glued or spaced-out letters: compare the letters
        said, names = ["".join(said)], ["".join(entry.tokens)]
    else:
        names = list(entry.tokens)
    return any(len(b) < LONG_NAME_LEN and a not in (skeleton(b), VOWELS.sub("", b)) and undoubled(a) != undoubled(b)
               and OSA.distance(a, b) >= 2
               for a, b in zip(said, names, strict=True))


def _short_words_unvowelled(said: list[Token], entry: NameEntry) -> bool:
    """A name word read from a word of three letters or fewer typed without its vowels ("irn" for
    "iron") is that word only in a name of several words all typed so, of five letters or more
    together ("irn mn", "wr mchn"): alone, such a word is as likely an abbreviation ("mr", "st",
    "tv") or another word's skeleton. Every other hit passes."""
    if len(said) != len(entry.tokens) or not any(
            len(t.text) < MIN_FUZZY_LEN and t.text != word and skeleton(word) == t.text
            for t, word in zip(said, entry.tokens, strict=True)):
        return True  # no short word read as a skeleton (a stretched "Leeeee" is read once as "lee")
    return (len(said) > 1 and all(skeleton(t.text) == t.text and t.text.isalpha() for t in said)
            and sum(len(t.text) for t in said) >= MIN_UNVOWELLED_NAME_LEN)


def _outermost[T](items: list[T], span: Callable[[T], tuple[int, int]]) -> list[T]:
    """The items whose span lies within no other item's longer span, in order."""
    spans = [span(item) for item in items]
    return [item for item, (a, b) in zip(items, spans, strict=True)
            if not any(c <= a and b <= d and (c, d) != (a, b) for c, d in spans)]


def skeleton(word: str) -> str:
    """The word without its vowels but the first letter ("Elvn" for "Eleven", "Strngr")."""
    return word[:1] + VOWELS.sub("", word[1:])


def skeletons(word: str) -> set[str]:
    """The forms a long name word takes typed without its vowels: its ``skeleton``, and for a word
    that begins with a vowel, the letters without that one too ("lstgrl" for "Elastigirl",
    "ncrdbls"), as people drop every vowel; that form needs ``MIN_BARE_SKELETON_LEN`` letters."""
    forms = {s} if len(s := skeleton(word)) >= MIN_FUZZY_LEN else set()
    if len(bare := VOWELS.sub("", word)) >= MIN_BARE_SKELETON_LEN:
        forms.add(bare)
    return forms
