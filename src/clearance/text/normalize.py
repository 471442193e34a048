"""Undo the disguises people put on names before matching them.

Prompt and registry names go through the same function, so a registered Cyrillic or Korean
title matches its own spelling, and "S q u i d  G 4 m e", "Dеmоgоrgоn" (Cyrillic о/е),
"V​e​c​n​a" (zero-width spaces), "ｆｕｌｌ ｗｉｄｔｈ" and "eLeVeN" all come out as plain words.
Each output token remembers its span in the original prompt and whether it was disguised:
a disguise is itself evidence of intent, which the lexical signal uses for ambiguous names.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from clearance.content import Content

VERSION = "9"
"""Of what ``normalise`` makes of a text: indexes of registry names and descriptions are keyed by it
(``model_versions`` of the text signals), so a change here must bump it."""

# Latin look-alikes that Unicode's confusables (``unicode_confusables``) do not list: lower-case
# Cyrillic and Greek letters shaped like small capitals or other Latin letters, ligatures, small
# capitals (a "font" of text generators that NFKC leaves alone). Applied after case-folding.
CONFUSABLES = str.maketrans({
    "в": "b", "ё": "e", "ї": "i", "к": "k", "м": "m", "н": "h", "т": "t", "и": "u", "з": "3", "ь": "b", "п": "n",
    "β": "b", "ε": "e", "η": "n", "κ": "k", "τ": "t", "χ": "x", "ω": "w", "μ": "u",
    "ȷ": "j", "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l",
    **dict(zip("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ", "abcdefghijklmnopqrstuvwyz", strict=True)),
})
FAUX_LATIN = str.maketrans({
    **dict.fromkeys("Яя", "r"), **dict.fromkeys("Ии", "n"), **dict.fromkeys("ДдΛΔ", "a"), **dict.fromkeys("Цц", "u"),
    **dict.fromkeys("ЭэЄєΣΞ", "e"), **dict.fromkeys("ШшЩщ", "w"), **dict.fromkeys("Жж", "x"),
    **dict.fromkeys("БбЪъ", "b"), **dict.fromkeys("Чч", "y"), **dict.fromkeys("ФфΦΘθѲѳ", "o"), "Π": "n",
})
"""Cyrillic and Greek letters that "faux Cyrillic" lettering puts in Latin words for the look, not the
shape: "BЯIDGEЯTON" (a mirrored R), "SQUID GДME", "STRAИGER", "ШEDNESDAY". Read as Latin only inside a
word that also has Latin letters, since each is an ordinary letter of Russian or Greek words (there
``и`` is an N, as ``И``: "Thiиgs"; in a Russian word it stays itself)."""
STYLED_LETTERS = str.maketrans({chr(first + k): chr(ord("a") + k) for first in (0x1F150, 0x1F170, 0x1F1E6)
                                for k in range(26)})
"""Letters drawn as symbols, which NFKC leaves alone and are no word characters: negative circled
(🅢), negative squared (🅰) and regional indicators (🇸, which pairs show as flags)."""
PARENTHESIZED = str.maketrans({chr(0x249C + k): chr(ord("a") + k) for k in range(26)})
"""Parenthesized letters (⒮⒬⒰⒤⒟), read before NFKC, which makes each "(s)": three characters, and
no word."""
STRIKE_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
"""Combining marks left over after NFKC (which composes every accent that has a composed letter):
strike-through, underline and "zalgo" stacks drawn over letters ("S̶q̶u̶i̶d̶")."""
STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
"""A letter typed three times or more, which no word of English has ("Squiiiid", "Pikachuuu"): read
once. Not a disguise, since people stretch everyday words too ("sooo frozennn")."""
DOUBLED = re.compile(r"([^\W\d_])\1+")
MASK = "*"
"""A letter masked inside a word ("Str*nger", "P*kachu"): kept, so the word is one substitution from
the name; stars between every two letters ("S*q*u*i*d") are ``SEPARATED``."""
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
                      "@": "a", "$": "s", "!": "i", "|": "l", "€": "e", "+": "t"})
LEET_CHARS = set("0134578 9@$!|€+".replace(" ", ""))
LEET_SEQUENCES = {"|\\/|": "m", "/\\/\\": "m", "\\/\\/": "w", "|-|": "h", "]-[": "h", "|\\|": "n", "|_|": "u",
                  "(_)": "u", "/\\": "a", "\\/": "v", "|<": "k", "|2": "r", "|)": "d", "|>": "p", "|_": "l", "><": "x",
                  "()": "o", "[]": "o"}
"""Letters drawn with several symbols ("|-|" H, "|<" K, "\\/\\/" W, "|\\|" N: full 1337, "\\/3c|\\|@" is
Vecna), read as the letter where one touches a letter or digit, so a lone "()" or "><" stays as it is."""
LEET_SEQUENCE = re.compile("|".join(map(re.escape, sorted(LEET_SEQUENCES, key=len, reverse=True))))
LEET_SEQUENCE_CHARS = frozenset("".join(LEET_SEQUENCES)) - frozenset("-_")
"""A text without one of these holds no sequence (each has one; hyphens and underscores, in a few of
them, are in most prompts too, and would make the quick check useless)."""
PIPE_SEPARATED = re.compile(r"[^\W\d_]\|[^\W\d_]\|[^\W\d_]")
"""Letters separated by "|" ("W|e|d|n|e|s|d|a|y"): there a "|" is no part of a letter."""
NUMBER = re.compile(r"\d+(?:s|st|nd|rd|th|k|p|d|x|mm|cm|m|km|ft|px|fps|bit|am|pm|hz)")
"""A number with an ordinal or a unit ("1980s", "19th", "35mm", "4k", "3d"): digits, not leetspeak
(read as leet, "1980s" was "igbos", a "word" rarer than any name, in evidence and shared words)."""
ZERO_WIDTH = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
                        "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")
"""Characters that show as nothing: Unicode's default-ignorable code points (zero-width spaces and
joiners, bidi controls, variation selectors, tags, the Hangul fillers and Khmer's inherent vowels,
which are letters and kept "Ve\u3164cna" one word that was no name) and the blank braille
pattern. Dropped, and a disguise inside a word."""


def shows_nothing(text: str) -> bool:
    """Whether ``text`` shows nothing: only spaces, controls, what ``ZERO_WIDTH`` drops and combining
    marks with nothing to mark. Blank braille, Hangul fillers and variation selectors are printable
    to Python: a prompt of only those was allowed, and a registry title of a zero-width space was
    imported and never matched (QA passes, 2026-12-08)."""
    return not any(ch.isprintable() and not ch.isspace() and not unicodedata.category(ch).startswith("M")
                   for ch in ZERO_WIDTH.sub("", text))


def invisible_shown(text: str) -> str:
    """``text`` with each character that shows as nothing (``ZERO_WIDTH``) written as its ``\\u``
    escape, for a message that refuses it."""
    return ZERO_WIDTH.sub(lambda found: f"\\u{ord(found[0]):04x}", text)


LETTER = r"(?:[^\W_]|[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff])"
"""A letter or digit, or any character of Thai, Lao, Myanmar and Khmer, whose vowel signs and tone
marks are combining marks (no word characters to ``re``): without them a Thai word fell apart."""
UPPER = "A-ZÀ-ÖØ-ÞΑ-ΩА-Я"
"""Capital letters of the Latin, Greek and Cyrillic alphabets, for a character class."""
WORD = re.compile(rf"{LETTER}+(?:[@$€+]{LETTER}*|\|(?![{UPPER}]){LETTER}*|(?:!|\*+){LETTER}+)*|\${LETTER}+",
                  re.UNICODE)
"""A run of letters and digits with the leetspeak symbols inside it; unspaced scripts are kept as
runs. Where people use the symbols as punctuation, they separate words (until 2026-12-08 each of
these prompts read as one word and was allowed; no labelled prompt had such a symbol):
a "!" counts as a letter (i) only alone and with a letter after it ("H!ppo", not "Eleven!!" or
"Grogu!!!soup"); a bar before a capital begins a word ("Grogu|Yoda"); an "@" begins no word
("@Grogu", a mention; "@wednesday" is no disguised "awednesday")."""
PERCENT_GAP = re.compile(r"%(?:2[0-9A-Fa-f]|3[A-Fa-f]|5[Ff])")
URL_PLUS = re.compile(r"(?<=[^\W\d_]{2})\+(?=[^\W\d_]{2})")
RUN_GAP = re.compile(r"(?:\W|_){1,8}")
"""What may separate the letters of a spaced-out word ("S q u i d", "D.e.m.o", "R a v e ' N",
"S~q~u~i~d", "[S][q][u][i][d]", "S🌟t🌟r"): anything but letters and digits."""
SEPARATED = re.compile(r"[^\W_]([|!+*])[^\W_](?:\1[^\W_])+\1?")
"""Single letters separated by a symbol that may also stand for a letter ("W|e|d|n|e|s|d|a|y",
"S+q+u+i+d", "S*q*u*i*d"): here it separates, it stands for no letter."""
ALTERNATION = re.compile(r"[\[{][^\[\]{}|]*(?:\|[^\[\]{}|]*)+[\]}]")
"""Square brackets or braces around words separated by bars: ``_alternation_gaps``."""
HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
"""The ranges of Chinese characters (in Chinese, Japanese and Korean text), for a character class."""
UNSPACED_LETTERS = (r"\u0e00-\u0eff\u1000-\u109f\u1100-\u11ff\u1780-\u17ff\u3040-\u30ff\u3130-\u318f"
                    rf"\uac00-\ud7af{HAN}")
UNSPACED = re.compile(f"[{UNSPACED_LETTERS}]")
"""Letters of the scripts written without spaces between words, or with particles attached to them:
Chinese, Japanese and Korean (CJK), Thai, Lao, Myanmar and Khmer. A word of these is kept as written
(their marks are no accents to strip) and names are looked for inside its runs."""
SCRIPT_EDGE = re.compile(f"(?<=[{UNSPACED_LETTERS}])(?=[^\\W{UNSPACED_LETTERS}])|"
                         f"(?<=[^\\W{UNSPACED_LETTERS}])(?=[{UNSPACED_LETTERS}])")
"""Where a word of an unspaced script meets one of another script or a number: Japanese and Chinese
put no space around a Latin name ("Vecnaのイラスト", "画一个Grogu"), and Korean attaches its
particles to it ("Grogu를"). Until 2026-12-08 such a name was a letter run of the unspaced word,
where a name of one Latin word was not looked for, and the prompt was allowed."""
LATIN_LETTERS = r"A-Za-z\u00c0-\u024f"
ALPHABET_EDGE = re.compile(rf"(?<=[{LATIN_LETTERS}])(?=[\u0590-\u06ff\u0750-\u077f\u0900-\u0dff])|"
                           rf"(?<=[\u0590-\u06ff\u0750-\u077f\u0900-\u0dff])(?=[{LATIN_LETTERS}])")
"""Where a Latin word meets Hebrew, Arabic or an Indian script, written without a space ("Vecnaصورة",
"चित्रVecna"): no letter of these passes for a Latin one, so they are two words. Greek and
Cyrillic do, and are not cut: "ΗΑRRΥ ΡΟΤΤΕR" and "Ruкіа Кuсһікі" are disguises, and a Russian word
glued to a Latin name ("Vecnaрисунок") looks no different from one."""
NUMBER_SUFFIX = re.compile(r"(?<=[^\W\d_]{3})(?:\d{3,}[pP]?|\d*[26]\d*[kK]?|[48][kK]|\dD|\d+(?:fps|bit)"
                           r"|\d{2,}s|(?<=[a-z])(?:XL|SDXL|HD|UHD|HDR|II|III|IV|VI|VII|VIII|IX|XI|XII))$")
"""A number glued to the end of a word: a year, a version, a resolution ("Vecna2024", "Grogu4k",
"Vecna3D", "Grogu2", "Grogu60fps", "GroguHD", "VecnaXL", "Vecna80s", "VecnaII"), as checkpoint and LoRA names
write them.
Digits that leetspeak reads as letters stay in the word: "Vecn4", "4rch13" (Archie), "l0ckw00d", "shr3k", "squ1d"."""
SUFFIX_ENDS = frozenset("0123456789kKpPDsLtRIVX")
"""The characters a ``NUMBER_SUFFIX`` may end with."""


@dataclass(frozen=True)
class Token:
    """One normalised word with its span in the original text."""

    text: str
    start: int
    end: int
    disguised: bool = False
    collapsed: bool = False  # joined from spaced/dotted single letters: word boundaries lost
    original: str = ""
    stretched: bool = False  # a letter typed three times or more, read once: it may have been double


TRADE_MARKS = frozenset("™℠")
GLUED_SIGNS = TRADE_MARKS | frozenset(map(chr, range(0x2160, 0x2189)))
"""Trade mark signs and Roman numerals, which NFKC spells with letters and people glue to a name
("Grogu™", "VecnaⅡ"): until 2026-12-08 the name and the letters were one word, and allowed."""


def _clean(text: str) -> tuple[str, list[int], list[int]]:
    """NFKC, letters drawn as symbols read as letters, zero-width/control characters and leftover
    combining marks dropped; return the text, an index map back, and the positions (in the cleaned
    text) where such a change was made: a disguise, when inside a word. An accent typed as a letter
    and a combining mark (NFD text, as macOS file names and some keyboards give) is composed with
    its letter first, so it is no disguise: only a mark that composes with nothing is (a strike-through)."""
    chars: list[str] = []
    index: list[int] = []
    changed: set[int] = set()
    for i, ch in enumerate(text):
        if " " <= ch <= "~" or ch in "\t\n\r":  # printable ASCII, which none of this changes
            chars.append(ch)
            index.append(i)
            continue
        if ZERO_WIDTH.match(ch) or unicodedata.category(ch) in ("Cc", "Cf"):
            changed.add(len(chars))
            continue
        if chars and len(composed := unicodedata.normalize("NFKC", chars[-1] + ch)) == 1:
            chars[-1] = composed  # typed decomposed ("Ma\u0304ui", Hangul jamo, half-width "ｹﾞ"): one letter
            continue
        if ch in GLUED_SIGNS:  # NFKC spells them as letters ("Grogu™" was "grogutm"): apart from the name
            chars.append(" ")
            index.append(i)
            if ch in TRADE_MARKS:  # and no word at all: "Pokémon™" registered is "Pokémon"
                continue
        plain = ch.translate(PARENTHESIZED)
        for c in unicodedata.normalize("NFKC", plain):
            if STRIKE_MARKS.match(c):
                changed.add(len(chars))
                continue
            letter = c.translate(STYLED_LETTERS)
            if letter != c or plain != ch:
                changed.add(len(chars) + 1)  # inside the word even where it is the first letter
            chars.append(letter)
            index.append(i)
    index.append(len(text))
    return "".join(chars), index, sorted(changed)


def _leet_letters(text: str, index: list[int], changed: list[int]) -> tuple[str, list[int], list[int]]:
    """``LEET_SEQUENCES`` that touch a letter, a digit, a leet symbol or another such sequence, each read as its
    letter (at the position of its first symbol) and marked as a change, so a word holding one is a
    disguise; the rest of the text, its index map and changes as they were."""
    if LEET_SEQUENCE_CHARS.isdisjoint(text):
        return text, index, changed
    pipes_separate = PIPE_SEPARATED.search(text) is not None  # "e|-|D": a hyphen between separated letters
    found = [m for m in LEET_SEQUENCE.finditer(text) if not (pipes_separate and "|" in m[0])]
    starts, ends = {m.start() for m in found}, {m.end() for m in found}

    def letter_at(k: int) -> bool:
        return 0 <= k < len(text) and (text[k].isalnum() or text[k] in LEET_CHARS)

    kept = [m for m in found if letter_at(m.start() - 1) or letter_at(m.end()) or m.start() in ends
            or m.end() in starts]
    if not kept:
        return text, index, changed
    out: list[str] = []
    out_index: list[int] = []
    out_changed: set[int] = set()
    was_changed, at = set(changed), 0
    for m in [*kept, None]:
        stop = m.start() if m else len(text)
        for k in range(at, stop):
            if k in was_changed:
                out_changed.add(len(out))
            out.append(text[k])
            out_index.append(index[k])
        if m:
            out_changed |= {len(out), len(out) + 1}  # inside its word, first or last letter as it may be
            out.append(LEET_SEQUENCES[m[0]])
            out_index.append(index[m.start()])
            at = m.end()
    out_index.append(index[len(text)])
    return "".join(out), out_index, sorted(out_changed)


def _is_mixed_case(word: str) -> bool:
    """eLeVeN / sQuId: two or more case switches inside a word."""
    letters = [c for c in word if c.isalpha()]
    switches = sum(1 for a, b in itertools.pairwise(letters) if a.isupper() != b.isupper())
    return switches >= 2 and not word.isupper()


def _strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def undoubled(word: str) -> str:
    """The word with each doubled letter once: what a stretched word read once may have been."""
    return DOUBLED.sub(r"\1", word)


LATIN_LETTER = re.compile(r"LATIN (SMALL|CAPITAL) LETTER (?:(?:OPEN|SCRIPT|CLOSED|REVERSED|DOTLESS|LONG|BARRED|"
                          r"STRETCHED|SIDEWAYS|INSULAR|BROKEN|TAILLESS|SMALL CAPITAL) )*([A-Z]|ALPHA|IOTA|UPSILON|"
                          r"GAMMA|CHI|BETA)(?: WITH .*)?")
"""The Unicode name of a Latin letter that is one of a-z drawn otherwise (with a hook, a stroke, a
tail, open or script: "ƈ", "ɗ", "ɠ", "ɛ", "ɑ"), or a Latin letter named for the Greek one it looks
like. Such letters do not decompose into their base letter, so accent stripping leaves them, and
"Veƈƞa" was no name. Turned letters (upside-down text) are left alone."""
GREEK_NAMED = {"ALPHA": "a", "IOTA": "i", "UPSILON": "u", "GAMMA": "y", "CHI": "x", "BETA": "b"}
LATIN_BLOCKS = ((0x0180, 0x02AF), (0x1D00, 0x1DBF), (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F))
"""Latin Extended-B, IPA, the phonetic extensions and Latin Extended-C to -E."""
COPTIC = {"ALFA": "a", "VIDA": "b", "EIE": "e", "ZATA": "z", "HATE": "h", "IAUDA": "i", "KAPA": "k", "MI": "m",
          "NI": "n", "O": "o", "RO": "p", "SIMA": "c", "TAU": "t", "UA": "y", "KHI": "x", "OOU": "w"}
"""Coptic letters (U+2C80-U+2CB1), Greek uncials by shape, by the Latin letter each looks like: UTS #39
lists a few of them ("ⲟ"), not "ⲁ" or "ⲉ"."""


def _letters_by_name() -> dict[int, str]:
    """Latin letters drawn otherwise (``LATIN_LETTER``) and Coptic ones (``COPTIC``), by Unicode name."""
    table: dict[int, str] = {}
    for first, last in LATIN_BLOCKS:
        for code in range(first, last + 1):
            name = unicodedata.name(chr(code), "")
            if (m := LATIN_LETTER.fullmatch(name)) and not unicodedata.normalize("NFKD", chr(code))[0].isascii():
                letter = GREEK_NAMED.get(m[2], m[2]).lower()
                table[code] = letter.upper() if m[1] == "CAPITAL" else letter
    for code in range(0x2C80, 0x2CB2):
        case, _, letter = unicodedata.name(chr(code), "").partition(" LETTER ")
        if letter in COPTIC:
            table[code] = COPTIC[letter].upper() if case.endswith("CAPITAL") else COPTIC[letter]
    return table


@cache
def unicode_confusables() -> dict[int, str]:
    """Every letter of another script that Unicode's confusables data (UTS #39, as shipped in the
    ``confusable-homoglyphs`` wheel) lists as looking like one Latin letter: Cherokee, Armenian,
    Coptic, Lisu, Greek and Cyrillic capitals... Applied before case-folding, since a capital may look
    like another letter than its lower case does (Greek Η is an H, η an n). A capital that looks
    like "l" is read as an I. Then the letters it leaves out (``_letters_by_name``). Read once per
    process (~30 ms)."""
    data = json.loads((resources.files("confusable_homoglyphs") / "confusables.json").read_text(encoding="utf-8"))
    table: dict[int, str] = {}
    for key, entries in data.items():
        for other in (entry["c"] for entry in entries):
            look, latin = (other, key) if key.isascii() else (key, other)
            if (len(look) == 1 and len(latin) == 1 and latin.isascii() and latin.isalpha() and not look.isascii()
                    and unicodedata.category(look).startswith("L") and not UNSPACED.match(look)):
                table.setdefault(ord(look), "I" if latin == "l" and look.isupper() else latin)
    for code, letter in _letters_by_name().items():  # what UTS #39 leaves out, by name
        table.setdefault(code, letter)
    return table


@lru_cache(maxsize=200_000)
def normalise_word(word: str) -> tuple[str, bool, bool]:
    """Case-fold, map look-alikes and leetspeak, read stretched letters once; return (text,
    was_disguised, was_stretched).

    Memoised: the same words recur from prompt to prompt, and this was a third of tokenising.
    Bounded like the other word memos, so unique words (record numbers in a scrub) cannot grow it
    without end."""
    folded = word.casefold()
    if UNSPACED.search(folded):  # as written: kana's voicing marks (ゲ) are no accents to strip
        mapped = plain = folded
    else:
        looks = word.translate(unicode_confusables())
        if any("a" <= c <= "z" for c in folded):  # a Latin word with other letters in it
            looks = looks.translate(FAUX_LATIN)
        mapped = _strip_accents(looks.casefold().translate(CONFUSABLES))
        plain = _strip_accents(folded)
    disguised = (mapped != plain and mapped.isascii()) or _is_mixed_case(word) or MASK in mapped
    if separated := SEPARATED.fullmatch(mapped):
        mapped, disguised = mapped.replace(separated.group(1), ""), True
    has_letters = any(c.isalpha() for c in mapped)
    if has_letters and any(c in LEET_CHARS for c in mapped) and not NUMBER.fullmatch(mapped):
        mapped, disguised = mapped.translate(LEET), True
    stretched = not UNSPACED.search(mapped) and STRETCHED.search(mapped) is not None
    if stretched:
        mapped = STRETCHED.sub(r"\1", mapped)
    return mapped, disguised, stretched


def _collapse_single_letters(tokens: list[Token], source: str) -> list[Token]:
    """Join runs of 3+ single-letter tokens separated only by non-letters (``RUN_GAP``: "S q u i d")."""
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


def _after_possessive_apostrophe(text: str, at: int) -> bool:
    """An apostrophe right after a letter or digit just before ``at``: a lone "5" there is the
    possessive "'s" in leetspeak ("Disney'5 Maui", "M03'5 T4v3rn"), not a number."""
    return at >= 2 and text[at - 1] in "'’" and text[at - 2].isalnum()


def _url_gaps(text: str) -> str:
    """Spaces for what joins words in a web address: a percent-escaped space or punctuation
    ("Stranger%20Things"), and a ``+`` between two words of two letters or more, as search queries
    write a space ("squid+game+doll"). Of the same length, so spans stay where they were; a ``+``
    between single letters ("S+q+u+i+d") or standing for a letter ("S+ranger") is left to leetspeak."""
    return URL_PLUS.sub(" ", PERCENT_GAP.sub("   ", text))


def _alternation_gaps(text: str) -> str:
    """Spaces for the bars of Stable Diffusion's alternation syntax ("[Eleven|Max Mayfield]", one
    subject per step), which separate words there and stand for no letter: read as leetspeak, the
    bar joined "Eleven|Max" into one word and the prompt was allowed. Of the same length."""
    return ALTERNATION.sub(lambda found: found[0].replace("|", " "), text)


def tokenize(text: str) -> list[Token]:
    """Normalised word tokens of ``text`` with spans into the original string."""
    cleaned, index, changed = _leet_letters(*_clean(text))
    cleaned = _alternation_gaps(_url_gaps(cleaned))
    tokens: list[Token] = []
    for at, until in (part for m in WORD.finditer(cleaned) for part in _word_parts(cleaned, m.start(), m.end())):
        word, disguised, stretched = normalise_word(cleaned[at:until])
        if word == "5" and _after_possessive_apostrophe(cleaned, at):  # "Flo'5": a leet "'s"
            word, disguised = "s", True
        after = bisect.bisect_right(changed, at)  # a change inside the word, found in log time:
        if after < len(changed) and changed[after] < until:  # styled letters change every letter
            disguised = True
        # up to the next character kept, so a mark dropped or composed at the word's end is the word's;
        # at least past its last character, which NFKC may have expanded into several ("½": "1⁄2")
        start, end = index[at], max(index[until - 1] + 1, index[until])
        tokens.append(Token(word, start, end, disguised, False, text[start:end], stretched))
    return _collapse_single_letters(tokens, text)


def _word_parts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The spans of the words inside one match of ``WORD``: cut where scripts meet
    (``SCRIPT_EDGE``) and before a number glued to its end (``NUMBER_SUFFIX``)."""
    word = text[start:end]
    cuts = set()
    if not word.isascii():  # most words are: one test, not several scans
        cuts = {start + edge.start() for pattern in (SCRIPT_EDGE, ALPHABET_EDGE) for edge in pattern.finditer(word)}
    if word[-1] in SUFFIX_ENDS and (suffix := NUMBER_SUFFIX.search(word)):
        cuts.add(start + suffix.start())
    if not cuts:
        return [(start, end)]
    return list(itertools.pairwise([start, *sorted(cuts - {start, end}), end]))


def content_tokens(content: Content) -> list[Token]:
    """``tokenize`` of a text content, done once however many signals read its words (the lexical
    signal and the description layer's shared words both do; tokenising was ~10% of a prompt)."""
    return content.memo("text.tokens", lambda: tokenize(content.text or ""))


def normalise(text: str) -> str:
    """The normalised text as one space-separated string (used for registry names)."""
    return " ".join(t.text for t in tokenize(text))
