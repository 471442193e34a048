"""Undo the disguises people put on names before matching them.

Prompt and registry names go through the same function, so a registered Cyrillic or Korean
title matches its own spelling, and "S q u i d  G 4 m e", "Dеmоgоrgоn" (Cyrillic о/е),
"V​e​c​n​a" (zero-width spaces), "ｆｕｌｌ ｗｉｄｔｈ" and "eLeVeN" all come out as plain words.
Each output token remembers its span in the original prompt and whether it was disguised:
a disguise is itself evidence of intent, which the lexical signal uses for ambiguous names.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from clearance.content import Content

# Latin look-alikes from Cyrillic, Greek and other scripts (lower-case targets; we case-fold).
CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "г": "r", "ѕ": "s", "т": "t",
    "и": "u", "ѵ": "v", "ԝ": "w", "х": "x", "у": "y", "з": "3", "ь": "b", "п": "n",
    "α": "a", "β": "b", "ϲ": "c", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "γ": "y", "μ": "u", "ѡ": "w",
    "ı": "i", "ȷ": "j", "ℓ": "l", "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l",
    # small capitals, a "font" of text generators that NFKC leaves alone
    **dict(zip("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ", "abcdefghijklmnopqrstuvwyz", strict=True)),
})
STYLED_LETTERS = str.maketrans({chr(first + k): chr(ord("a") + k) for first in (0x1F150, 0x1F170, 0x1F1E6)
                                for k in range(26)})
"""Letters drawn as symbols, which NFKC leaves alone and are no word characters: negative circled
(🅢), negative squared (🅰) and regional indicators (🇸, which pairs show as flags)."""
STRIKE_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
"""Combining marks left over after NFKC (which composes every accent that has a composed letter):
strike-through, underline and "zalgo" stacks drawn over letters ("S̶q̶u̶i̶d̶")."""
STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
"""A letter typed three times or more, which no word of English has ("Squiiiid", "Pikachuuu"): read
once. Not a disguise, since people stretch everyday words too ("sooo frozennn")."""
MASK = "*"
"""A letter masked inside a word ("Str*nger", "P*kachu") or stars between its letters ("S*q*u*i*d")."""
UPPER_CONFUSABLES = str.maketrans({"Η": "h", "Ν": "n", "Μ": "m", "Υ": "y", "Ζ": "z"})
"""Capitals that look like another Latin letter than their lower case does (Greek Η is H, η is n):
mapped before case-folding, so "ΗΑRRY" in Greek capitals is "harry", not "narry"."""
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
                      "@": "a", "$": "s", "!": "i", "|": "l", "€": "e", "+": "t"})
LEET_CHARS = set("0134578 9@$!|€+".replace(" ", ""))
ZERO_WIDTH = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u00ad\u034f\u180e]")
# A "word" is a run of letters/digits (plus leet symbols inside it); CJK scripts are kept as runs.
WORD = re.compile(r"[^\W_]+(?:[@$!|€+][^\W_]*|\*+[^\W_]+)*|[@$][^\W_]+", re.UNICODE)
RUN_GAP = re.compile(r"[\s.\-_*·•/\\'’]{1,8}")
"""What may separate the letters of a spaced-out word ("S q u i d", "D.e.m.o", "R a v e ' N")."""
CJK = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(frozen=True)
class Token:
    """One normalised word with its span in the original text."""

    text: str
    start: int
    end: int
    disguised: bool = False
    collapsed: bool = False  # joined from spaced/dotted single letters: word boundaries lost
    original: str = ""


def _clean(text: str) -> tuple[str, list[int], set[int]]:
    """NFKC, letters drawn as symbols read as letters, zero-width/control characters and leftover
    combining marks dropped; return the text, an index map back, and the positions (in the cleaned
    text) where such a change was made: a disguise, when inside a word."""
    chars: list[str] = []
    index: list[int] = []
    changed: set[int] = set()
    for i, ch in enumerate(text):
        if ZERO_WIDTH.match(ch) or (unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n\r"):
            changed.add(len(chars))
            continue
        for c in unicodedata.normalize("NFKC", ch):
            if STRIKE_MARKS.match(c):
                changed.add(len(chars))
                continue
            letter = c.translate(STYLED_LETTERS)
            if letter != c:
                changed.add(len(chars) + 1)  # inside the word even where it is the first letter
            chars.append(letter)
            index.append(i)
    index.append(len(text))
    return "".join(chars), index, changed


def _is_mixed_case(word: str) -> bool:
    """eLeVeN / sQuId: two or more case switches inside a word."""
    letters = [c for c in word if c.isalpha()]
    switches = sum(1 for a, b in itertools.pairwise(letters) if a.isupper() != b.isupper())
    return switches >= 2 and not word.isupper()


def _strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


@lru_cache(maxsize=200_000)
def normalise_word(word: str) -> tuple[str, bool]:
    """Case-fold, map look-alikes and leetspeak, read stretched letters once; return (text, was_disguised).

    Memoised: the same words recur from prompt to prompt, and this was a third of tokenising.
    Bounded like the other word memos, so unique words (record numbers in a scrub) cannot grow it
    without end."""
    folded = word.casefold()
    mapped = folded if CJK.search(folded) else _strip_accents(word.translate(UPPER_CONFUSABLES).casefold()).translate(
        CONFUSABLES)
    disguised = mapped != _strip_accents(folded) or _is_mixed_case(word)
    if MASK in mapped:
        mapped, disguised = mapped.replace(MASK, ""), True
    has_letters = any(c.isalpha() for c in mapped)
    if has_letters and any(c in LEET_CHARS for c in mapped):
        mapped, disguised = mapped.translate(LEET), True
    if not CJK.search(mapped):
        mapped = STRETCHED.sub(r"\1", mapped)
    return mapped, disguised


def _collapse_single_letters(tokens: list[Token], source: str) -> list[Token]:
    """Join runs of 3+ single-letter tokens separated only by spaces/dots/dashes ("S q u i d")."""
    out: list[Token] = []
    run: list[Token] = []

    def flush() -> None:
        if len(run) >= 3 and any(t.text.isalpha() for t in run):
            text = "".join(t.text for t in run).translate(LEET)
            out.append(Token(text, run[0].start, run[-1].end, True, True, source[run[0].start : run[-1].end]))
        else:
            out.extend(run)
        run.clear()

    def single(tok: Token) -> bool:
        return len(tok.text) == 1 and (tok.text.isalpha() or tok.text in LEET_CHARS)

    for tok in tokens:
        gap_ok = not run or RUN_GAP.fullmatch(source[run[-1].end : tok.start]) is not None
        if single(tok) and gap_ok:
            run.append(tok)
            continue
        flush()
        if single(tok):
            run.append(tok)
        else:
            out.append(tok)
    flush()
    return out


def tokenize(text: str) -> list[Token]:
    """Normalised word tokens of ``text`` with spans into the original string."""
    cleaned, index, changed = _clean(text)
    tokens: list[Token] = []
    for m in WORD.finditer(cleaned):
        word, disguised = normalise_word(m.group())
        if any(m.start() < p < m.end() for p in changed):
            disguised = True
        start, end = index[m.start()], index[m.end() - 1] + 1
        tokens.append(Token(word, start, end, disguised, False, text[start:end]))
    return _collapse_single_letters(tokens, text)


def content_tokens(content: Content) -> list[Token]:
    """``tokenize`` of a text content, done once however many signals read its words (the lexical
    signal and the description layer's shared words both do; tokenising was ~10% of a prompt)."""
    return content.memo("text.tokens", lambda: tokenize(content.text or ""))


def normalise(text: str) -> str:
    """The normalised text as one space-separated string (used for registry names)."""
    return " ".join(t.text for t in tokenize(text))
