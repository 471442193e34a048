"""Ways people disguise a registered name, each a function of the name and a random source.

Shared by the property tests (which pass Hypothesis' ``randoms()``, so a failure shrinks and
replays) and by ``benchmarks/bench_disguises.py`` (a seeded ``random.Random``, so the battery is
the same from run to run): both exercise exactly the same disguises.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from clearance.registry.store import RegistrySnapshot
from clearance.signals.name_entries import DISTINCTIVE, work_entries
from clearance.text import namesakes
from clearance.text.dictionary import is_ordinary_word
from clearance.text.keywords import zipf
from clearance.text.normalize import UNSPACED, normalise

HOMOGLYPHS = {  # look-alikes from Cyrillic, Greek (capitals too), Armenian, Cherokee and Latin's own IPA letters
    "a": "аɑα", "e": "е", "o": "оοօ", "p": "рρ", "c": "с", "x": "х", "y": "уү", "i": "іɩι", "d": "ԁ", "u": "սʋ",
    "g": "ɡ", "q": "ԛ", "s": "ѕ", "h": "һ", "j": "ј", "w": "ԝ", "v": "ѵν",
    "H": "ΗНᎻ", "N": "Ν", "M": "ΜМᎷ", "Y": "ΥҮ", "Z": "ΖᏃ", "B": "ΒВᏴ", "P": "ΡРᏢ", "K": "ΚКᏦ", "T": "ΤТᎢ",
    "S": "ЅՏᏚ", "G": "ᏀԌ", "E": "ΕЕᎬ", "W": "ᏔԜ", "A": "ΑАᎪ", "C": "СᏟ", "O": "ΟОՕ", "X": "ΧХ", "L": "ᏞⅬ",
}
FAUX_CYRILLIC = {  # letters that "faux Cyrillic" lettering puts in Latin words for the look ("BЯIDGEЯTON")
    "r": "я", "a": "д", "u": "ц", "e": "эє", "w": "шщ", "x": "ж", "b": "б", "y": "ч", "o": "ф",
    "R": "Я", "N": "И", "A": "ДΛΔ", "U": "Ц", "E": "ЭЄΣΞ", "W": "ШЩ", "X": "Ж", "B": "БЪ", "Y": "Ч", "O": "ФΦΘ",
}
HOOKED = dict(zip("bcdfghkmnpqrstyzaeil", "ɓƈɗƒɠɦƙɱƞƥʠɾʂƭƴȥɑɛɩɭ", strict=True))  # hooks, tails, IPA
COPTIC = dict(zip("aeokmnpctyxwibz", "ⲁⲉⲟⲕⲙⲛⲣⲥⲧⲩⲭⲱⲓⲃⲍ", strict=True)) | dict(zip("AEOHKMNPCTYXWIBZ", "ⲀⲈⲞⲎⲔⲘⲚⲢⲤⲦⲨⲬⲰⲒⲂⲌ",
                                                                             strict=True))
FILLERS = "\u3164\uffa0\u115f\u1160\u17b4\u17b5\u2800\ufe00\u180b\U000e0041"  # show as nothing
LEET_SYMBOLS = {"h": "|-|", "k": "|<", "w": "\\/\\/", "n": "|\\|", "m": "|\\/|", "a": "/\\", "d": "|)", "r": "|2",
                "x": "><"}
LEET = {"a": "4", "e": "3", "o": "0", "s": "5", "t": "7"}
SMALL_CAPS = dict(zip("abcdefghijklmnopqrstuvwyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ", strict=True))
SEPARATORS = [" ", ".", "-", " . ", "~", ",", "|", "+", "🌟", "][", "\n"]
SYMBOL_ALPHABETS = [0x1F170, 0x1F150, 0x1F1E6]  # negative squared, negative circled, regional indicators


def distinctive_names(snapshot: RegistrySnapshot) -> list[tuple[str, str]]:
    """(name, work slug) for Latin-script names that need no support and are long enough to disguise."""
    out = []
    for work in snapshot.works:
        for entry in work_entries(work):
            compact = "".join(entry.tokens)
            if entry.level == DISTINCTIVE and len(compact) >= 6 and compact.isascii() and compact.isalpha():
                out.append((entry.name, work.slug))
    return sorted(set(out))


def homoglyph(name: str, rnd: random.Random) -> str:
    return "".join(rnd.choice(HOMOGLYPHS[c]) if c in HOMOGLYPHS and rnd.random() < 0.5 else c for c in name)


def faux_cyrillic(name: str, rnd: random.Random) -> str:
    """Faux Cyrillic letters for some Latin ones, in either case, each word keeping a Latin letter
    (a word of Cyrillic letters only is a word of Russian); in capitals half the time, as it is mostly written."""
    def word(w: str) -> str:
        keep = rnd.choice([k for k, c in enumerate(w) if c.isascii() and c.isalpha()] or [0])
        return "".join(rnd.choice(FAUX_CYRILLIC[c]) if c in FAUX_CYRILLIC and k != keep and rnd.random() < 0.5
                       else c for k, c in enumerate(w))
    return " ".join(word(w) for w in (name.upper() if rnd.random() < 0.5 else name).split(" "))


def hooked(name: str, rnd: random.Random) -> str:
    return "".join(HOOKED[c] if c in HOOKED and rnd.random() < 0.5 else c for c in name)


def coptic(name: str, rnd: random.Random) -> str:
    return "".join(COPTIC[c] if c in COPTIC and rnd.random() < 0.5 else c for c in name)


def parenthesized(name: str, _rnd: random.Random) -> str:
    return "".join(chr(0x249C + ord(c.lower()) - ord("a")) if c.isascii() and c.isalpha() else c for c in name)


def leet_symbols(name: str, rnd: random.Random) -> str:
    """Letters drawn with several symbols ("|-|" for H), in words of three letters or more."""
    def word(w: str) -> str:
        return w if len(w) < 3 else "".join(LEET_SYMBOLS[c.lower()] if c.lower() in LEET_SYMBOLS
                                            and rnd.random() < 0.5 else c for c in w)
    return " ".join(word(w) for w in name.split(" "))


def leet(name: str, rnd: random.Random) -> str:
    return "".join(LEET.get(c.lower(), c) if rnd.random() < 0.5 else c for c in name)


def spacing(name: str, rnd: random.Random) -> str:
    return rnd.choice(SEPARATORS).join(c for c in name if c != " ")


def zero_width(name: str, _rnd: random.Random) -> str:
    return "\u200b".join(name)


def alternating_case(name: str, _rnd: random.Random) -> str:
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(name))


def small_caps(name: str, _rnd: random.Random) -> str:
    return "".join(SMALL_CAPS.get(c.lower(), c) for c in name)


def symbols(name: str, rnd: random.Random) -> str:
    first = rnd.choice(SYMBOL_ALPHABETS)
    return "".join(chr(first + ord(c.lower()) - ord("a")) if c.isascii() and c.isalpha() else c for c in name)


def strike(name: str, _rnd: random.Random) -> str:
    return "".join(c + "\u0336" for c in name)


def stretch(name: str, rnd: random.Random) -> str:
    i = rnd.choice([k for k, c in enumerate(name) if c.isalpha()])
    return name[:i] + name[i] * rnd.randint(3, 6) + name[i + 1 :]


def _in_a_long_word(change: Callable[[str, random.Random], str]) -> Callable[[str, random.Random], str | None]:
    """A change to one word of five letters or more (None for a name without one)."""
    def changed(name: str, rnd: random.Random) -> str | None:
        words = name.split()
        long = [k for k, w in enumerate(words) if len(w) >= 5]
        if not long:
            return None
        i = rnd.choice(long)
        words[i] = change(words[i], rnd)
        return " ".join(words)
    return changed


@_in_a_long_word
def typo(word: str, rnd: random.Random) -> str:
    """A swap, a dropped or a doubled letter, never the first of the word (nor of the part after an
    apostrophe or a hyphen: "l'éponge" is two words)."""
    j = rnd.choice([k for k in range(1, max(2, len(word) - 1)) if word[k - 1].isalpha()] or [1])
    kind = rnd.choice(["swap", "drop", "double"])
    return {"swap": word[:j] + word[j + 1 : j + 2] + word[j] + word[j + 2 :], "drop": word[:j] + word[j + 1 :],
            "double": word[:j] + word[j] + word[j:]}[kind]


@_in_a_long_word
def split(word: str, rnd: random.Random) -> str:
    j = rnd.randint(2, len(word) - 2)
    return word[:j] + " " + word[j:]


@_in_a_long_word
def mask(word: str, rnd: random.Random) -> str:
    """A letter masked by a star, after another letter: the first letter of a word (or of the part after
    an apostrophe or a hyphen) is kept, as by a typo."""
    j = rnd.choice([k for k in range(1, len(word) - 1) if word[k].isalpha() and word[k - 1].isalpha()] or [1])
    return word[:j] + "*" + word[j + 1 :]


@_in_a_long_word
def vowels(word: str, _rnd: random.Random) -> str:
    return word[0] + "".join(c for c in word[1:] if c.lower() not in "aeiou")


@_in_a_long_word
def no_vowels(word: str, _rnd: random.Random) -> str:
    """Every vowel dropped, a first letter's too ("lstgrl" for "Elastigirl")."""
    return "".join(c for c in word if c.lower() not in "aeiou")


