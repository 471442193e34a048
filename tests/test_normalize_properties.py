"""Property tests: disguised registered names are caught; ordinary sentences are not flagged."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wordfreq import top_n_list

from clearance.content import Content
from clearance.home import Home
from clearance.registry.store import RegistrySnapshot
from clearance.screening import Screener
from clearance.signals.name_entries import work_entries
from clearance.signals.text_lexical import TextLexical
from clearance.text.normalize import tokenize
from clearance.verdict import Action
from tests.conftest import WORKS_YAML
from tests.disguises import DISGUISES, distinctive_names, is_a_disguise


@pytest.fixture(scope="module")
def lexical(tmp_path_factory: pytest.TempPathFactory) -> tuple[TextLexical, RegistrySnapshot, Screener]:
    home = Home.resolve(tmp_path_factory.mktemp("props") / "home")
    screener = Screener(home)
    screener.registry.import_file(WORKS_YAML)
    snapshot = screener.registry.snapshot()
    signal = TextLexical(home.index_dir / "props")
    signal.ensure_indexed(snapshot)
    return signal, snapshot, screener


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_disguised_names_are_caught(
    lexical: tuple[TextLexical, RegistrySnapshot, Screener], data: st.DataObject
) -> None:
    signal, snapshot, _ = lexical
    name, slug = data.draw(st.sampled_from(distinctive_names(snapshot)))
    how = data.draw(st.sampled_from(sorted(DISGUISES)))
    disguised = DISGUISES[how](name, data.draw(st.randoms(use_true_random=False)))
    if disguised is None or not is_a_disguise(name, disguised, how):
        return
    template = data.draw(st.sampled_from(["{} at the beach", "a photo of {}, 4k", "{}", "video: {} dancing"]))
    prompt = template.format(disguised)
    matches = signal.match(Content(kind="text", text=prompt))
    assert slug in {m.work_id for m in matches if m.score >= 0.8}, (how, prompt)


@pytest.fixture(scope="module")
def ordinary_words(lexical: tuple[TextLexical, RegistrySnapshot, Screener]) -> list[str]:
    """Common English words that are not themselves words of any registered name."""
    _, snapshot, _ = lexical
    name_words = {t for w in snapshot.works for e in work_entries(w) for t in e.tokens}
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


@pytest.mark.parametrize(
    ("text", "words", "disguised"),
    [("Disney'5 Maui", ["disney", "s", "maui"], True),  # the possessive "'s" in leetspeak
     ("M03'5 T4v3rn", ["moe", "s", "tavern"], True),
     ("size 5 shoes", ["size", "5", "shoes"], False),  # a number stays a number
     ("'5 of them", ["5", "of", "them"], False)],
)
def test_a_leet_possessive_is_an_s(text: str, words: list[str], disguised: bool) -> None:
    """The disguise battery's leet misses were mostly names with a possessive ("Flo's V8 Café",
    "Moe's Tavern", "Disney's Maui"): "'5" was the number 5, so the name was broken there."""
    tokens = tokenize(text)
    assert [t.text for t in tokens] == words
    assert any(t.disguised for t in tokens) is disguised


@given(st.text(alphabet="aeiouncsyAEIOUNCSY \u00e9\u00e8\u00ea\u00eb\u00e1\u00e0\u00e2\u00e4\u00e3\u00e5\u0101\u00ed"
                        "\u00ef\u00f3\u00f6\u00f4\u00f5\u00fa\u00fc\u00f1\u00e7\u00fd\u1ec7\u01d6\u00c9\u00c5\u00d1"
                        "\uc624\uc9d5\uc5b4\uac8c\uc784\ud55c", max_size=40))
@settings(max_examples=300, deadline=None)
def test_decomposed_text_reads_as_composed(text: str) -> None:
    """NFD text (an accent typed as a letter and a combining mark, Hangul as jamo: macOS file names,
    some keyboards) has the words and spans of the same text composed, and no disguise: each
    leftover mark had counted as one, so "Ma\u0304ui" blocked where "Māui" was reviewed."""
    composed, decomposed = unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)
    ours = [(t.text, t.disguised) for t in tokenize(decomposed)]
    assert ours == [(t.text, t.disguised) for t in tokenize(composed)]
    spelt = [unicodedata.normalize("NFC", t.original) for t in tokenize(decomposed)]
    assert spelt == [t.original for t in tokenize(composed)]


def test_a_mark_that_composes_with_nothing_is_still_a_disguise() -> None:
    assert all(t.disguised for t in tokenize("S\u0336q\u0336u\u0336i\u0336d\u0336"))
    assert tokenize("S\u0336q\u0336u\u0336i\u0336d\u0336")[0].original.endswith("\u0336")  # the word's own mark
