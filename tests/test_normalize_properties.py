"""Property tests: disguised registered names are caught; ordinary sentences are not flagged."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wordfreq import top_n_list

from clearance.content import Content
from clearance.home import Home
from clearance.registry.store import RegistrySnapshot
from clearance.screening import Screener
from clearance.signals.text_lexical import DISTINCTIVE, TextLexical, _entries
from clearance.text.dictionary import is_ordinary_word
from clearance.text.normalize import normalise, tokenize
from clearance.verdict import Action
from tests.conftest import WORKS_YAML

HOMOGLYPHS = {  # look-alikes from Cyrillic, Greek (capitals too), Armenian, Cherokee and Latin's own IPA letters
    "a": "аɑα", "e": "е", "o": "оοօ", "p": "рρ", "c": "с", "x": "х", "y": "уү", "i": "іɩι", "d": "ԁ", "u": "սʋ",
    "g": "ɡ", "q": "ԛ", "s": "ѕ", "h": "һ", "j": "ј", "w": "ԝ", "v": "ѵν",
    "H": "ΗНᎻ", "N": "Ν", "M": "ΜМᎷ", "Y": "ΥҮ", "Z": "ΖᏃ", "B": "ΒВᏴ", "P": "ΡРᏢ", "K": "ΚКᏦ", "T": "ΤТᎢ",
    "S": "ЅՏᏚ", "G": "ᏀԌ", "E": "ΕЕᎬ", "W": "ᏔԜ", "A": "ΑАᎪ", "C": "СᏟ", "O": "ΟОՕ", "X": "ΧХ", "L": "ᏞⅬ",
}
LEET = {"a": "4", "e": "3", "o": "0", "s": "5", "t": "7"}
SMALL_CAPS = dict(zip("abcdefghijklmnopqrstuvwyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ", strict=True))


@pytest.fixture(scope="module")
def lexical(tmp_path_factory: pytest.TempPathFactory) -> tuple[TextLexical, RegistrySnapshot, Screener]:
    home = Home.resolve(tmp_path_factory.mktemp("props") / "home")
    screener = Screener(home)
    screener.registry.import_file(WORKS_YAML)
    snapshot = screener.registry.snapshot()
    signal = TextLexical(home.index_dir / "props")
    signal.ensure_indexed(snapshot)
    return signal, snapshot, screener


def distinctive_names(snapshot: RegistrySnapshot) -> list[tuple[str, str]]:
    """(name, work slug) for Latin-script names that need no support and are long enough to disguise."""
    out = []
    for work in snapshot.works:
        for entry in _entries(work):
            compact = "".join(entry.tokens)
            if entry.level == DISTINCTIVE and len(compact) >= 6 and compact.isascii() and compact.isalpha():
                out.append((entry.name, work.slug))
    return sorted(set(out))


def disguise(name: str, how: str, data: st.DataObject) -> str:
    if how == "homoglyph":
        return "".join(data.draw(st.sampled_from(HOMOGLYPHS[c])) if c in HOMOGLYPHS and data.draw(st.booleans())
                       else c for c in name)
    if how == "leet":
        return "".join(LEET.get(c.lower(), c) if data.draw(st.booleans()) else c for c in name)
    if how == "spacing":
        sep = data.draw(st.sampled_from([" ", ".", "-", " . ", "~", ",", "|", "+", "🌟", "][", "\n"]))
        return sep.join(c for c in name if c != " ")
    if how == "zero_width":
        return "\u200b".join(name)
    if how == "case":
        return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(name))
    if how == "small_caps":
        return "".join(SMALL_CAPS.get(c.lower(), c) for c in name)
    if how == "symbols":  # negative squared or circled letters, or regional indicators
        first = data.draw(st.sampled_from([0x1F170, 0x1F150, 0x1F1E6]))
        return "".join(chr(first + ord(c.lower()) - ord("a")) if c.isascii() and c.isalpha() else c for c in name)
    if how == "strike":
        return "".join(c + "\u0336" for c in name)
    if how == "stretch":  # a letter typed three times or more
        i = data.draw(st.sampled_from([k for k, c in enumerate(name) if c.isalpha()]))
        return name[:i] + name[i] * data.draw(st.integers(3, 6)) + name[i + 1 :]
    # a single typo inside one word of 5+ letters (shorter words are matched exactly by design),
    # or a space breaking such a word in two
    words = name.split()
    i = data.draw(st.sampled_from([k for k, w in enumerate(words) if len(w) >= 5]))
    word = words[i]
    if how == "split":
        j = data.draw(st.integers(2, len(word) - 2))
        words[i] = word[:j] + " " + word[j:]
        return " ".join(words)
    if how == "mask":
        j = data.draw(st.integers(1, len(word) - 2))
        words[i] = word[:j] + "*" + word[j + 1 :]
        return " ".join(words)
    if how == "vowels":
        words[i] = word[0] + "".join(c for c in word[1:] if c.lower() not in "aeiou")
        return " ".join(words)
    j = data.draw(st.integers(1, max(1, len(word) - 2)))
    kind = data.draw(st.sampled_from(["swap", "drop", "double"]))
    typo = {"swap": word[:j] + word[j + 1 : j + 2] + word[j] + word[j + 2 :], "drop": word[:j] + word[j + 1 :],
            "double": word[:j] + word[j] + word[j:]}[kind]
    words[i] = typo
    return " ".join(words)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_disguised_names_are_caught(
    lexical: tuple[TextLexical, RegistrySnapshot, Screener], data: st.DataObject
) -> None:
    signal, snapshot, _ = lexical
    name, slug = data.draw(st.sampled_from(distinctive_names(snapshot)))
    kinds = ["homoglyph", "leet", "spacing", "zero_width", "case", "small_caps", "symbols", "strike", "stretch"]
    kinds += ["typo", "split", "mask", "vowels"] if any(len(w) >= 5 for w in name.split()) else []
    how = data.draw(st.sampled_from(kinds))
    disguised = disguise(name, how, data)
    changed = set(normalise(disguised).split()) - set(normalise(name).split())
    if how in ("typo", "mask", "vowels") and not all(TextLexical._typo_candidate(w) for w in changed):
        return  # the typo produced an ordinary or very short word: that is the word, not a disguise
    if how == "vowels" and (any(len(w) < 4 for w in changed) or not name.isascii()):
        return  # a skeleton of three letters is too short to tell; accented vowels are vowels too
    if how == "split" and all(is_ordinary_word(w) for w in changed):
        return  # broken into words of English ("bat man"): those words, not a disguise
    template = data.draw(st.sampled_from(["{} at the beach", "a photo of {}, 4k", "{}", "video: {} dancing"]))
    prompt = template.format(disguised)
    matches = signal.match(Content(kind="text", text=prompt))
    assert slug in {m.work_id for m in matches if m.score >= 0.8}, (how, prompt)


@pytest.fixture(scope="module")
def ordinary_words(lexical: tuple[TextLexical, RegistrySnapshot, Screener]) -> list[str]:
    """Common English words that are not themselves words of any registered name."""
    _, snapshot, _ = lexical
    name_words = {t for w in snapshot.works for e in _entries(w) for t in e.tokens}
    return [w for w in top_n_list("en", 3000) if w.isalpha() and len(w) > 2 and w not in name_words]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_ordinary_sentences_are_not_blocked(
    lexical: tuple[TextLexical, RegistrySnapshot, Screener], ordinary_words: list[str], data: st.DataObject
) -> None:
    _, _, screener = lexical
    words = data.draw(st.lists(st.sampled_from(ordinary_words), min_size=3, max_size=14))
    sentence = " ".join(words).capitalize()
    verdict = screener.screen_prompt(sentence, audit=False)
    assert verdict.action != Action.BLOCK, (sentence, [m.evidence for m in verdict.matches])


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_tokenize_never_crashes_and_spans_are_valid(text: str) -> None:
    for token in tokenize(text):
        assert 0 <= token.start < token.end <= len(text)
        assert token.text