@_in_a_long_word
def filler(word: str, rnd: random.Random) -> str:
    """A character that shows as nothing (a Hangul filler, a blank braille pattern, a variation
    selector, a tag) inside a word."""
    j = rnd.randint(1, len(word) - 1)
    return word[:j] + rnd.choice(FILLERS) + word[j:]


def first_letter(name: str, rnd: random.Random) -> str | None:
    """The first letter of a word of eight letters or more swapped for another, or dropped."""
    words = name.split()
    long = [k for k, w in enumerate(words) if len(w) >= 8 and w.isalpha() and w.isascii()]
    if not long:
        return None
    k = rnd.choice(long)
    other = rnd.choice([c for c in "bcdfghklmnprstvw" if c != words[k][0].lower()])
    words[k] = (other + words[k][1:]) if rnd.random() < 0.5 else words[k][1:]
    return " ".join(words)


def glued(name: str, _rnd: random.Random) -> str | None:
    """A one-word name of letters glued between two words ("avecnaposter")."""
    return f"a{name}poster" if name.isalpha() else None


DISGUISES: dict[str, Callable[[str, random.Random], str | None]] = {
    "homoglyph": homoglyph, "faux_cyrillic": faux_cyrillic, "hooked": hooked, "coptic": coptic,
    "parenthesized": parenthesized, "leet": leet, "leet_symbols": leet_symbols, "spacing": spacing,
    "zero_width": zero_width, "filler": filler, "first_letter": first_letter, "glued": glued, "case": alternating_case,
    "small_caps": small_caps, "symbols": symbols, "strike": strike, "stretch": stretch, "typo": typo,
    "split": split, "mask": mask, "vowels": vowels, "no_vowels": no_vowels,
}


WORD_MIN_ZIPF, SHORT_WORD_MIN_ZIPF, NAME_MIN_ZIPF = 3.0, 2.0, 2.5
"""How frequent (wordfreq) a changed word must be to be a word of its own rather than a disguised
name: any word ("kite" for "Kate"), a four-letter one, one that stands for a whole one-word name
("Melina" for "Merlina"). They are this file's own lines, not the lexical signal's: while the filter
asked the signal which words could be typos, a change to that rule also changed which disguises
were scored, and a rule that lost three labelled prompts showed nothing here (2026-12-06)."""


def _disguised_word(word: str) -> bool:
    """Whether a changed word still reads as a disguised name rather than a word of its own or noise:
    four letters at least, not a number, of a spaced script, rare as a word, and no real place's,
    person's or thing's name of its own ("Bridgeton", a district of Glasgow, for "Bridgerton")."""
    if len(word) < 4 or word.isdigit() or UNSPACED.search(word) or namesakes.is_namesake(word):
        return False
    return zipf(word) < (SHORT_WORD_MIN_ZIPF if len(word) == 4 else WORD_MIN_ZIPF)


def is_a_disguise(name: str, disguised: str, how: str) -> bool:
    """Whether the change still disguises the name rather than making other words of it: a typo, a
    mask or dropped vowels that leave an ordinary or very short word are that word; a name broken
    into words of English ("bat man") is those words; a skeleton of three letters (four, with a first
    vowel dropped too), or of a name with accented vowels, is too short or too far to tell."""
    changed = set(normalise(disguised).split()) - set(normalise(name).split())
    if how in ("typo", "mask", "vowels", "no_vowels", "first_letter") and not all(_disguised_word(w) for w in changed):
        return False
    if how == "typo" and len(name.split()) == 1 and any(zipf(w) >= NAME_MIN_ZIPF for w in changed):
        return False  # a name of its own ("Merlina" without its r is "Melina"), as the lexical signal reads it
    if how == "split" and all(is_ordinary_word(w) for w in changed):
        return False
    shortest = {"vowels": 4, "no_vowels": 5}.get(how)
    return not (shortest and (any(len(w) < shortest for w in changed) or not name.isascii()))
