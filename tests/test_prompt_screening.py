"""Prompt screening end to end through the CLI and the Python API, on the shared dev data."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import unicodedata
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from clearance import parallel
from clearance.audit import AuditLog
from clearance.cli import app
from clearance.content import Content
from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.screening import PromptRequest, Screener
from clearance.signals.name_entries import DISTINCTIVE, NEEDS_CONTEXT, NEEDS_SUPPORT, ambiguity, without_article
from clearance.signals.text_semantic import WINDOW_TOKENS, calibration, clause_spans, probability
from clearance.text.embedder import TextEmbedder, shared_text_embedder
from clearance.text.gazetteer import is_place
from clearance.text.keywords import description_words
from clearance.text.namesakes import is_namesake
from clearance.text.normalize import normalise
from clearance.text.rewrite import FALLBACK
from clearance.verdict import MAX_MATCHES, Action, Verdict
from tests.conftest import DATA, PROBES, WORKS_YAML

runner = CliRunner()
PROBES2 = PROBES.with_name("probes2")
PROBES3 = PROBES.with_name("probes3")
PROBES4 = PROBES.with_name("probes4")
PROBES5 = PROBES.with_name("probes5")
PROBES6 = PROBES.with_name("probes6")


@pytest.fixture(scope="module")
def screened_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return imported_through_cli(tmp_path_factory.mktemp("prompts") / "home", WORKS_YAML)


@pytest.fixture(scope="module")
def screener(screened_home: Home) -> Screener:
    return Screener(screened_home)


def imported_through_cli(root: Path, *registries: Path) -> Home:
    """A home with ``registries`` imported by ``clearance registry import``."""
    for registry in registries:
        result = runner.invoke(app, ["registry", "import", str(registry), "--home", str(root)])
        assert result.exit_code == 0, result.output
    return Home.resolve(root)


def rates_through_cli(home: Home, prompts: Path, out: Path) -> dict[str, float]:
    """Screen a labelled prompt file with ``clearance screen prompts``: per kind, the share blocked
    for the right work (block labels) or blocked at all (allow labels)."""
    result = runner.invoke(app, ["screen", "prompts", str(prompts), "--out", str(out), "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    verdicts = {v["id"]: v for v in map(json.loads, out.read_text().splitlines())}
    labels = [json.loads(line) for line in prompts.read_text().splitlines()]
    assert len(verdicts) == len(labels)
    hits: dict[str, list[bool]] = defaultdict(list)
    for item in labels:
        verdict = verdicts[item["id"]]
        assert verdict["audit_id"]
        if item["label"] == "block":
            hits[item["kind"]].append(verdict["action"] == "block"
                                      and item["work_id"] in {m["work_id"] for m in verdict["matches"]})
        else:
            hits[item["kind"]].append(verdict["action"] == "block")
    return {kind: sum(v) / len(v) for kind, v in hits.items()}


def test_dev_prompts_through_cli(screened_home: Home, data_dir: Path, tmp_path: Path) -> None:
    """The whole labelled dev set: rates per kind must meet the documented figures (two of the 60
    hard negatives block: 3.3%, over the 3% target that leave-one-work-out meets with 2.5%)."""
    rate = rates_through_cli(screened_home, data_dir / "text" / "prompts_dev.jsonl", tmp_path / "verdicts.jsonl")
    assert rate["direct"] >= 0.95 and rate["obfuscated"] >= 0.95 and rate["indirect"] >= 0.95
    assert rate["benign"] <= 0.01
    assert rate["hard_negative"] <= 2 / 60
    assert rate["negative_only"] <= 0.1


def test_independent_probes_of_unseen_works_through_cli(screened_home: Home, tmp_path: Path) -> None:
    """The probes' validation part (``data/probes``): works and prompts the calibration never saw.
    The bounds are the documented figures (README) with a prompt or two of slack, not the targets."""
    home = imported_through_cli(tmp_path / "home", WORKS_YAML, PROBES / "works.yaml")
    rate = rates_through_cli(home, PROBES / "validation.jsonl", tmp_path / "verdicts.jsonl")
    assert rate["direct"] >= 0.95 and rate["obfuscated"] >= 0.95 and rate["indirect"] >= 0.86
    assert rate["benign"] <= 0.02
    assert rate["hard_negative"] <= 0.05


def test_blind_probes_of_everyday_word_titles_through_cli(tmp_path: Path) -> None:
    """``data/probes2``: 22 works named with everyday words ("Up", "Joy", "Friends") among all 37
    registered. The bounds are the documented figures (README: 3 of 82 hard negatives block) with a
    prompt or two of slack."""
    home = imported_through_cli(tmp_path / "home", WORKS_YAML, PROBES / "works.yaml", PROBES2 / "works.yaml")
    rate = rates_through_cli(home, PROBES2 / "prompts.jsonl", tmp_path / "verdicts.jsonl")
    assert rate["direct"] >= 0.95 and rate["obfuscated"] >= 0.9 and rate["indirect"] >= 0.95
    assert rate["benign"] <= 0.03
    assert rate["hard_negative"] <= 4 / 82


TYPICAL_SIZES = {"direct": 36, "obfuscated": 36, "indirect": 36, "benign": 50, "hard_negative": 32, "negative_only": 10}


@pytest.mark.parametrize(("probes", "blocked"), [
    # direct, obfuscated, indirect: at least; benign, hard negatives, negative-only: at most
    ("probes7", (23, 34, 34, 1, 1, 1)),
    ("probes8", (28, 35, 34, 1, 1, 1)),
    ("probes9", (29, 34, 35, 1, 4, 1)),
    ("probes10", (29, 35, 35, 1, 4, 1)),
    ("probes11", (32, 35, 35, 1, 1, 1)),
    ("probes12", (32, 35, 35, 1, 1, 1)),
    ("probes13", (33, 35, 35, 1, 2, 1)),
    ("probes14", (33, 35, 34, 1, 2, 1)),
    ("probes15", (33, 35, 34, 1, 2, 1)),
    ("probes16", (33, 35, 35, 1, 2, 1)),
    ("probes17", (34, 35, 32, 1, 3, 1)),
    ("probes18", (34, 35, 33, 1, 1, 1)),
    ("probes19", (33, 35, 35, 1, 2, 1)),
    ("probes20", (33, 34, 34, 1, 4, 1)),
    ("probes21", (34, 35, 35, 1, 4, 2)),
    ("probes22", (34, 35, 35, 1, 3, 1)),
])
def test_blind_probes_of_typical_registries_through_cli(tmp_path: Path, probes: str,
                                                       blocked: tuple[int, ...]) -> None:
    """``data/probes7`` to ``data/probes22``: eight works each, written like the dev prompts, screened
    with the dev registry. The bounds are the documented counts (README) with a prompt of slack: the
    direct misses name characters the registries leave out (Rafiki, Dhalsim, the Borg cube) or
    names that are dictionary words said alone ("the smurfs dancing around a campfire"); the hard
    negatives that block use a registered name in a sense no list holds ("a kramer electric guitar",
    "a cosmo cocktail" until the second list, "itadori shoots"); a real person, race or station
    ("shaun white", "ironman triathlon", "paddington station") is allowed since the modern
    namesakes, and everyday words the dictionary lacked ("linguini", "abuela", "maki rolls", "a
    croft", "the bullseye of a dartboard") since the everyday supplement, and "a dino birthday cake",
    "biohazard warning symbol", "an inflatable lilo", "a gumball machine" since its second list."""
    folder = PROBES.with_name(probes)
    home = imported_through_cli(tmp_path / "home", WORKS_YAML, folder / "works.yaml")
    rate = rates_through_cli(home, folder / "prompts.jsonl", tmp_path / "verdicts.jsonl")
    counts = {kind: round(rate[kind] * n) for kind, n in TYPICAL_SIZES.items()}
    for kind, bound in zip(TYPICAL_SIZES, blocked, strict=True):
        assert counts[kind] >= bound if kind in ("direct", "obfuscated", "indirect") else counts[kind] <= bound, counts


def test_later_blind_probes_with_all_works_registered_through_cli(data_dir: Path, tmp_path: Path) -> None:
    """``data/probes3``, ``data/probes4`` and ``data/probes5``: ten, eight and eight more works, each
    written blind, among all 63 registered; the dev prompts are screened in that home too (more
    works, more names that are somebody's everyday words). The bounds are the documented figures
    (README) with a prompt of slack: 1 of 80, 1 of 56 and 1 of 50 hard negatives block, single
    real-world scenes that a registry describes (names of real people and things, "naruto fish
    cake", a Satsuki azalea, are reviewed since the real namesakes; a prison shiv, "overwatch" and
    "nightcrawlers" for bait are allowed since the everyday supplement, an audio "soundwave" since its
    second list); probes5's names that are dictionary words ("magneto", "gambit", "overwatch" in
    lower case) also need support, so 9 of its 40 direct prompts do not block. ``data/probes6`` has
    no works of its own: everyday requests for what those works' descriptions describe (a walking
    cane, a hand-painted sign in a cartoon style), of which 11 of 140 block, the description layer's
    known weakness (README); 32 did before a request for a photograph capped description matches at
    review."""
    home = imported_through_cli(tmp_path / "home", WORKS_YAML, PROBES / "works.yaml", PROBES2 / "works.yaml",
                                PROBES3 / "works.yaml", PROBES4 / "works.yaml", PROBES5 / "works.yaml")
    rate = rates_through_cli(home, PROBES3 / "prompts.jsonl", tmp_path / "verdicts.jsonl")
    assert rate["direct"] >= 0.96 and rate["obfuscated"] >= 0.95 and rate["indirect"] >= 0.95
    assert rate["benign"] <= 0.02
    assert rate["hard_negative"] <= 2 / 80
    rate = rates_through_cli(home, PROBES4 / "prompts.jsonl", tmp_path / "verdicts4.jsonl")
    assert rate["direct"] >= 0.95 and rate["obfuscated"] >= 0.9 and rate["indirect"] >= 0.95
    assert rate["benign"] <= 0.03
    assert rate["hard_negative"] <= 2 / 56
    rate = rates_through_cli(home, PROBES5 / "prompts.jsonl", tmp_path / "verdicts5.jsonl")
    assert rate["direct"] >= 30 / 40 and rate["obfuscated"] >= 0.9 and rate["indirect"] >= 22 / 24
    assert rate["benign"] <= 0.03
    assert rate["hard_negative"] <= 2 / 50
    rate = rates_through_cli(home, PROBES6 / "prompts.jsonl", tmp_path / "verdicts6.jsonl")
    assert rate["indirect"] >= 38 / 40 and rate["benign"] <= 0.05
    assert rate["hard_negative"] <= 12 / 140  # 11 (7.9%): requests for what a description describes
    dev = rates_through_cli(home, data_dir / "text" / "prompts_dev.jsonl", tmp_path / "dev-verdicts.jsonl")
    assert dev["benign"] <= 0.01 and dev["hard_negative"] <= 2 / 60


@pytest.mark.parametrize(
    ("prompt", "work", "element"),
    [
        ("Eleven from Stranger Things eating waffles", "stranger-things", "Eleven"),
        ("S q u i d   G 4 m e doll", "squid-game", None),
        ("Dеmоgоrgоn in a forest", "stranger-things", "Demogorgon"),  # Cyrillic е/о
        ("V\u200be\u200bc\u200bn\u200ba poster", "stranger-things", "Vecna"),
        ("ＢＲＩＤＧＥＲＴＯＮ ball", "bridgerton", None),  # full-width
        ("오징어 게임 poster", "squid-game", None),
        ("Hermoine Granger casting a spell", "harry-potter", "Hermione Granger"),
        ("Ve-cna in the attic", "stranger-things", "Vecna"),
        ("#SquidGame costume", "squid-game", None),
        ("Gihun in a tracksuit", "squid-game", "Seong Gi-hun"),
        ("Stran ger Things kids on bikes", "stranger-things", None),  # a word broken by a space
        ("Squid Ga me doll", "squid-game", None),
        ("Vec na in the attic", "stranger-things", "Vecna"),
        ("W e d nesday dancing", "wednesday", None),  # spaced letters, then the rest of the word
        ("ΗΑRRΥ ΡΟΤΤΕR wand duel", "harry-potter", None),  # Greek capitals: Η is H, though η looks like n
        ("ꜱᴛʀᴀɴɢᴇʀ ᴛʜɪɴɢꜱ kids on bikes", "stranger-things", None),  # small capitals
        ("Ꮪquid Ꮐame doll", "squid-game", None),  # Cherokee letters, from Unicode's confusables
        ("ЅQЦID GДMЭ doll", "squid-game", None),  # faux Cyrillic: Ц for U, Д for A, Э for E
        ("BЯIDGEЯTON ball", "bridgerton", None),  # faux Cyrillic: a mirrored R
        ("🅢🅠🅤🅘🅓 🅖🅐🅜🅔 doll", "squid-game", None),  # letters drawn as symbols
        ("S̶q̶u̶i̶d̶ G̶a̶m̶e̶ doll", "squid-game", None),  # struck through
        ("Str*nger Things kids", "stranger-things", None),  # a masked letter
        ("Bridg*rton ball", "bridgerton", None),  # a masked letter in a one-word name
        ("Strngr Thngs kids on bikes", "stranger-things", None),  # without vowels
        ("Str Wrs poster on a bedroom wall", "star-wars", None),  # so short words too, in a name of several
        ("Elvn with a nosebleed", "stranger-things", "Eleven"),
        ("rndll castle in winter", "frozen", "Arendelle"),  # every vowel dropped, the first one's too
        ("Squiiiid Gaaame doll", "squid-game", None),  # stretched letters
        ("Wednesday Addddams dancing", "wednesday", None),  # a stretched letter that was doubled
        ("kpop deamon hunter concert", "kpop-demon-hunters", None),  # misspelt, then one edit from a word
        ("W|e|d|n|e|s|d|a|y dancing", "wednesday", None),  # letters separated by a leetspeak symbol
        ("[S][q][u][i][d] Game doll", "squid-game", None),  # or by any other symbols
        ("R u m i  Z o e y on stage", "kpop-demon-hunters", "Rumi"),  # spaced letters of two short names
        ("Demagorgen in the woods at night", "stranger-things", "Demogorgon"),  # two typos, ten letters
        ("like https://www.google.com/search?q=squid+game+doll", "squid-game", None),  # a search query
        ("like https://example.com/Stranger%20Things.png", "stranger-things", None),  # a percent-escaped space
        ("a poster of Stran-\nger Things", "stranger-things", None),  # hyphenated across a line break
        ("R2D2 rolling through the desert", "star-wars", "R2-D2"),  # written without its hyphen, as often
        ("a photo of R2D2", "star-wars", "R2-D2"),  # (too short to be looked for inside other words)
        ("Wedn!sday Addams dancing", "wednesday", None),  # "!" for an i inside a word
        ("[Hermione|Vecna] in the rain", "stranger-things", "Vecna"),  # Stable Diffusion's alternation
        ("[V|e|c|n|a] in the attic", "stranger-things", "Vecna"),  # bars between letters, bracketed
    ],
)
def test_names_in_disguise(screener: Screener, prompt: str, work: str, element: str | None) -> None:
    verdict = screener.screen_prompt(prompt, audit=False)
    assert verdict.action == Action.BLOCK
    top = [m for m in verdict.matches if m.work_id == work]
    assert top and (element is None or element in {m.element for m in top})
    lexical = next(m for m in top if m.signal == "text.lexical")
    start, end = lexical.details["span"]
    assert prompt[start:end] == lexical.details["words"]


@pytest.mark.parametrize(
    ("prompt", "work", "element"),
    [
        ("Vecnaのイラスト", "stranger-things", "Vecna"),  # no space around a Latin name in Japanese,
        ("画一个Vecna", "stranger-things", "Vecna"),  # in Chinese,
        ("Vecna를 그려줘", "stranger-things", "Vecna"),  # and a Korean particle attached to it
        ("@Vecna in a dark forest", "stranger-things", "Vecna"),  # a mention
        ("Hermione|Vecna, dark forest", "stranger-things", "Vecna"),  # bars between names
        ("{Hermione|Vecna} in the rain", "stranger-things", "Vecna"),  # dynamic prompts' alternation
        ("Hermione!!!Vecna", "stranger-things", "Vecna"),
        ("Vecna2024 poster", "stranger-things", "Vecna"),  # a year, a version or a resolution glued on
        ("Vecna4k wallpaper", "stranger-things", "Vecna"),
        ("Vecna3D render", "stranger-things", "Vecna"),
        ("Squid_Game doll", "squid-game", None),  # a danbooru tag
        ("Vecna™ poster", "stranger-things", "Vecna"),  # NFKC spells ™ "TM"
        ("VecnaⅡ poster", "stranger-things", "Vecna"),  # and Ⅱ "II"
        ("Vecnaصورة", "stranger-things", "Vecna"),  # an Arabic one
        ("VecnaXL lora", "stranger-things", "Vecna"),
        ("Vecna60fps video", "stranger-things", "Vecna"),
        ("VecnaII figure", "stranger-things", "Vecna"),  # a Roman numeral in ASCII
        ("Vecna80s style", "stranger-things", "Vecna"),  # a decade
    ],
)
def test_names_in_the_forms_prompts_are_typed_in(screener: Screener, prompt: str, work: str,
                                                  element: str | None) -> None:
    """Until 2026-12-08 each of these read the name and what touched it as one word, and was allowed."""
    test_names_in_disguise(screener, prompt, work, element)


@pytest.mark.parametrize(("prompt", "plain"), [
    ("meet me @wednesday", "meet me wednesday"),  # an "@" is no leetspeak "a" before a word
    ("the_monster under bed", "the monster under bed"),  # nor is a tag's "_" a disguise
    ("Demogorgons attacking a town", "Demogorgon attacking a town"),  # a plural is no typo
    ("Steve Jobs on stage, poster", "Steve Jobs on stage, photo"),  # a request word, before another's surname
])
def test_how_a_name_is_typed_does_not_make_it_block(screener: Screener, prompt: str, plain: str) -> None:
    """A plural, a mention or a tag does not make a name more asked for than it is plainly written:
    each of these blocked while its plain form was allowed or reviewed."""
    verdict = screener.screen_prompt(prompt, audit=False)
    assert verdict.action != Action.BLOCK, verdict.matches
    assert screener.screen_prompt(plain, audit=False).action != Action.BLOCK


NUMBERED_TITLES_YAML = """version: 1
works:
  - {id: pokemon, title: "Pokémon™", owner: Nintendo, policy: block}
  - {id: toy-story-2, title: "Toy Story 2", owner: Disney, policy: block}
  - {id: cars, title: Cars, aliases: ["Cars 2", "Cars 3"], owner: Disney, policy: block}
"""


@pytest.mark.parametrize(("prompt", "work"), [
    ("Pokemon card art", "pokemon"),  # a title registered with ™: its "TM" was a word of the name
    ("ToyStory2 poster", "toy-story-2"),  # a name of several words glued to its number
    ("Cars 2 movie poster", "cars"),
    ("parking sign: cars 2 hours max", None),  # the sequel's number after an everyday word
    ("a street with cars 3 deep", None),
])
def test_titles_with_numbers_and_trade_marks(tmp_path: Path, prompt: str, work: str | None) -> None:
    """Black-box QA, 2026-12-08: "Pokémon™" registered no longer blocked "Pokemon card art", nor
    "Toy Story 2" "ToyStory2 poster" once a glued number was cut off; and "Cars 2", which "Cars"
    inside it supported, blocked a parking sign ("Frozen 2": "fish frozen 2 weeks ago")."""
    blocks_for(tmp_path, NUMBERED_TITLES_YAML, prompt, work)


@pytest.mark.parametrize(("prompt", "name"), [
    ("I love Eleven!!", "Eleven"),
    ("Draw Harry James Potter!", "Harry Potter"),
    ("Stranger Things!!! poster", "Stranger Things"),
])
def test_an_exclamation_mark_after_a_name_is_punctuation(screener: Screener, prompt: str, name: str) -> None:
    """Not leetspeak for a last "i": read so, "Eleven!!" was "elevenii" and the prompt was allowed."""
    verdict = screener.screen_prompt(prompt, audit=False)
    assert verdict.action == Action.BLOCK
    found = {(m.details["name"], m.details["words"], m.details["disguised"], m.details["fuzzy"])
             for m in verdict.matches if m.signal == "text.lexical"}
    assert any(found_name == name and "!" not in words and not disguised and not fuzzy
               for found_name, words, disguised, fuzzy in found), found


SHORT_WORDS_YAML = """version: 1
works:
  - {id: iron-man, title: Iron Man, owner: Marvel, policy: block, characters: [{name: War Machine}]}
  - {id: turning-red, title: Turning Red, owner: Disney, policy: block, characters: [{name: Ming Lee}]}
"""


@pytest.mark.parametrize(
    ("prompt", "action"),
    [("irn mn and wr mchn fighting drones, mrvl movie still", Action.BLOCK),  # probes12's one obfuscated miss
     ("Ming Leeeeee at the beach", Action.BLOCK),  # a stretched short word is read once ("lee"), no skeleton
     ("mr mn at the st market, bw photo", Action.ALLOW)],  # short abbreviations: no name of several words
)
def test_short_words_without_vowels_in_a_name_of_several(tmp_path_factory: pytest.TempPathFactory, prompt: str,
                                                        action: Action) -> None:
    """A skeleton needed four letters, so "irn mn" (Iron Man) was not read; short words typed without
    vowels are now read as a name's words when every word of a name of several is so typed. The
    first version of the rule also refused a stretched short word whose single reading differs from
    the name's ("Leeeeee" read "le"): ``bench_disguises`` caught it."""
    verdict = screener_of(tmp_path_factory, "short-words", SHORT_WORDS_YAML).screen_prompt(prompt, audit=False)
    assert verdict.action == action, verdict.matches


@pytest.mark.parametrize(
    ("prompt", "action"),
    [("오징어 게임의 인형", Action.BLOCK),  # Korean: a particle attached to the title's last word
     ("맛있는 오징어 게임을 했다", Action.BLOCK),
     ("イカゲームの人形", Action.BLOCK),  # Japanese, unspaced
     ("我想看鱿鱼游戏的视频", Action.BLOCK),  # Chinese, unspaced
     ("ｲｶｹﾞｰﾑの人形", Action.BLOCK),  # half-width kana: the voicing mark is a character of its own
     ("오징어 볶음과 게임기", Action.ALLOW)],  # stir-fried squid and a game console: the words apart
)
def test_cjk_titles_are_found_as_people_write_them(screener: Screener, prompt: str, action: Action) -> None:
    """A registered Korean title was found only when typed exactly as registered: "오징어 게임의 인형"
    (Squid Game's doll) was allowed, since Korean attaches particles to the last word. Japanese
    with a voicing mark (ゲ) read as "disguised", as if the mark were an accent to strip."""
    verdict = screener.screen_prompt(prompt, audit=False)
    assert verdict.action == action, verdict.matches
    for match in verdict.matches:
        assert not match.details.get("disguised"), match.evidence
        start, end = match.details["span"]
        assert prompt[start:end] == match.details["words"]


SHORT_CJK_NAMES = """version: 1
works:
  - id: naruto
    title: Naruto
    owner: Shueisha
    kind: series
    policy: block
    aliases: ["나루토", "ナルト"]
  - id: one-piece
    title: One Piece
    owner: Shueisha
    kind: series
    policy: block
    aliases: ["원피스"]
  - id: totoro
    title: My Neighbor Totoro
    owner: Studio Ghibli
    kind: film
    policy: block
    characters:
      - name: Totoro
        aliases: ["トトロ", "メイ"]
"""


@pytest.mark.parametrize(
    ("prompt", "work"),
    [("나루토 팬아트", "naruto"),  # fan art, in Korean
     ("トトロのぬいぐるみ", "totoro"),  # a Totoro plush, unspaced Japanese
     ("나루토 코믹북 스타일", "naruto"),  # comic book style, in Korean (probes13: "헬보이 ... 코믹북 스타일")
     ("ナルト カートゥーン", "naruto"),  # cartoon, in Japanese
     ("a 원피스 poster", "one-piece"),
     ("원피스 입은 여자", None),  # a woman in a one-piece dress: the everyday word
     ("ナルトのラーメン", None),  # naruto, the fish cake in ramen
     ("나루토", None),  # said alone, as "Eleven" is
     ("メイのポスター", None)],  # two syllables: too short to count without another name
)
def test_short_kana_and_hangul_names_need_a_request_for_the_work(tmp_path: Path, prompt: str,
                                                                 work: str | None) -> None:
    """A name of three kana or Hangul syllables ("나루토", Naruto) was as short as "Red" and never
    counted without another name of its work, even in "나루토 팬아트" (Naruto fan art). Three
    syllables are a word's length, but as often an everyday word ("원피스", a dress), and no dictionary
    of Japanese or Korean ships: such a name needs support, and a request for the work in
    Japanese, Korean or Chinese is that support."""
    blocks_for(tmp_path, SHORT_CJK_NAMES, prompt, work)


def blocks_for(tmp_path: Path, registry_yaml: str, prompt: str, work: str | None) -> None:
    """With only ``registry_yaml`` registered, ``prompt`` blocks for ``work``, or does not block (None)."""
    works = tmp_path / "works.yaml"
    works.write_text(registry_yaml, encoding="utf-8")
    screener = Screener(Home.resolve(tmp_path / "home"))
    screener.registry.import_file(works)
    verdict = screener.screen_prompt(prompt, audit=False)
    assert (verdict.action == Action.BLOCK) == (work is not None), verdict.matches
    assert work is None or verdict.matches[0].work_id == work


@pytest.mark.parametrize(
    "prompt",
    [
        "a calendar page showing Wednesday, March 4",
        "eleven candles on a birthday cake",
        "a frozen lake with ice skaters at dawn",
        "a pegboard wall in a garage workshop",
        "one red apple on a wooden table",
        "a man named Steve fixing a bicycle",
        "mr and mrs st clair in a bw photo, ltd edition print",  # abbreviations, no name's skeleton
    ],
)
def test_ordinary_words_that_are_names_do_not_block(screener: Screener, prompt: str) -> None:
    assert screener.screen_prompt(prompt, audit=False).action == Action.ALLOW


def test_an_element_named_in_everyday_words_goes_to_a_person_when_only_its_work_describes_it(
        screener: Screener) -> None:
    """"Dalgona honeycomb candy" is a Korean street sweet (an everyday word since the second list of
    ``data/everyday_words.md``), so the element's name needs support like "Frying pan"; the
    umbrella shape, a word of the work's descriptions, is some: a person looks at it."""
    verdict = screener.screen_prompt("dalgona honeycomb candy with an umbrella shape", audit=False)
    assert verdict.action == Action.REVIEW
    assert [(m.work_id, m.element) for m in verdict.matches if m.signal == "text.lexical"] == [
        ("squid-game", "Dalgona honeycomb candy")]
    plain = screener.screen_prompt("dalgona honeycomb candy at a street stall in Busan", audit=False)
    assert plain.action == Action.ALLOW, plain.matches


@pytest.mark.parametrize(
    ("prompt", "work", "blocks"),
    [
        ("a convenience store at night in the rain, edward hopper style", "stranger-things", False),  # "hopper"
        ("Hopper in his police hat, fan art", "stranger-things", True),  # capitalised and asked for
        ("Geiranger fjord village with wooden houses", "harry-potter", False),  # two edits from "Granger"
        ("iced dalgona coffee with whipped foam", "squid-game", False),  # a word of an element's name
        ("a derpy dog with its tongue out", "kpop-demon-hunters", False),  # slang, since the second list
        ("Derpy the tiger with a magpie, fan art", "kpop-demon-hunters", True),  # capitalised and asked for
        ("Bridgertons at a garden party, fan art", "bridgerton", True),  # "The Bridgertons" without "The"
        ("stranger things kids as lego minifigures", "stranger-things", True),  # merchandise asked for
        ("a duke and a queen at a chess table", "bridgerton", False),  # "the Duke", "the Queen": everyday
        ("elven archers at the beach", "stranger-things", False),  # a word one typo from "Eleven"
        ("Elevn at the beach", "stranger-things", True),  # no word: a deliberate misspelling
        ("Wensday at the beach", "wednesday", True),  # a misspelling frequent enough to be counted
        ("stranger things fan art", "stranger-things", True),  # several words, asked for: lower case is how people type
        ("a stranger things poster for my bedroom", "stranger-things", True),
        ("a stranger things sticker for my laptop", "stranger-things", True),  # stickers are merchandise too
        ("a price sticker on a frozen pizza box", "frozen", False),  # one everyday word, typed as such
        ("my family as stranger things characters", "stranger-things", True),  # "characters" asks as "character" does
        ("my family as original characters in a strange town", "stranger-things", False),
        ("stranger things in the attic at night", "stranger-things", False),  # several everyday words, not asked for
        ("eleven fan art", "stranger-things", False),  # one everyday word needs its capital as well
        ("a photorealistic video of Eleven walking through a city", "stranger-things", True),  # written as a name
        ("oil painting of Hopper", "stranger-things", False),  # a surname too (Edward Hopper): capitals say nothing
        ("a still of the Ocean's Eleven heist crew", "stranger-things", False),  # a word of a longer name
        ("Hopper on a comic book cover", "stranger-things", True),  # comics are a work's material too
        ("Hopper at a comic relief gig", "stranger-things", False),  # "comic" alone asks for nothing
    ],
)
def test_names_that_are_also_words_need_support(screener: Screener, prompt: str, work: str, blocks: bool) -> None:
    verdict = screener.screen_prompt(prompt, audit=False)
    named = any(m.work_id == work and m.signal == "text.lexical" for m in verdict.matches)
    assert named is blocks and (verdict.action == Action.BLOCK) is blocks, verdict.matches


@pytest.mark.parametrize(
    ("name", "level"),
    [(("minecraft",), DISTINCTIVE),  # frequent, but only ever a name
     (("pokemon",), DISTINCTIVE),
     (("hopper",), NEEDS_SUPPORT),  # an everyday word as well as a name
     (("creeper",), NEEDS_SUPPORT),
     (("wednesday",), NEEDS_SUPPORT),  # frequent and a word of English
     (("squid", "game"), DISTINCTIVE),  # everyday words, but a rare phrase
     (("stranger", "things"), NEEDS_SUPPORT),
     (("nairobi",), NEEDS_SUPPORT),  # a city of its own (GeoNames), not only a character
     (("merida",), NEEDS_SUPPORT),
     (("totoro",), DISTINCTIVE),
     (("加菲猫",), DISTINCTIVE),  # three Chinese characters: Garfield, as much as a Latin name says
     (("辐射",), NEEDS_CONTEXT),  # two can be an everyday word (radiation: Fallout's Chinese title)
     (("x战警",), NEEDS_CONTEXT),  # three characters, not all Chinese: counted as letters
     (("ナルト",), NEEDS_SUPPORT),  # three kana are three syllables, as often a word ("naruto", a fish cake)
     (("メイ",), NEEDS_CONTEXT)],  # two are too short to count without another name
)
def test_name_ambiguity_comes_from_a_dictionary_as_well_as_frequency(name: tuple[str, ...], level: int) -> None:
    assert ambiguity(name) == level


@pytest.mark.parametrize(
    ("name", "level"),
    [(("simpsons",), DISTINCTIVE), (("snowy", "owl"), NEEDS_SUPPORT), (("lord", "of", "the", "rings"), NEEDS_SUPPORT),
     (("duke",), None)],
)
def test_a_name_said_without_its_article_is_more_ambiguous(name: tuple[str, ...], level: int | None) -> None:
    """ "The Simpsons" is "Simpsons" too, but "the snowy owl" (a character) is not any snowy owl,
    and "the Duke" is no name without its article."""
    assert without_article(name) == level


def test_negative_prompt_never_blocks_and_rewrite_is_offered(screener: Screener) -> None:
    neg = screener.screen_prompt("a girl in a pink dress in a forest", "Stranger Things, Eleven", audit=False)
    assert neg.action == Action.ALLOW
    blocked = screener.screen_prompt("Eleven from Stranger Things with a nosebleed", "blurry", audit=False)
    assert blocked.action == Action.BLOCK
    assert "Eleven" not in blocked.rewritten_prompt and "Stranger Things" not in blocked.rewritten_prompt
    assert blocked.negative_prompt.startswith("blurry, ") and "Stranger Things" in blocked.negative_prompt
    assert screener.screen_prompt(blocked.rewritten_prompt, audit=False).action == Action.ALLOW


@pytest.mark.parametrize(
    ("prompt", "gone"),
    [("Squid Game doll in a field, 오징어 게임 style", ("Squid", "오징어")),  # named twice, in two scripts
     ("Harry Potter and Hermione studying in the Hogwarts library", ("Harry", "Potter", "Hogwarts")),  # the longest
     ("skinny boy with round glasses, messy black hair and a lightning-shaped scar on his forehead, "
      "red and gold scarf", ("glasses", "scar", " with,", " and,"))],  # every trait clause, and its joining word
)
def test_the_rewrite_leaves_out_everything_screening_finds(screener: Screener, prompt: str,
                                                           gone: tuple[str, ...]) -> None:
    verdict = screener.screen_prompt(prompt, audit=False)
    assert verdict.action == Action.BLOCK
    assert not any(word in verdict.rewritten_prompt for word in gone), verdict.rewritten_prompt
    assert screener.screen_prompt(verdict.rewritten_prompt, audit=False).action == Action.ALLOW


def test_every_rewrite_offered_screens_clean(screener: Screener, data_dir: Path) -> None:
    """What a platform may regenerate with must pass: every blocked or reviewed dev prompt's rewrite
    screens ``allow``, and named prompts keep their own words (the generic fallback is rare)."""
    rows = [json.loads(line) for line in (data_dir / "text" / "prompts_dev.jsonl").open()]
    offered, fallbacks = 0, 0
    for row in rows[::2]:
        verdict = screener.screen_prompt(row["prompt"], audit=False)
        if verdict.action == Action.ALLOW:
            continue
        offered += 1
        assert verdict.rewritten_prompt and verdict.negative_prompt, row
        assert screener.screen_prompt(verdict.rewritten_prompt, audit=False).action == Action.ALLOW, row
        fallbacks += row["kind"] in ("direct", "obfuscated") and verdict.rewritten_prompt == FALLBACK
    assert offered > 100 and fallbacks <= 4, (offered, fallbacks)


def test_a_thai_title_is_found_inside_unspaced_text(tmp_path: Path) -> None:
    """Thai is written without spaces, and its vowel signs and tone marks are combining marks, which
    split a Thai word into pieces at every one of them: "ฉันอยากดูสควิดเกมตอนใหม่" ("I want to watch
    the new Squid Game episode") was allowed though "สควิดเกม" was registered."""
    (tmp_path / "works.yaml").write_text("version: 1\nworks:\n  - {id: squid-game, title: Squid Game, "
                                         "owner: Netflix, policy: block, aliases: [สควิดเกม]}\n")
    screener = Screener(Home.resolve(tmp_path / "home"))
    screener.registry.import_file(tmp_path / "works.yaml")
    verdict = screener.screen_prompt("ฉันอยากดูสควิดเกมตอนใหม่", audit=False)
    assert verdict.action == Action.BLOCK and verdict.rewritten_prompt == "ฉันอยากดูan original storyตอนใหม่"
    assert screener.screen_prompt("ฉันอยากกินข้าวผัด", audit=False).action == Action.ALLOW  # fried rice


@pytest.mark.parametrize(
    ("prompt", "rewritten"),
    [("a Demogorgon plush on a bed", "an original character plush on a bed"),  # not "a an original ..."
     ("the Demogorgon from Stranger Things", "an original character from an original story"),
     ("오징어 게임의 인형 사진", "an original story의 인형 사진"),  # the title, not the words it is in
     ("我想看鱿鱼游戏的视频", "我想看an original story的视频"),
     ("Chief Jim Hopper in his hat", "an original character in his hat"),  # was "Chief an original ..."
     ("Vecna2024 poster", "an original character 2024 poster"),  # was "an original character2024"
     ("dark forest::1 Vecna::2", "dark forest::1 an original character::2")],  # Midjourney's weights kept
)
def test_the_rewrite_replaces_the_name_and_keeps_the_rest(screener: Screener, prompt: str, rewritten: str) -> None:
    verdict = screener.screen_prompt(prompt, audit=False)
    assert verdict.action == Action.BLOCK
    assert verdict.rewritten_prompt == rewritten


def test_verdicts_do_not_depend_on_the_string_hash_seed(screened_home: Home, tmp_path: Path) -> None:
    """Which of several equally good names a verdict reports ("strangr things": the title or the
    alias "Strange Things"), and which telling words it hands on, must not change from process
    to process: Python salts string hashes per process, and the order of a set follows them."""
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"id": str(i), "prompt": p}) + "\n" for i, p in enumerate((
        "strangr things at the beach", "Str*nger Th!ngs kids on bikes at night", "kpop deamon hunter girls on stage",
        "a yellow sea sponge in square pants flipping burgers in an undersea diner",
        "Eleven with a nosebleed in the 1980s", "S q u i d  G a m e doll in a schoolyard"))), encoding="utf-8")
    runs = []
    for seed in ("1", "2", "3"):
        out = tmp_path / f"verdicts-{seed}.jsonl"
        command = [sys.executable, "-m", "clearance.cli.main", "screen", "prompts", str(prompts), "--out", str(out),
                   "--home", str(screened_home.root)]
        subprocess.run(command, env={**os.environ, "PYTHONHASHSEED": seed}, check=True, capture_output=True)
        runs.append([{k: v for k, v in json.loads(line).items() if k != "audit_id"}
                     for line in out.read_text(encoding="utf-8").splitlines()])
    assert len(runs[0]) == 6 and runs[0] == runs[1] == runs[2]


def test_negative_prompt_terms_are_words_the_registry_wrote(screener: Screener) -> None:
    """The telling words handed to a generator are words of the registry's text, not stems
    ("christma", "noseble") and not digits read as leetspeak ("1980s" was "igbos")."""
    registry_text = WORKS_YAML.read_text(encoding="utf-8").casefold()
    for prompt in ("strangr things at the beach", "Eleven from Stranger Things with a nosebleed",
                   "Wednesday Addams dancing at a school ball"):
        terms = screener.screen_prompt(prompt, audit=False).negative_prompt.split(", ")
        assert len(terms) > 3
        assert all(re.search(rf"\b{re.escape(term.casefold())}\b", registry_text) for term in terms), terms
    given = "stranger things, Eleven, blurry"  # the caller's own terms were repeated after them
    terms = screener.screen_prompt("Eleven from Stranger Things", given, audit=False).negative_prompt.split(", ")
    assert terms[:3] == ["stranger things", "Eleven", "blurry"] and len(terms) == len({t.casefold() for t in terms})


@pytest.mark.parametrize(("text", "words"), [
    ("1980s neon, 35mm film, 4K, 3D render, 19th century", "1980s neon 35mm film 4k 3d render 19th century"),
    ("V3cn4 and 3l3v3n in 5quid G4me, 1n the 90s", "vecna and eleven in squid game in the 90s"),
])
def test_numbers_with_units_are_not_leetspeak(text: str, words: str) -> None:
    assert normalise(text) == words


def test_indirect_description_names_element(screener: Screener) -> None:
    prompt = ("a huge robotic girl with a black bob and orange pinafore turning her head while players in green "
              "tracksuits freeze")  # no name or alias ("the giant doll" is one)
    verdict = screener.screen_prompt(prompt, audit=False)
    assert verdict.action == Action.BLOCK
    semantic = next(m for m in verdict.matches if m.signal == "text.semantic")
    assert semantic.work_id == "squid-game" and semantic.element == "Young-hee"
    assert verdict.versions["text.embedding_model"]
    # shared words as the prompt spells them ("tracksuits", "turning"), not the stems that matched
    assert "tracksuits" in semantic.details["shared_words"]
    assert set(semantic.details["shared_words"]) <= set(normalise(prompt).split())


def test_everyday_request_sharing_one_trait_is_not_blocked(screener: Screener) -> None:
    """One trait of a work ("fast-food restaurant in the ocean") in an everyday request is not the
    work: the request resembles ordinary prompts just as much (``ordinary`` feature)."""
    everyday = "an original K-pop girl group in matching outfits on stage"
    assert screener.screen_prompt(everyday, audit=False).action != Action.BLOCK
    described = screener.screen_prompt("a red crab with stalk eyes counting money in his undersea fast food "
                                       "restaurant shaped like a lobster trap", audit=False)
    assert described.action == Action.BLOCK
    semantic = next(m for m in described.matches if m.signal == "text.semantic")
    assert semantic.work_id == "spongebob-squarepants" and "ordinary_similarity" in semantic.details


def test_the_ordinary_prompts_are_compared_only_where_a_trait_resembles_the_prompt(screener: Screener,
                                                                                   data_dir: Path) -> None:
    """Screening skips the ordinary feature where no candidate's trait resembles a clause: those rows'
    probability is 0 whatever it is. Every dev prompt's probabilities are the ones calibration's
    complete features give, and both paths are taken."""
    semantic = next(s for s in screener.signals if s.name == "text.semantic")
    calibrated = calibration()
    skipped = compared = 0
    for line in (data_dir / "text" / "prompts_dev.jsonl").read_text().splitlines()[::3]:
        content = Content(kind="text", text=json.loads(line)["prompt"])
        screening, complete = semantic.features(content, every_row=False), semantic.features(content)
        assert not np.isnan(complete.vectors).any()
        assert np.array_equal(probability(screening.vectors, calibrated), probability(complete.vectors, calibrated))
        skipped += int(np.isnan(screening.vectors).any())
        compared += int(len(screening.works) > 0 and not np.isnan(screening.vectors).any())
    assert skipped > 10 and compared > 10, (skipped, compared)


@pytest.mark.parametrize(("suffix", "photograph"), [
    ("", None), (", food photography", "photography"), (", 1950s photograph", "photograph"),
    (", photorealistic", None), (", photo-realistic 3d render", None), (", photo realistic", None),
    (", photojournalism", "photojournalism"), (", underwater astrophotography", "astrophotography"),
    (", telephoto shot", "telephoto"),  # since probes22's riot police blocked as RoboCop in "photojournalism"
])
def test_a_description_in_a_request_for_a_photograph_is_reviewed_not_blocked(screener: Screener, suffix: str,
                                                                             photograph: str | None) -> None:
    """A photograph is of the real world, so what a description describes in one (a stack of waffles,
    clownfish in an anemone) goes to a person rather than being blocked; a photorealistic render is
    a look, and still blocks. Review, never allow: the ceiling is below block, not below review."""
    verdict = screener.screen_prompt("a red crab with stalk eyes counting money in his undersea fast food "
                                     "restaurant shaped like a lobster trap" + suffix, audit=False)
    semantic = next(m for m in verdict.matches if m.signal == "text.semantic")
    assert semantic.work_id == "spongebob-squarepants" and semantic.details["photograph"] == photograph
    if photograph:
        assert verdict.action == Action.REVIEW and 0.5 <= semantic.score < 0.8
        assert semantic.evidence.startswith("a request for a photograph")  # first: a table cuts the end
    else:
        assert verdict.action == Action.BLOCK and semantic.score >= 0.8


@pytest.mark.parametrize(("prompt", "original"), [
    ("an original character: a red crab with stalk eyes counting money in his undersea fast food restaurant shaped "
     "like a lobster trap", "original"),
    ("a red crab of my own design with stalk eyes counting money in his undersea fast food restaurant shaped like "
     "a lobster trap", "of my own design"),
    ("the original scene: a red crab with stalk eyes counting money in his undersea fast food restaurant shaped "
     "like a lobster trap", None),  # "the original" is the source, not a new creation
])
def test_a_description_in_a_request_for_an_original_creation_is_reviewed_not_blocked(
        screener: Screener, prompt: str, original: str | None) -> None:
    """An original 8-bit knight jumping over spikes resembled *Mega Man*'s look and blocked; a request
    for the user's own creation goes to a person, as a photograph does, never to allow."""
    verdict = screener.screen_prompt(prompt, audit=False)
    semantic = next(m for m in verdict.matches if m.signal == "text.semantic")
    assert semantic.work_id == "spongebob-squarepants" and semantic.details["original"] == original
    if original:
        assert verdict.action == Action.REVIEW and 0.5 <= semantic.score < 0.8
        assert semantic.evidence.startswith("a request for an original creation")
    else:
        assert verdict.action == Action.BLOCK


def test_asking_for_a_photograph_never_lets_a_described_work_through(screener: Screener, data_dir: Path) -> None:
    """The cap is a way around blocking, so it must lead to a person: every dev indirect prompt that
    blocks as written is at least reviewed, for its own work, with a photograph or an original
    creation asked for."""
    prompts = [json.loads(line) for line in (data_dir / "text" / "prompts_dev.jsonl").open(encoding="utf-8")]
    blocking = [p for p in prompts if p["kind"] == "indirect"
                and screener.screen_prompt(p["prompt"], audit=False).action == Action.BLOCK]
    assert len(blocking) >= 75
    for p in blocking:
        for suffix in (", stock photo", ", original character"):  # the two requests that cap at review
            verdict = screener.screen_prompt(p["prompt"] + suffix, audit=False)
            assert verdict.action != Action.ALLOW and p["work_id"] in {m.work_id for m in verdict.matches}, p["prompt"]


def test_a_named_work_in_a_request_for_a_photograph_still_blocks(screener: Screener) -> None:
    verdict = screener.screen_prompt("Eleven from Stranger Things eating waffles, polaroid photo", audit=False)
    assert verdict.action == Action.BLOCK and verdict.matches[0].work_id == "stranger-things"


@pytest.mark.parametrize(("prompt", "action"), [
    ("Harry James Potter on a broom", Action.BLOCK),  # was allowed: "Harry Potter on a broom" blocked (QA)
    ("Jim R. Hopper at the station", Action.BLOCK),  # an initial
    ("Harry James Edward Potter on a broom", Action.BLOCK),  # two middle names
    ("Harry And The Potter", Action.ALLOW),  # little words in the middle
    ("harry james potter on a broom", Action.ALLOW),  # in lower case, three everyday words
    ("Stranger Little Things on a shelf", Action.ALLOW),  # a title with a word put in is another title
    ("Portrait: Harry James Potter on a broom", Action.BLOCK),
    # a capitalised word before the name is no headline (a second verify pass found these allowed):
    ("Young Harry James Potter on a broom", Action.BLOCK), ("Chief Jim R. Hopper at the station", Action.BLOCK),
    # a last word that begins another name with the next, particles, two people, a rank, a group
    # (verify passes found them blocked):
    ("Patrick Mahomes Star Quarterback Magazine Cover", Action.ALLOW),
    ("Harry Truman Potter County courthouse, Texas, 1948 photograph", Action.ALLOW),
    ("Steve Jobs Harrington Park press event", Action.ALLOW),
    ("Simon Le Basset", Action.ALLOW), ("Simon And Basset", Action.ALLOW),
    ("Kate, Raj Sharma at the beach", Action.ALLOW), ("Kate & Raj Sharma at the beach", Action.ALLOW),
    ("Portrait of Queen Sophie Charlotte of Prussia, baroque oil painting", Action.ALLOW),
    ("Pink Floyd Guards of the wall concept art", Action.ALLOW),
])
def test_a_characters_name_with_a_middle_name_is_the_name(screener: Screener, prompt: str, action: Action) -> None:
    verdict = screener.screen_prompt(prompt, audit=False)
    assert verdict.action == action, verdict.matches


def test_licence_turns_matches_into_allow(screened_home: Home, screener: Screener) -> None:
    screener.registry.grant_licence("netflix-platform", "stranger-things")
    try:
        licensed = screener.screen_prompt("Eleven from Stranger Things", tenant="netflix-platform")
        other = screener.screen_prompt("Eleven from Stranger Things", tenant="someone-else")
    finally:
        screener.registry.revoke_licence("netflix-platform", "stranger-things")
    assert licensed.action == Action.ALLOW and all(m.licensed for m in licensed.matches)
    assert licensed.rewritten_prompt is None
    assert other.action == Action.BLOCK


def test_costly_signals_run_only_while_they_can_change_the_verdict(screened_home: Home, screener: Screener) -> None:
    """A name that blocks spares the sentence model, unless the caller's licence allows that name:
    then the description of another work in the same prompt must still be found."""
    prompt = ("Eleven from Stranger Things next to a huge robotic girl with a black bob and orange pinafore "
              "turning her head while players in green tracksuits freeze")
    screener.registry.grant_licence("netflix-platform", "stranger-things")
    try:
        licensed = screener.screen_prompt(prompt, tenant="netflix-platform", audit=False)
    finally:
        screener.registry.revoke_licence("netflix-platform", "stranger-things")
    unlicensed = screener.screen_prompt(prompt, audit=False)
    assert unlicensed.action == Action.BLOCK
    assert {m.signal for m in unlicensed.matches} == {"text.lexical"}
    assert licensed.action == Action.BLOCK
    assert any(m.signal == "text.semantic" and m.work_id == "squid-game" for m in licensed.matches)


@pytest.mark.parametrize(("prompt", "error"), [("", "empty prompt"), ("   \n\t", "empty prompt"),
                                               ("\x00\u200b\x07 \u2028\ufeff", "empty prompt"),
                                               # printable to Python, yet they show nothing (a QA pass):
                                               ("\u2800\u2800", "empty prompt"), ("\u3164\u115f", "empty prompt"),
                                               ("\ufe0f", "empty prompt"), ("\u00ad\u034f", "empty prompt"),
                                               (" \u200b\u2800\u3164 \u0301\u0308", "empty prompt")])
def test_empty_prompts_are_reviewed(screener: Screener, prompt: str, error: str) -> None:
    verdict = screener.screen_prompt(prompt)
    assert verdict.action == Action.REVIEW and verdict.error == error and verdict.audit_id


def test_huge_and_odd_prompts(screener: Screener) -> None:
    huge = "a quiet meadow with wildflowers " * 3500 + " Vecna"
    verdict = screener.screen_prompt(huge, audit=False)
    assert verdict.action == Action.REVIEW and "truncated" in (verdict.error or "")
    odd = screener.screen_prompt("\x00\x07 🎬 \U0010ffff ̸̸̸ \ud800x Vecna", audit=False)
    assert odd.action == Action.BLOCK


def test_batch_with_bad_lines_goes_on(screened_home: Home, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'\xef\xbb\xbf{"id": "ok", "prompt": "Vecna in the attic"}\r\n'
        b'{"id": "broken", "prompt": \n'
        b'\xff\xfe not utf-8\n'
        b'{"id": "extra", "prompt": "a cat", "colour": "red"}\n'
        b'{"id": "notstr", "prompt": 42}\n'
        b'["a list"]\n'
        b'\n'
        b'{"id": "twice", "prompt": "Vecna in the attic", "prompt": "a cat"}\n'  # json kept the last
        b'{"id": "last", "prompt": "a cat on a sofa", "negative_prompt": "Vecna"}\n'
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["screen", "prompts", str(src), "--out", str(out), "--home", str(screened_home.root)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["ok", "line-2", "line-3", "extra", "notstr", "line-6", "line-8", "last"]
    assert rows[0]["action"] == "block" and rows[-1]["action"] == "allow"
    for row in rows[1:-1]:
        assert row["action"] == "review" and row["error"]
    assert "invalid JSON" in rows[1]["error"] and "UTF-8" in rows[2]["error"] and "colour" in rows[3]["error"]
    assert rows[6]["error"] == "line 8: key 'prompt' is given twice"


def test_a_line_id_is_echoed_as_json_wrote_it(screened_home: Home, tmp_path: Path) -> None:
    """A number is echoed as its JSON text, a null id as the line number, and an object or a list is
    a bad line: str() echoed "None" and Python's "{'a': 1}" (a QA pass)."""
    src = tmp_path / "ids.jsonl"
    src.write_text('{"id": 5, "prompt": "a cat"}\n{"id": 2.5, "prompt": "a cat"}\n{"id": null, "prompt": "a cat"}\n'
                   '{"id": {"a": 1}, "prompt": "Vecna"}\n{"id": [1], "prompt": "Vecna"}\n{"id": true, "prompt": "a"}\n',
                   encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert runner.invoke(app, ["screen", "prompts", str(src), "--out", str(out),
                               "--home", str(screened_home.root)]).exit_code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["5", "2.5", "line-3", "line-4", "line-5", "line-6"]
    assert [r.get("error") for r in rows[3:]] == [f"line {n}: field 'id' must be a string" for n in (4, 5, 6)]



def test_a_repeated_id_is_screened_and_warned_about(screened_home: Home, tmp_path: Path) -> None:
    """Two verdicts under one id cannot be told apart by whoever joins them back to the input: both
    lines are screened, and the second is named on stderr (the batch was silent)."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "p1", "prompt": "Vecna in the attic"}\n{"id": "p2", "prompt": "a cat"}\n'
                   '{"id": "p1", "prompt": "a dog"}\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["screen", "prompts", str(src), "--out", str(out), "--home", str(screened_home.root)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["p1", "p2", "p1"]
    assert "line 3: id 'p1' was used on line 1 too" in " ".join(result.stderr.split()), result.stderr

SHORT_NAMES_YAML = """version: 1
works:
  - {id: her, title: Her, owner: Annapurna, policy: block,
     characters: [{name: Samantha, description: Warm AI operating system voice in an earpiece},
                  {name: Theodore Twombly, description: Lonely letter writer in a red shirt}]}
  - {id: bond, title: James Bond, owner: EON, policy: block,
     characters: [{name: M, description: Head of MI6 behind a leather desk},
                  {name: Q, description: Quartermaster showing gadgets in a lab}]}
"""


def test_stopword_and_very_short_names_do_not_vouch_for_other_names(tmp_path: Path) -> None:
    """A title of stopwords ("Her") is no name, and the shortest names ("M", "Q") do not support each
    other: before, "Samantha walks her dog" blocked for Her. Real second names still support."""
    (tmp_path / "works.yaml").write_text(SHORT_NAMES_YAML)
    screener = Screener(Home.resolve(tmp_path / "home"))
    screener.registry.import_file(tmp_path / "works.yaml")
    for prompt in ("Samantha walks her dog in the park", "M and Q in a park"):
        assert screener.screen_prompt(prompt, audit=False).action == Action.ALLOW, prompt
    named = screener.screen_prompt("Theodore Twombly with Samantha", audit=False)
    assert named.action == Action.BLOCK and {m.work_id for m in named.matches} == {"her"}


def test_hostile_long_prompts_cost_bounded_work(screener: Screener) -> None:
    """Prompts at the 20,000-character limit built to blow up the layers: before, spaced letters took
    78 s (one-edit candidates of one 18,000-letter word), accented letters between combining marks
    did not finish in 10 minutes (every run of glued words tried), and short clauses took 35 s (one
    model pass each). Digits, Hangul and letters drawn as symbols cut every window at the model's 128
    tokens, three times a window of English, and styled letters were each a "change" every word was
    checked against (7 s each on 2026-12-03). Not a speed target (benchmarks measure speed): a guard
    against blowups, with room for a slow machine. What the description layer left unread makes the
    verdict a review, and a rewrite is not screened again (each round would cost as much again)."""
    hostile = {"S q u i d G a m e ": Action.BLOCK, "a\u0301\u0302\u0303": Action.ALLOW, "a a, ": Action.REVIEW,
               "a ": Action.REVIEW, "\u200bVecna\u200b in the attic ": Action.BLOCK, "1234567890 ": Action.REVIEW,
               "사과 나무 ": Action.REVIEW, "🅐🅟🅟🅛🅔 ": Action.REVIEW}
    start = time.perf_counter()
    for unit, action in hostile.items():
        verdict = screener.screen_prompt((unit * 20_000)[:20_000], audit=False)
        assert verdict.action == action, unit
        assert verdict.rewritten_prompt == (None if action == Action.ALLOW else FALLBACK), unit  # no rounds
        if action == Action.REVIEW:
            read = re.search(r"description layer read the first (\d+) of \d+ windows", verdict.error)
            assert read, unit
            if unit in ("1234567890 ", "사과 나무 "):  # windows cut at 128 tokens: half as many read as of English
                assert int(read.group(1)) * 100 <= WINDOW_TOKENS, unit
    assert time.perf_counter() - start < 120


def test_lone_surrogates_are_screened_audited_and_written(screened_home: Home, tmp_path: Path) -> None:
    """JSON may escape a lone surrogate (not a character; no database or UTF-8 file takes one). Its
    line is still screened and audited, the lines around it too, and the output can be written."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "named", "prompt": "\\ud800 Vecna in the attic"}\n'
                   '{"id": "\\udcff", "prompt": "a cat on a sofa"}\n'
                   '{"id": "negative", "prompt": "a dog in a park", "negative_prompt": "blurry \\udfff"}\n'
                   '{"id": "plain", "prompt": "a dog in a park"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["screen", "prompts", str(src), "--out", str(out), "--home", str(screened_home.root)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["named", "\\xff", "negative", "plain"]
    assert rows[0]["action"] == "block" and "surrogate" in rows[0]["error"]
    assert rows[0]["matches"][0]["details"]["span"][0] == 2  # spans still point into the prompt as sent
    assert rows[2]["action"] == "review" and "surrogate" in rows[2]["error"]
    assert rows[3]["action"] == "allow" and all(r["audit_id"] for r in rows)
    assert AuditLog(session_factory(screened_home.database_url)).verify().ok


def test_a_word_of_another_script_is_no_disguise(tmp_path: Path) -> None:
    """Look-alike letters of another script inside a Latin word are a disguise; a word written in its
    own script ("странные", which keeps letters no Latin one looks like) is not, and a name said in it
    is that name, not a disguise of it, though some of its letters stand for Latin ones in faux
    Cyrillic lettering ("Очень", whose ч is a Y there)."""
    home = Home.resolve(tmp_path / "home")
    works = tmp_path / "works.yaml"
    works.write_text("version: 1\nworks:\n  - id: st\n    title: Stranger Things\n    owner: Netflix\n"
                     "    kind: series\n    policy: block\n    aliases: [\"Очень странные дела\"]\n", encoding="utf-8")
    screener = Screener(home)
    screener.registry.import_file(works)
    said = screener.screen_prompt("Очень странные дела poster", audit=False)
    assert said.action == Action.BLOCK and not said.matches[0].details.get("disguised")
    mixed = screener.screen_prompt("Strаnger Things poster", audit=False)  # a Cyrillic а
    assert mixed.action == Action.BLOCK and mixed.matches[0].details.get("disguised")
    faux = screener.screen_prompt("STRДNGER THIИGS poster", audit=False)  # faux Cyrillic Д and И
    assert faux.action == Action.BLOCK and faux.matches[0].details.get("disguised")


def test_cli_usage_errors_exit_non_zero(screened_home: Home, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["screen", "prompts", str(tmp_path / "nope.jsonl"), "--home", str(screened_home.root)])
    assert missing.exit_code == 2 and "not found" in missing.output
    single = runner.invoke(app, ["screen", "prompt", "Vecna", "--json", "--home", str(screened_home.root)])
    assert single.exit_code == 0 and json.loads(single.output)["action"] == "block"
    folder = runner.invoke(app, ["screen", "prompts", str(tmp_path), "--home", str(screened_home.root)])
    assert folder.exit_code == 2 and "is not a file" in folder.output
    for command in (["prompt", "Vecna"], ["prompts", str(tmp_path / "unread.jsonl")]):  # PostgreSQL: a traceback
        long_tenant = runner.invoke(app, ["screen", *command, "--tenant", "t" * 201, "--home", str(screened_home.root)])
        assert long_tenant.exit_code == 2 and "tenant longer than 200 characters" in long_tenant.output
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "prompt": "a cat"}\n', encoding="utf-8")
    for out, message in ((tmp_path / "no" / "out.jsonl", "does not exist"), (tmp_path, "is a folder")):
        for command in (["prompts", str(src)], ["media", str(DATA / "images" / "ref" / "ref_000.jpg")]):
            refused = runner.invoke(app, ["screen", *command, "--out", str(out), "--home", str(screened_home.root)])
            assert refused.exit_code == 2 and message in refused.output, (command, refused.output)
            assert not isinstance(refused.exception, OSError)


def test_an_out_that_is_an_input_or_cannot_be_written_is_refused_and_loses_nothing(screened_home: Home,
                                                                                   tmp_path: Path) -> None:
    """``--out`` naming the input emptied it before it was read, with exit 0 and no verdict; an --out
    the system refuses (``/sys``, a full disk) ended in a traceback."""
    home = ["--home", str(screened_home.root)]
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "prompt": "Vecna"}\n', encoding="utf-8")
    image = tmp_path / "ref_000.jpg"
    image.write_bytes((DATA / "images" / "ref" / "ref_000.jpg").read_bytes())
    listing = tmp_path / "list.txt"
    listing.write_text(f"{image}\n", encoding="utf-8")
    for command, target in ((["prompts", str(src)], src), (["media", "--from-list", str(listing)], listing),
                            (["media", str(image)], image), (["media", "--from-list", str(listing)], image)):
        kept = target.read_bytes()
        refused = runner.invoke(app, ["screen", *command, "--out", str(target), *home])
        assert refused.exit_code == 2 and "is an input of this command" in refused.output, (command, refused.output)
        assert target.read_bytes() == kept
    if Path("/dev/full").exists():  # every write to it fails with "no space left"
        full = runner.invoke(app, ["screen", "prompts", str(src), "--out", "/dev/full", *home])
        assert full.exit_code == 1 and "writing failed after 0 verdict(s)" in full.output, full.output
        assert not isinstance(full.exception, OSError)


def test_a_batch_written_to_out_prints_a_summary_and_tables_show_no_markup_or_control_codes(
        screened_home: Home, tmp_path: Path) -> None:
    """With --out every verdict was also kept for a table printed at the end (memory grew ~5 kB a
    prompt; 17 MB of table for 100,000); ids and prompts went into the tables raw: "[/]" raised
    rich's MarkupError, and escape codes cleared the terminal."""
    home = ["--home", str(screened_home.root)]
    src = tmp_path / "in.jsonl"
    lines = [{"id": f"p{i}", "prompt": p} for i, p in enumerate(["Vecna", "a cat", "a cat"])]
    lines.append({"id": "[/]\u001b[2J\u202eevil", "prompt": "Vecna \u001b]0;title\u0007 in the attic"})
    src.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    written = runner.invoke(app, ["screen", "prompts", str(src), "--out", str(tmp_path / "out.jsonl"), *home])
    assert written.exit_code == 0 and "p1" not in written.output, written.output  # a summary, not every row
    assert re.search(r"block\s*│\s*2", written.output) and re.search(r"allow\s*│\s*2", written.output)
    for command in (["screen", "prompts", str(src)], ["screen", "prompt", lines[-1]["prompt"]]):
        table = runner.invoke(app, [*command, *home])
        assert table.exit_code == 0 and "\x1b" not in table.output and "\u202e" not in table.output, table.output
    assert "\\x1b[2J" in runner.invoke(app, ["screen", "prompts", str(src), *home]).output


def test_fail_closed_when_a_layer_cannot_run(tmp_path: Path) -> None:
    """An index folder that cannot be written (a real failure mode) gives review, never allow."""
    home = Home.resolve(tmp_path / "home")
    Screener(home).registry.import_file(WORKS_YAML)
    home.index_dir.mkdir(parents=True, exist_ok=True)
    (home.index_dir / "text.semantic").write_text("not a folder")
    verdict = Screener(home).screen_prompt("a golden retriever on a beach")
    assert verdict.action == Action.REVIEW and "text.semantic" in (verdict.error or "")


def test_screening_and_audit_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    home_dir = str(tmp_path / "pg-home")
    common = ["--home", home_dir, "--database-url", pg_url]
    assert runner.invoke(app, ["registry", "import", str(WORKS_YAML), *common]).exit_code == 0
    result = runner.invoke(app, ["screen", "prompt", "Vecna in the attic", "--json", *common])
    verdict = json.loads(result.output)
    assert verdict["action"] == "block"
    shown = runner.invoke(app, ["audit", "show", verdict["audit_id"], "--json", *common])
    assert json.loads(shown.output)["matches"][0]["work_id"] == "stranger-things"
    assert runner.invoke(app, ["audit", "verify", *common]).exit_code == 0


def test_a_prompt_gets_the_same_vectors_alone_in_a_list_and_among_concurrent_prompts() -> None:
    """The int8 kernels scale activations per call, so each text runs on its own: a verdict must not
    depend on what else was being screened (a server's concurrent requests, a scrub's batch). A lone
    call runs on two threads here, one that overlaps another on one."""
    embedder = TextEmbedder(threads=2)
    prompts = [json.loads(line)["prompt"] for line in (WORKS_YAML.parent / "prompts_dev.jsonl").open()][::9][:32]
    alone = [embedder.embed_with_spans(p, clause_spans(p)) for p in prompts]
    start = threading.Barrier(8)

    def screen(chunk: range) -> list[tuple[int, tuple]]:
        start.wait()
        return [(i, embedder.embed_with_spans(prompts[i], clause_spans(prompts[i]))) for i in chunk]

    with ThreadPoolExecutor(8) as pool:
        together = dict(pair for part in pool.map(screen, [range(k, 32, 8) for k in range(8)]) for pair in part)
    listed = embedder.embed(prompts)
    for i, (full, spans) in enumerate(alone):
        assert np.array_equal(together[i][0], full) and np.array_equal(together[i][1], spans), prompts[i]
        assert np.array_equal(listed[i], full), prompts[i]


class _CountingSession:
    """Counts the calls of an ONNX Runtime session and runs them on it."""

    def __init__(self, session: object) -> None:
        self.session, self.calls = session, 0

    def run(self, *args: object) -> object:
        self.calls += 1
        return self.session.run(*args)


def test_a_lone_prompt_takes_the_models_threads_and_a_batchs_prompts_one_each(
        screener: Screener, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two model threads take a third off a lone prompt's pass where there is no VNNI, but prompts
    screened two at a time, with two threads each, fight for the cores (``parallel.alone``).

    Which session a batch's call gets depends on whether another item is in progress at that
    instant, so the batch is only checked to use mostly one thread: a CI run on a loaded machine
    had 21 of 74 calls take two, the audit of each verdict lagging behind the screening. The rule
    itself is checked without timing: one other verdict in progress makes a call take one thread."""
    embedder = shared_text_embedder()
    screener.screen_prompt("warm up", audit=False)
    wide = _CountingSession(TextEmbedder(threads=2)._wide)
    narrow = _CountingSession(embedder._narrow_session())
    monkeypatch.setattr(embedder, "_wide", wide)
    monkeypatch.setattr(embedder, "_narrow", narrow)
    for prompt in ("a lighthouse on a cliff at dawn", "a bowl of ramen on a wooden table"):
        screener.screen_prompt(prompt, audit=False)
    assert (wide.calls, narrow.calls) == (2, 0)
    with parallel.working():  # another verdict being made
        screener.screen_prompt("a red kite over a green hill", audit=False)
    assert (wide.calls, narrow.calls) == (2, 1)
    prompts = [json.loads(line)["prompt"] for line in (WORKS_YAML.parent / "prompts_dev.jsonl").open()][::5][:60]
    list(screener.screen_prompts([PromptRequest(prompt=p) for p in prompts]))
    assert narrow.calls - 1 > wide.calls - 2, (wide.calls, narrow.calls)


def test_a_batch_of_prompts_gets_the_verdicts_each_prompt_gets_alone_in_order(screener: Screener) -> None:
    """``screen_prompts`` screens several prompts at a time: each verdict must be the one its prompt
    gets alone, verdicts and audit entries must come in input order, and a request that could not
    be read must get its fail-closed ``review`` in its place."""
    labelled = [json.loads(line) for line in (WORKS_YAML.parent / "prompts_dev.jsonl").open()][::7][:40]
    requests = [PromptRequest(r["prompt"], r.get("negative_prompt"), r["id"]) for r in labelled]
    requests.insert(5, PromptRequest(id="bad", error="line 6: invalid JSON"))
    batch = list(screener.screen_prompts(requests, tenant=None))
    assert [v.id for v in batch] == [r.id for r in requests]
    assert batch[5].action == Action.REVIEW and batch[5].error == "line 6: invalid JSON"
    for request, verdict in zip(requests, batch, strict=True):
        if request.error is None:
            alone = screener.screen_prompt(request.prompt, request.negative_prompt, item_id=request.id, audit=False)
            assert (verdict.action, [(m.work_id, m.signal, m.score) for m in verdict.matches]) == (
                alone.action, [(m.work_id, m.signal, m.score) for m in alone.matches]), request.prompt
    sequence = [screener.audit.get(v.audit_id).seq for v in batch]
    assert sequence == sorted(sequence) and len(set(sequence)) == len(batch)
    assert sum(v.action == Action.BLOCK for v in batch) >= 10  # the sample holds named and described works


def test_a_name_supported_only_by_description_words_is_reviewed_and_the_description_layer_decides(
    screener: Screener,
) -> None:
    """"ash falling like snow" near "fire" and "dragon" is not Ash Ketchum: description words around
    an ambiguous name make it worth a look, not a block; a prompt that describes the work still
    blocks, through the description layer."""
    described = screener.screen_prompt("eleven kids on bicycles outside an arcade in a small 1980s town at night",
                                       audit=False)
    by_signal = {m.signal: m for m in described.matches if m.work_id == "stranger-things"}
    assert 0.5 <= by_signal["text.lexical"].score < 0.8 and "description words" in by_signal["text.lexical"].evidence
    assert described.action == Action.BLOCK and by_signal["text.semantic"].score >= 0.8
    props = screener.screen_prompt("eleven waffles on a plate beside a walkie-talkie in a 1980s kitchen", audit=False)
    assert props.action == Action.REVIEW and {m.signal for m in props.matches} == {"text.lexical"}
    asked = screener.screen_prompt("Eleven fan art", audit=False)  # capitalised and asked for: the name alone
    assert asked.action == Action.BLOCK and asked.matches[0].score >= 0.8


def test_screening_unique_prompts_grows_no_cache(screener: Screener) -> None:
    """A scrub screens millions of unique captions: none of them may stay behind in a cache meant
    for registry descriptions (it grew a 1-worker scrub by ~0.35 MB per 1,000 captions)."""
    screener.screen_prompt("a photo of a lake at dawn", audit=False)  # indexes loaded, caches warm
    before = description_words.cache_info().currsize
    for i in range(200):
        screener.screen_prompt(f"photo {i}: a scenic view of hill number {i * 7919} with soft light", audit=False)
    assert description_words.cache_info().currsize == before



@pytest.fixture(scope="module")
def dev_and_probe_works(tmp_path_factory: pytest.TempPathFactory) -> Screener:
    """The dev registry and the probes' six works in one home: more names, more collisions."""
    screener = Screener(Home.resolve(tmp_path_factory.mktemp("dev-and-probes") / "home"))
    for registry in (WORKS_YAML, PROBES / "works.yaml"):
        screener.registry.import_file(registry)
    return screener


@pytest.mark.parametrize("prompt", ["皮卡丘在森林里玩", "指环王 电影海报, 史诗风格"])
def test_a_chinese_name_of_three_characters_counts_alone(dev_and_probe_works: Screener, prompt: str) -> None:
    """From the eighth blind set: "加菲猫 在厨房 吃千层面" (Garfield eating lasagne) was allowed, since a
    name of three characters or fewer needed another name of its work, as "M" and "Red" do."""
    verdict = dev_and_probe_works.screen_prompt(prompt, audit=False)
    assert verdict.action == Action.BLOCK, verdict.matches


@pytest.mark.parametrize(
    ("prompt", "work", "blocks"),
    [("a space station orbiting a ringed planet", "the-lord-of-the-rings", False),  # one typo from "Ringe"
     ("Der Herr der Ringe poster", "the-lord-of-the-rings", True),
     ("Frodoo with a walking stick", "the-lord-of-the-rings", True),  # a misspelling that is no word
     ("Fredo at a family dinner", "the-lord-of-the-rings", False),  # a name of its own, one typo from "Frodo"
     ("a dark lord costume for my original tabletop game villain with horns", "the-lord-of-the-rings", False),
     ("The Dark Lord costume", "the-lord-of-the-rings", True),  # the character
     ("dark lord cosplay", "the-lord-of-the-rings", True),  # no article, asked for: as "stranger things fan art"
     ("a wizard casting a spell, Dungeons and Dragons style original character", "game-of-thrones", False),
     ("Dragons character art", "game-of-thrones", True)],  # the element "Dragons", capitalised and asked for
)
def test_words_of_their_own_are_not_taken_for_names(dev_and_probe_works: Screener, prompt: str, work: str,
                                                     blocks: bool) -> None:
    """Found when the dev prompts were screened with the probes' works registered too: a benign prompt
    blocked for The Lord of the Rings ("ringed", one typo from a word of its German title), and hard
    negatives for Sauron ("a dark lord": his alias "The Dark Lord" said as a common noun) and for Game
    of Thrones ("Dragons", capitalised, in a request for an "original character": the user's own)."""
    verdict = dev_and_probe_works.screen_prompt(prompt, audit=False)
    named = any(m.work_id == work and m.signal == "text.lexical" for m in verdict.matches)
    assert named is blocks and (verdict.action == Action.BLOCK) is blocks, verdict.matches


def test_names_inside_a_longer_name_are_not_said(screener: Screener) -> None:
    """Spaced-out letters lose their word boundaries, so names are looked for inside the joined run;
    one found only within a longer one is not said ("whistledown" of the element "Whistledown
    pamphlet" inside "Lady Whistledown"; with more works registered, Inside Out's "Anger" inside
    "Stranger Things")."""
    verdict = screener.screen_prompt("L.a.d.y.W.h.i.s.t.l.e.d.o.w.n fan art", audit=False)
    assert verdict.action == Action.BLOCK
    assert {m.element for m in verdict.matches if m.signal == "text.lexical"} == {"Lady Whistledown"}


@pytest.mark.parametrize(
    ("prompt", "blocks"),
    [("a weaver making kente cloth on a wooden loom in Ghana", False),  # "Mente" with another first letter
     ("Intensa Mnte poster", True),  # a typo that keeps the first letter
     ("a cake baked up side down", False),  # words of English broken at another place are those words
     ("the Upsi de Down", True),  # "upsi" is no word: the element in disguise
     ("jurrasic park raptor in the kichen, kids hiding, movie still", True),  # a doubled letter moved
     ("a jurrasic landscape with ferns and a volcano", False)],
)
def test_typos_keep_the_first_letter_and_broken_words_are_not_all_english(tmp_path: Path, prompt: str,
                                                                           blocks: bool) -> None:
    """From the ordinary prompts screened with all 55 works registered: "kente" cloth was blocked as
    a typo of "Mente" (*Intensa-Mente*, Inside Out's Spanish title); no typo in the labelled prompts
    changes a first letter. A name broken by a space ("Stran ger") is a disguise only where a piece
    is no word of English, so "up side down" is not the Upside Down. From the eighth blind set:
    "jurrasic park" was allowed, its first word counted as two typos of a short word (which may make
    another word) though it only doubles the wrong letter."""
    (tmp_path / "works.yaml").write_text(SPLIT_AND_TYPO_YAML)
    screener = Screener(Home.resolve(tmp_path / "home"))
    screener.registry.import_file(tmp_path / "works.yaml")
    verdict = screener.screen_prompt(prompt, audit=False)
    assert (verdict.action == Action.BLOCK) is blocks, verdict.matches


SPLIT_AND_TYPO_YAML = """version: 1
works:
  - {id: inside-out, title: Inside Out, owner: Pixar, policy: block, aliases: [Intensa-Mente]}
  - {id: stranger-things, title: Stranger Things, owner: Netflix, policy: block,
     elements: [{name: The Upside Down, description: A dark mirror of the town full of floating spores}]}
  - {id: jurassic-park, title: Jurassic Park, owner: Universal Pictures, policy: block}
"""


EVERYDAY_NAMES_YAML = """version: 1
works:
  - {id: bluey, title: Bluey, owner: Ludo Studio, policy: block,
     characters: [{name: Chilli Heeler, description: Mother dog with orange-red fur in a cartoon family},
                  {name: Bluey Heeler, description: Blue puppy with tan patches playing make-believe}]}
  - {id: turning-red, title: Turning Red, owner: Pixar, policy: block, aliases: [Red],
     characters: [{name: Mei Lee, description: Teenage girl who turns into a giant red panda when upset}]}
"""


@pytest.mark.parametrize(
    ("prompt", "work", "named"),
    [("a bowl of chilli con carne with sour cream, food photo", "bluey", False),  # a word of the dictionary
     ("Chilli Heeler and Bluey at the beach", "bluey", True),  # the whole name
     ("a teenager's face turning red with embarrassment, comic illustration", "turning-red", False),
     ("Turning Red fan art of Mei Lee", "turning-red", True)],
)
def test_everyday_words_of_names_need_support_from_elsewhere(tmp_path: Path, prompt: str, work: str,
                                                             named: bool) -> None:
    """From a blind probe set of everyday-word titles (``data/probes2``): a dictionary word of a
    character's name ("Chilli" Heeler) is no name on its own, and the commonest words ("Red", an
    alias of Turning Red) are not vouched for by the longer name they are part of ("turning red")."""
    (tmp_path / "works.yaml").write_text(EVERYDAY_NAMES_YAML)
    screener = Screener(Home.resolve(tmp_path / "home"))
    screener.registry.import_file(tmp_path / "works.yaml")
    verdict = screener.screen_prompt(prompt, audit=False)
    assert any(m.work_id == work and m.signal == "text.lexical" for m in verdict.matches) is named, verdict.matches
    if named:
        assert verdict.action == Action.BLOCK


EVERYDAY_PROPS_YAML = """version: 1
works:
  - {id: tangled, title: Tangled, owner: Disney, policy: block,
     characters: [{name: Rapunzel, description: Princess with seventy feet of golden hair and a purple dress}],
     elements: [{name: Frying pan, description: Cast-iron pan swung as a weapon by the princess},
                {name: Floating lanterns, description: Thousands of paper lanterns rising over a kingdom at night}]}
  - {id: brave, title: Brave, owner: Pixar, policy: block,
     characters: [{name: Merida, description: Princess with wild red curls shooting a longbow}],
     elements: [{name: Archery contest, description: Highland games where suitors shoot at targets}]}
  - {id: doctor-who, title: Doctor Who, owner: BBC, policy: block,
     characters: [{name: Weeping Angels, aliases: [Weeping Angel],
                   description: Stone angel statues covering their faces that move when unseen}]}
  - {id: finding-nemo, title: Finding Nemo, owner: Pixar, policy: block,
     characters: [{name: Nemo, aliases: [Nemo the clownfish], description: Small clownfish with a lucky fin}],
     elements: [{name: Anemone home, description: Purple sea anemone at the drop-off of the reef}]}
  - {id: money-heist, title: Money Heist, owner: Netflix, policy: block,
     characters: [{name: Nairobi, description: Heist member in a red jumpsuit and a Dali mask printing money},
                  {name: The Professor, description: Bearded mastermind in glasses and a suit}]}
  - {id: legend-of-zelda, title: The Legend of Zelda, owner: Nintendo, policy: block,
     characters: [{name: Zelda, description: Elven princess in a white and lavender gown}]}
  - {id: one-piece, title: One Piece, owner: Shueisha, policy: block,
     characters: [{name: Nami, description: Orange-haired navigator with a blue staff and a tangerine tattoo}]}
  - {id: split, title: Split, owner: Universal Pictures, policy: block,
     characters: [{name: The Beast, description: Man with many personalities climbing walls}]}
  - {id: john-wick, title: John Wick, owner: Lionsgate, policy: block,
     characters: [{name: Daisy, description: Beagle puppy left as a last gift}]}
  - {id: alien, title: Alien, owner: 20th Century Studios, policy: block, aliases: [Aliens],
     characters: [{name: Xenomorph, description: Black biomechanical creature with an elongated head}]}
  - {id: my-neighbor-totoro, title: My Neighbor Totoro, owner: Studio Ghibli, policy: block,
     characters: [{name: Totoro, aliases: [O-Totoro], description: Huge grey forest spirit with a white belly}]}
  - {id: moana, title: Moana, owner: Disney, policy: block,
     characters: [{name: Maui, aliases: [shapeshifter demigod],
                   description: Huge tattooed demigod with a giant bone fish hook}]}
  - {id: avatar, title: Avatar, owner: 20th Century Studios, policy: block,
     elements: [{name: Pandora, description: Jungle moon with floating mountains and glowing plants}]}
  - {id: stranger-things, title: Stranger Things, owner: Netflix, policy: block,
     characters: [{name: Demogorgon, description: Faceless creature whose head opens like a flower}]}
  - {id: inside-out, title: Inside Out, owner: Pixar, policy: block,
     characters: [{name: Joy, description: Glowing yellow emotion with blue hair},
                  {name: Sadness, description: Short blue emotion with round glasses}]}
  - {id: the-matrix, title: The Matrix, owner: Warner Bros., policy: block,
     characters: [{name: The Oracle, aliases: [Oracle],
                   description: Kindly woman baking cookies in a small kitchen who foretells the future}]}
"""


def screener_of(tmp_path_factory: pytest.TempPathFactory, name: str, registry_yaml: str) -> Screener:
    """A screener on a new home with ``registry_yaml`` imported."""
    root = tmp_path_factory.mktemp(name)
    (root / "works.yaml").write_text(registry_yaml)
    screener = Screener(Home.resolve(root / "home"))
    screener.registry.import_file(root / "works.yaml")
    return screener


@pytest.fixture(scope="module")
def everyday_props(tmp_path_factory: pytest.TempPathFactory) -> Screener:
    return screener_of(tmp_path_factory, "everyday-props", EVERYDAY_PROPS_YAML)


def blocked_by_name(verdict: Verdict, work: str) -> bool:
    """A name of ``work`` alone is enough to block (a lexical score at the block threshold)."""
    return max((m.score for m in verdict.matches if m.work_id == work and m.signal == "text.lexical"),
               default=0.0) >= 0.8


@pytest.mark.parametrize(
    ("prompt", "work", "named"),
    [("a chef flipping an omelette in a frying pan", "tangled", False),  # the thing itself
     ("a magical library with floating lanterns and spiral staircases", "tangled", False),
     ("an archery contest at a medieval fair, photo", "brave", False),  # "archery" does not vouch for itself
     ("weeping angel statue on a grave in a Victorian cemetery", "doctor-who", False),
     ("orange clownfish hiding in a sea anemone, macro photo", "finding-nemo", False),  # two words, no name
     ("Rapunzel swinging her frying pan", "tangled", True),  # another name of the work vouches
     ("the Archery Contest from Brave", "brave", True),
     ("a Weeping Angel cosplay", "doctor-who", True),  # capitalised and asked for
     ("the oracle of Delphi, a priestess in a Greek temple, oil painting", "the-matrix", False),
     ("The Oracle baking cookies in her kitchen, film still", "the-matrix", True)],
)
def test_names_made_of_everyday_words_need_support(everyday_props: Screener, prompt: str, work: str,
                                                   named: bool) -> None:
    """From a third blind probe set (``data/probes3``) and the dev prompts with more works registered:
    a prop, place or character named in dictionary words ("Frying pan", "Weeping Angel") was a
    distinctive name and blocked the everyday thing; a rare word of a name was support for that
    same name ("archery" for "Archery contest"); and the words of an epithet ("Nemo the clownfish")
    and of a prop ("Anemone home") vouched for each other though neither names anything alone.
    From a seventh (``data/probes7``): a name and its alias said in the same words ("the oracle",
    "The Oracle" and "Oracle") vouched for each other as if they were two names."""
    verdict = everyday_props.screen_prompt(prompt, audit=False)
    assert blocked_by_name(verdict, work) is named, verdict.matches
    if named:
        assert verdict.action == Action.BLOCK


@pytest.mark.parametrize(
    ("prompt", "work", "named"),
    [("a dog named Totoro sleeping on a couch", "my-neighbor-totoro", False),
     ("a cat called Nemo on a windowsill, photo", "finding-nemo", False),
     ("Totoro at a bus stop in the rain", "my-neighbor-totoro", True),
     ("a plush of a fish called Nemo", "finding-nemo", True),  # merchandise asked for
     ("a clownfish named Nemo from Finding Nemo", "finding-nemo", True),  # another name, elsewhere
     ("giraffes in Nairobi National Park with the city skyline behind them", "money-heist", False),  # a city
     ("Nairobi from Money Heist counting cash", "money-heist", True),
     ("Nairobi at dusk, 35mm film photo", "money-heist", False),  # film as the medium asks for nothing
     ("Nairobi film still", "money-heist", True),
     ("my daughter Zelda blowing out candles on her cake", "legend-of-zelda", False),
     ("my little sister Zelda blowing out candles on her cake", "legend-of-zelda", False),  # one word between
     ("our family dog Totoro asleep on the couch", "my-neighbor-totoro", False),
     ("my kids watching Totoro at the bus stop", "my-neighbor-totoro", True),  # not whose name it is
     ("portrait of Zelda Fitzgerald in a flapper dress", "legend-of-zelda", False),  # somebody else
     ("autumn ginkgo trees on Nami Island, South Korea", "one-piece", False),  # a place's name
     ("climbers roped together below the summit of nami peak at dawn", "one-piece", False),  # in lower case
     ("Nami Peak at dawn, mountain photo", "one-piece", False),
     ("a totoro beach towel on the sand", "my-neighbor-totoro", True),  # "beach" follows more than places
     ("Nami from One Piece with her staff", "one-piece", True),
     ("black sand beach near Nami, Hawaii, drone shot", "one-piece", False),  # a place and its state
     ("Nami, Luffy and Zoro on the deck of a pirate ship", "one-piece", True),
     ("Zelda in her white gown, fan art", "legend-of-zelda", True),
     ("a tribe of blue aliens riding sea creatures in an alien ocean", "alien", False),  # one word, twice
     ("Totoro the tabby cat asleep on a windowsill", "my-neighbor-totoro", False),  # somebody's pet
     ("Totoro the forest spirit at a bus stop", "my-neighbor-totoro", True),  # what the work describes
     ("Nemo the clownfish hiding in the reef", "finding-nemo", True),
     ("a Mérida travel guide, Yucatán street at dusk", "brave", False),  # the city, and a word of
     (unicodedata.normalize("NFD", "a Mérida travel guide"), "brave", False)],  # "Princess Merida" too
)
def test_a_name_given_to_somebody_is_their_own(everyday_props: Screener, prompt: str, work: str, named: bool) -> None:
    """Both blind probe authors wrote "a girl named Eleanor" / "a woman named Sakura" hard negatives:
    a name after "named" or "called" is somebody's own unless the work is asked for all the same.
    And a word that is a name itself ("Totoro") is no one-letter typo of a longer name ("O-Totoro"),
    which had made it a "disguised" name that needed no support. A name that is a city's is the city
    unless supported likewise (GeoNames, ``clearance.text.gazetteer``). From a fourth blind set
    (``data/probes4``): "my daughter Moana", "Zelda Fitzgerald", "Nami Island", "Maui, Hawaii", "a
    candid film photo" (no request for a film), and "aliens" vouching for "Alien" as if it were
    another name of the work. From the second (``data/probes2``): "coco the poodle", a name
    followed by what its bearer is, which the work does not describe. A city's name is the city
    also as a word of a longer name ("Princess Merida"), as it is alone ("Merida"). From a twentieth
    (``data/probes20``): "my great-aunt edna" is as much somebody's own as "my aunt edna", so one
    word may stand between the possessive and the kin word ("my little sister", "our family dog").
    From a nineteenth (``data/probes19``): "mera peak" and "miyagi prefecture" are places in lower
    case too, as few nouns but those of places follow a place's name only."""
    verdict = everyday_props.screen_prompt(prompt, audit=False)
    assert blocked_by_name(verdict, work) is named, verdict.matches
    assert (verdict.action == Action.BLOCK) is named, verdict.matches


def assert_namesake_verdict(verdict: Verdict, work: str, action: Action) -> None:
    """``action`` for ``work``: a review says it is for a namesake, an allow has no name of the work."""
    assert verdict.action == action, verdict.matches
    if action == Action.REVIEW:
        assert any(m.work_id == work and "namesake" in m.evidence for m in verdict.matches), verdict.matches
    if action == Action.ALLOW:
        assert not any(m.work_id == work and m.signal == "text.lexical" for m in verdict.matches), verdict.matches


@pytest.mark.parametrize(
    ("prompt", "work", "action"),
    [("Nemo at the helm of the Nautilus, Jules Verne engraving", "finding-nemo", Action.REVIEW),
     ("Captain Nemo at the helm of the Nautilus, Jules Verne engraving", "finding-nemo", Action.ALLOW),
     ("Pandora opening the jar, ancient Greek vase painting", "avatar", Action.REVIEW),
     ("the Demogorgon, cinematic still", "stranger-things", Action.REVIEW),
     ("the Demogorgon from Stranger Things", "stranger-things", Action.BLOCK),  # the work named too
     ("Maui with his giant fish hook, fan art", "moana", Action.BLOCK),  # capitalised and asked for
     (unicodedata.normalize("NFD", "Māui at sunset"), "moana", Action.REVIEW),  # an accent typed apart
     ("a girl named Pandora reading in a cafe", "avatar", Action.ALLOW),  # somebody's own name
     ("a shapeshifter prowling a misty forest at night", "moana", Action.ALLOW)],  # a word of an epithet
)
def test_a_public_domain_figures_name_is_reviewed_when_alone(everyday_props: Screener, prompt: str, work: str,
                                                               action: Action) -> None:
    """From the blind probe sets: Jules Verne's Captain Nemo, Pandora of the Greek myth, the Celtic
    goddess Epona and Grimm's Rapunzel blocked as the characters studios named after them. A name a
    public-domain figure has too (``data/namesakes.txt``) needs support like an everyday word; said
    alone it may still mean the work, so it goes to a person instead of being allowed. And a word of
    an alias the registry wrote in lower case ("shapeshifter demigod") is a description, no name. An
    accent typed as a letter and a combining mark (NFD, "Ma\u0304ui") is no disguise: it was one, and
    the disguise alone blocked."""
    verdict = everyday_props.screen_prompt(prompt, audit=False)
    assert_namesake_verdict(verdict, work, action)


@pytest.mark.parametrize(
    ("prompt", "named"),
    [("joy and sadness in an abstract painting, swirling yellow and blue", False),  # two feelings
     ("joy and sadness from inside out hugging", True),  # the title vouches for them, they for it
     ("Joy and Sadness hugging at headquarters", True),  # capitalised: two names
     ("joy and sadness hugging, fan art", True),  # asked for as a work's material
     ("joy and sadness, 3d game render", True),
     ("joy and sadness at a board game night", False)],  # "game" alone asks for nothing
)
def test_two_everyday_words_do_not_vouch_for_each_other(everyday_props: Screener, prompt: str, named: bool) -> None:
    """From the blind probes2 set: two character names that are everyday words, typed as such
    ("joy and sadness"), counted as two names of *Inside Out* supporting each other. From probes7:
    when the prompt asks for a work's own material ("fan art", "game render"), they do: "tails and
    knuckles standing on angel island, 3d game render" is *Sonic*."""
    verdict = everyday_props.screen_prompt(prompt, audit=False)
    assert blocked_by_name(verdict, "inside-out") is named, verdict.matches


@pytest.mark.parametrize(
    ("prompt", "work", "named"),
    [("a photorealistic video of Sadness walking through a city at night", "inside-out", True),
     ("generate Sadness sitting in a coffee shop, film grain", "inside-out", True),
     ("oil painting of Tangled", "tangled", True),
     ("Sadness sitting in a coffee shop, film grain", "inside-out", False),  # the first word of the prompt
     ("a rainy window. Sadness in every drop, moody photo", "inside-out", False),  # of a sentence
     ("a misty harbour at dawn, Tangled ropes on the quay", "tangled", False),  # of an item of a list of tags
     ("a portrait of a Brave knight in armour", "brave", False),  # after "a": a common noun all the same
     ("a neon sign of the Alien Tattoo Parlour at night", "alien", False),  # a word of a longer name
     ("a night market with Lanterns everywhere", "tangled", False),  # a word of "Floating lanterns"
     ("A Photo Of Sadness In The Rain At Night", "inside-out", False),  # every word capitalised
     ("a photo of Daisy walking through the old town", "john-wick", False),  # somebody's name as well
     ("a sunset over Split from the harbour", "split", False)],  # a city's name as well
)
def test_an_everyday_word_capitalised_inside_a_sentence_is_a_name(everyday_props: Screener, prompt: str, work: str,
                                                                 named: bool) -> None:
    """Every name of the fourteen typical blind registries' works, asked for in each of the dev
    prompts' direct phrasings (``benchmarks/bench_direct_requests.py``), showed a name that is also
    an everyday word ("Toothless", "Sonic", "Scar") allowed in "oil painting of Toothless" and
    blocked in "Toothless wallpaper, 8k" (a request for the work's material): capitalised inside a
    sentence, English writes such a word so only as a name. Not at the start of a sentence or of
    an item of a list of tags, nor after "a", nor as a word of a longer capitalised name, nor where
    every word is capitalised; and a name that is also a person's or a place's stays ambiguous, as
    does a word of a longer registered name."""
    verdict = everyday_props.screen_prompt(prompt, audit=False)
    assert blocked_by_name(verdict, work) is named, verdict.matches
    assert (verdict.action == Action.BLOCK) is named, verdict.matches


@pytest.mark.parametrize(
    ("prompt", "named"),
    [("merida from brave shooting arrows at a fair", True),  # where she comes from
     ("merida from brave", True),
     ("a brave girl visiting merida in yucatan", False),  # the same two words, a city and a word
     ("fresh courage from brave volunteers in merida", False)],  # "from", but no title: a word
)
def test_a_title_said_after_from_is_the_title(everyday_props: Screener, prompt: str, named: bool) -> None:
    """A one-word title that is an everyday word, typed in lower case after "from", says where the
    other names come from ("doc from cars", "merida from brave"), as a title of several words does
    ("joy and sadness from inside out"); both were allowed, since two everyday words typed as such
    vouch for nothing. Here the title vouches for the name and the name for the title, only when the
    title follows "from" and another name of the work is said."""
    verdict = everyday_props.screen_prompt(prompt, audit=False)
    assert blocked_by_name(verdict, "brave") is named, verdict.matches


@pytest.mark.parametrize(
    ("prompt", "work", "named"),
    [("a lone figure walking through Nairobi at dusk", "money-heist", False),  # somebody, not a toy
     ("figure skating at the winter games in Merida", "brave", False),
     ("Merida figure on a shelf", "brave", True),  # right after the name: the toy
     ("a Merida action figure in its box", "brave", True)],
)
def test_a_figure_is_a_toy_only_when_it_is_one(everyday_props: Screener, prompt: str, work: str, named: bool) -> None:
    """"figure" counted as a request for merchandise wherever it stood, so a capitalised name that
    needs support (a city's, a namesake's) blocked in "a lone figure walking through Nairobi" and in
    the probes4 hard negative "Pandora opening the jar, ancient Greek red-figure vase painting"."""
    verdict = everyday_props.screen_prompt(prompt, audit=False)
    assert (verdict.action == Action.BLOCK) is named, verdict.matches


@pytest.mark.parametrize("name", ["Māui", "Pandora", "Captain Nemo", "Cú Chulainn", "Baba Yaga", "Rapunzel",
                                  "Michelangelo", "Thomas Hobbes", "USS Enterprise", "Dvořák", "Blue Heeler",
                                  "Kylian Mbappé", "Paddington Station", "7-Eleven", "Rémy Martin", "Ferris wheel",
                                  "Notting Hill", "Riverdale"])
def test_namesakes_are_stored_as_registry_names_are(name: str) -> None:
    """The lists are written as people spell the figures and things; they are read through the same
    normalisation as registry names, so "Māui" in the list is the "maui" a registered "Maui" becomes."""
    assert is_namesake(normalise(name))
    assert not is_namesake(normalise("Eleven"))


def test_namesakes_are_normalised_once_per_machine(tmp_path: Path) -> None:
    """Normalising the lists (~26,000 names) took half a cold start; a process now reads
    them normalised from the model cache, where the first one left them, and answers the same."""
    cache = tmp_path / "cache"
    ask = "from clearance.text.namesakes import is_namesake; print(is_namesake('shaun white'), is_namesake('eleven'))"
    env = {**os.environ, "CLEARANCE_MODEL_CACHE": str(cache)}
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", ask], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.split() == ["True", "False"], out.stderr
    [cached] = cache.glob("namesakes-*.txt")
    names = cached.read_text(encoding="utf-8").splitlines()
    assert len(names) > 25_000 and "shaun white" in names and "remy martin" in names and "riverdale" in names


REAL_NAMESAKES_YAML = """version: 1
works:
  - {id: tmnt, title: Teenage Mutant Ninja Turtles, owner: Paramount, policy: block, aliases: [Ninja Turtles],
     characters: [{name: Michelangelo, aliases: [Mikey], description: Turtle in an orange mask with nunchucks}]}
  - {id: street-fighter, title: Street Fighter, owner: Capcom, policy: block,
     characters: [{name: Vega, description: Masked Spanish fighter with a claw climbing a cage}]}
  - {id: calvin-and-hobbes, title: Calvin and Hobbes, owner: Andrews McMeel, policy: block,
     characters: [{name: Hobbes, description: Stuffed tiger who comes alive when only the boy is looking}]}
  - {id: star-trek, title: Star Trek, owner: Paramount, policy: block,
     elements: [{name: USS Enterprise, description: Starship with a saucer section and two warp nacelles}]}
  - {id: one-piece, title: One Piece, owner: Shueisha, policy: block,
     characters: [{name: Nami, description: Orange-haired navigator with a blue staff and a tangerine tattoo}]}
  - {id: split, title: Split, owner: Universal Pictures, policy: block,
     characters: [{name: The Beast, description: Man with many personalities climbing walls}]}
  - {id: john-wick, title: John Wick, owner: Lionsgate, policy: block,
     characters: [{name: Daisy, description: Beagle puppy left as a last gift}]}
  - {id: turning-red, title: Turning Red, owner: Disney, policy: block, aliases: [Red]}
  - {id: looney-tunes, title: Looney Tunes, owner: Warner Bros., policy: block,
     characters: [{name: Sylvester, description: Black-and-white tuxedo cat with a lisp chasing a canary}]}
  - {id: ratatouille, title: Ratatouille, owner: Disney, policy: block,
     characters: [{name: Remy, description: Blue-grey rat chef who steers a cook by pulling his hair}]}
  - {id: archie, title: Archie, owner: Archie Comics, policy: block, aliases: [Riverdale]}
  - {id: hellboy, title: Hellboy, owner: Dark Horse, policy: block,
     characters: [{name: Grigori Rasputin, aliases: [Rasputin], description: Bearded sorcerer in dark robes}]}
  - {id: aquaman, title: Aquaman, owner: DC, policy: block,
     characters: [{name: Mera, description: Red-haired Atlantean queen in green scale armour raising water}]}
"""


@pytest.fixture(scope="module")
def real_namesakes(tmp_path_factory: pytest.TempPathFactory) -> Screener:
    return screener_of(tmp_path_factory, "real-namesakes", REAL_NAMESAKES_YAML)


@pytest.mark.parametrize(
    ("prompt", "work", "action"),
    [("Michelangelo's statue of David in the Accademia gallery in Florence, museum photo", "tmnt", Action.REVIEW),
     ("Michelangelo from the Ninja Turtles eating pizza in the sewer", "tmnt", Action.BLOCK),
     ("vega and altair above a mountain lake, summer milky way, astrophotography", "street-fighter", Action.REVIEW),
     ("Vega from Street Fighter climbing the cage, arcade art", "street-fighter", Action.BLOCK),
     ("portrait of the philosopher hobbes, 17th century oil painting style", "calvin-and-hobbes", Action.REVIEW),
     ("portrait of the philosopher thomas hobbes, 17th century oil painting style", "calvin-and-hobbes",
      Action.ALLOW),  # the longer name of the namesake is said
     ("Calvin and Hobbes sledding down a snowy hill", "calvin-and-hobbes", Action.BLOCK),
     ("aircraft carrier uss enterprise cvn-65 at sea, navy photograph, 1990s", "star-trek", Action.REVIEW),
     ("the USS Enterprise from Star Trek at warp", "star-trek", Action.BLOCK),
     ("sand dunes of the Namib desert at sunrise, orange ridges and long shadows", "one-piece", Action.ALLOW),
     ("Nami from One Piece holding her staff", "one-piece", Action.BLOCK)],
)
def test_a_real_namesakes_name_is_reviewed_when_alone(real_namesakes: Screener, prompt: str, work: str,
                                                      action: Action) -> None:
    """From the blind probe sets: the painter Michelangelo, the star Vega, the philosopher Hobbes, the
    aircraft carrier USS Enterprise blocked as the characters and ship studios named after them, and
    the Namib desert as a typo of *One Piece*'s Nami. A name of a real person or thing of history or
    the world (``data/real_namesakes.txt``) needs support, as a myth's figure's does; said alone it is
    reviewed. A word typed that is itself such a name (or a place's) is no typo of another name."""
    verdict = real_namesakes.screen_prompt(prompt, audit=False)
    assert_namesake_verdict(verdict, work, action)


@pytest.mark.parametrize(
    ("prompt", "work", "action"),
    [("michelangelo buonarroti carving a block of marble, renaissance workshop", "tmnt", Action.ALLOW),
     ("michelangelo buonarroti meets the ninja turtles in the sewer", "tmnt", Action.BLOCK),  # the work too
     ("the Red Baron's triplane in a dogfight, newspaper comic strip", "turning-red", Action.ALLOW),
     ("a sepia portrait of the real grigori rasputin, 1910 photograph", "hellboy", Action.REVIEW),
     ("hellboy fighting grigori rasputin in a crypt", "hellboy", Action.BLOCK),
     ("sylvester stallone smiling on a red carpet, press photo", "looney-tunes", Action.ALLOW),  # a living actor
     ("sylvester the cat from looney tunes chasing a canary", "looney-tunes", Action.BLOCK),
     ("a bottle of remy martin xo cognac on a dark bar, product photo", "ratatouille", Action.ALLOW),  # a brand
     ("remy from ratatouille stirring a pot of soup", "ratatouille", Action.BLOCK),
     ("the riverdale neighborhood of the bronx in autumn, street photo", "archie", Action.REVIEW),  # a district
     ("climbers roped together below the summit of mera peak in nepal, mountain photo", "aquaman", Action.ALLOW),
     ("mera from aquaman raising a wall of water", "aquaman", Action.BLOCK)],
)
def test_a_name_inside_a_longer_listed_name_is_that_name(real_namesakes: Screener, prompt: str, work: str,
                                                         action: Action) -> None:
    """A registered name said as a word of a longer name on the namesake lists is that name's:
    "michelangelo buonarroti" is the sculptor, not the turtle, even in lower case where no capital
    marks a surname. Like any name given to somebody else, it counts only when the work is named
    too. And such a name ("Red" of "the Red Baron") is never easier to count than it would be
    alone: a request for a work's material ("comic strip") had made the commonest words, which
    need another name of the work, count as somebody's name asked for as the work. From a
    thirteenth blind set: the words of one real name do not vouch for each other, so a registered
    "Grigori Rasputin" (alias "Rasputin") said alone is the monk's name, reviewed as a namesake's;
    and "sylvester stallone" is the actor (``data/modern_namesakes.txt``: living people, brands,
    teams, events and city places), and "remy martin" the cognac (``data/things_namesakes.txt``:
    brands and products, things named after people, dishes of other languages); and "riverdale"
    is a district of the Bronx as much as *Archie*'s town (``data/district_namesakes.txt``), so said
    alone it is reviewed. From a nineteenth: "mera peak" is a mountain in Nepal
    (``data/geography_namesakes.txt``: regions and natural features), not *Aquaman*'s Mera."""
    verdict = real_namesakes.screen_prompt(prompt, audit=False)
    assert_namesake_verdict(verdict, work, action)


LOANWORD_NAMES_YAML = """version: 1
works:
  - {id: ratatouille, title: Ratatouille, owner: Disney, policy: block,
     characters: [{name: Alfredo Linguini, aliases: [Linguini], description: Lanky young cook in a white toque},
                  {name: Remy, description: Blue-grey rat chef who steers a cook by pulling his hair}]}
  - {id: encanto, title: Encanto, owner: Disney, policy: block,
     characters: [{name: Abuela Alma, aliases: [Abuela], description: Silver-haired grandmother holding a candle}],
     elements: [{name: Casita, description: A magical house whose tiles flip and whose doors glow}]}
  - {id: succession, title: Succession, owner: HBO, policy: block,
     characters: [{name: Siobhan Roy, aliases: [Shiv], description: Red-haired heiress in a sharp trouser suit}]}
  - {id: x-men, title: X-Men, owner: Marvel, policy: block,
     characters: [{name: Nightcrawler, description: Blue-furred acrobat with a tail who teleports in smoke}]}
"""


@pytest.fixture(scope="module")
def loanword_names(tmp_path_factory: pytest.TempPathFactory) -> Screener:
    return screener_of(tmp_path_factory, "loanword-names", LOANWORD_NAMES_YAML)


@pytest.mark.parametrize(
    ("prompt", "work", "named"),
    [("a plate of linguini with clams, garlic and parsley on a trattoria table, food photo", "ratatouille", False),
     ("linguini cooking with remy in the kitchen, pixar ratatouille still", "ratatouille", True),
     ("an abuela rolling arepas in her kitchen, documentary photo", "encanto", False),
     ("a tiny adobe casita guest cottage in a backyard, architecture photo", "encanto", False),
     ("abuela alma lighting the candle in the casita, encanto still", "encanto", True),
     ("a prison shiv made from a toothbrush in an evidence bag", "succession", False),
     ("Shiv Roy from Succession in a boardroom, hbo still", "succession", True),
     ("a tin of nightcrawlers for fishing bait on a wooden dock", "x-men", False),
     ("Nightcrawler from the X-Men teleporting in a puff of smoke", "x-men", True)],
)
def test_everyday_words_the_dictionary_lacks_need_support(loanword_names: Screener, prompt: str, work: str,
                                                          named: bool) -> None:
    """Blind sets' false blocks (probes4, probes5, probes14, probes16): names that are everyday words
    of English the medium SCOWL list lacks (a prison "shiv", fishing "nightcrawlers", "linguini",
    "abuela", "casita") blocked as the characters and places named after them. They are ordinary
    words now (``data/everyday_words.txt``, a supplement written blind), so such a name needs
    support, and another name of the work still gives it."""
    verdict = loanword_names.screen_prompt(prompt, audit=False)
    assert (verdict.action == Action.BLOCK) is named, verdict.matches
    assert (work in {m.work_id for m in verdict.matches}) is named or verdict.action == Action.REVIEW, verdict.matches


NUMBERED_TITLE_YAML = """version: 1
works:
  - {id: half-life, title: Half-Life, owner: Valve, policy: block, aliases: [Half-Life 2],
     characters: [{name: Gordon Freeman, description: Bespectacled physicist in an orange hazard suit with a crowbar}]}
"""


@pytest.mark.parametrize(
    ("prompt", "blocked"),
    [("a chalkboard graph of radioactive decay showing the half-life of carbon-14, classroom photo", False),
     ("Half-Life 2 with Gordon Freeman holding a crowbar", True),
     ("halflife 2 game screenshot", True)],
)
def test_a_number_dropped_is_no_typo(tmp_path_factory: pytest.TempPathFactory, prompt: str, blocked: bool) -> None:
    """From a twentieth blind set (``data/probes20``): "the half-life of carbon-14" was read as a typo
    of the alias "Half-Life 2" (one edit: the "2" dropped), a misspelling that then vouched for the
    title said in the same words. A digit added, dropped or changed is another number, not a typo."""
    screener = screener_of(tmp_path_factory, "numbered-title", NUMBERED_TITLE_YAML)
    verdict = screener.screen_prompt(prompt, audit=False)
    assert (verdict.action == Action.BLOCK) is blocked, verdict.matches


PART_NAME_YAML = """version: 1
works:
  - {id: my-hero-academia, title: My Hero Academia, owner: Shueisha, policy: block,
     characters: [{name: Shota Aizawa, description: A tired hero with long black hair and a capture scarf}]}
"""


@pytest.mark.parametrize(
    ("prompt", "blocked"),
    [("hedorah the smog monster crawling out of a polluted harbour while gigan slashes a tower with his buzzsaw "
      "belly, showa kaiju film still", False),
     ("showa character art", False),
     ("shotta character art", True),
     ("aizwa character art, capture scarf", True)],
)
def test_a_word_of_its_own_is_no_typo_of_a_part_of_a_name(tmp_path_factory: pytest.TempPathFactory, prompt: str,
                                                           blocked: bool) -> None:
    """From a twenty-first blind set (``data/probes21``): "showa" (Japan's Showa era, of *Godzilla*'s
    first films) was read as a typo of "Shota", the first name of *My Hero Academia*'s Shota Aizawa,
    and blocked a Godzilla prompt as that work. A word of a longer name said alone with a typo needs
    the said word to be no word of its own; misspellings that are no word still match."""
    verdict = screened_in(tmp_path_factory, "part-name", PART_NAME_YAML, prompt)
    assert (verdict.action == Action.BLOCK) is blocked, verdict.matches


def screened_in(tmp_path_factory: pytest.TempPathFactory, label: str, registry_yaml: str, prompt: str) -> Verdict:
    """``prompt``'s verdict in a home holding only ``registry_yaml`` (one home per ``label``)."""
    return screener_of(tmp_path_factory, label, registry_yaml).screen_prompt(prompt, audit=False)


AROUND_YAML = """version: 1
works:
  - {id: aquaman, title: Aquaman, owner: DC, policy: block,
     characters: [{name: Black Manta, description: A villain in a black diving suit}],
     elements: [{name: Manta Helmet, description: An oversized black helmet with huge round red eyes}]}
  - {id: shrek, title: Shrek, owner: DreamWorks, policy: block,
     characters: [{name: Princess Fiona, aliases: [Fiona], description: A princess who turns into an ogre}]}
"""


@pytest.mark.parametrize(
    ("prompt", "blocked"),
    [("a rare all-black manta ray gliding over a coral reef", False),  # "Black Manta" holds the word "manta"
     ("Black Manta with his red eyes, comic art", True),
     ("a diver's photo of a manta ray", False),
     ("princess fiona wedding photo, soft light", True)],  # "Fiona" inside "Princess Fiona" vouches for it
)
def test_a_name_around_another_vouches_for_it_only_from_inside(tmp_path_factory: pytest.TempPathFactory,
                                                               prompt: str, blocked: bool) -> None:
    """From a nineteenth blind set (``data/probes19``): "a rare all-black manta ray" blocked as
    *Aquaman*: "manta", the rare word of the prop "Manta Helmet", took as support the character
    "Black Manta" said in the same words, though that name, two everyday words, was itself
    unsupported. A name said around a hit no longer vouches for it; one said inside it still does."""
    verdict = screened_in(tmp_path_factory, "around", AROUND_YAML, prompt)
    assert (verdict.action == Action.BLOCK) is blocked, verdict.matches


TRANSLATED_YAML = """version: 1
works:
  - {id: frozen, title: Frozen, owner: Disney, policy: block,
     aliases: ["Frozen: el reino del hielo", "Up – Altas Aventuras", "Alien, el octavo pasajero"]}
"""


@pytest.mark.parametrize("prompt", ["Frozen: el re ino del hielo at the beach",
                                    "Up – Altas Av enturas at the beach", "Alien, el octa vo pasajero at the beach"])
def test_a_translated_title_broken_inside_a_word_is_joined_across_its_punctuation(
        tmp_path_factory: pytest.TempPathFactory, prompt: str) -> None:
    """The property test drew "Frozen: el re ino del hielo": a translated title's everyday words give
    no part of their own since version 41, so the title counts only as a whole, and the words broken
    by a space were joined only across spaces and a little punctuation, not the title's colon, comma
    or dash."""
    assert screened_in(tmp_path_factory, "translated", TRANSLATED_YAML, prompt).action == Action.BLOCK


def test_a_verdict_lists_the_matches_that_decide_it_and_counts_the_rest(tmp_path_factory: pytest.TempPathFactory,
                                                                        tmp_path: Path) -> None:
    """300 works sharing a word ("Zyzzogeton: Episode N", each episode registered) gave one prompt 300
    matches and a 7,388-character negative prompt (9.6 MB and 669 kB at 20,000 works), returned and
    written to the audit log. A verdict lists the ``MAX_MATCHES`` that decide it, strictest first:
    a licensed work's match, though as strong, comes after the ones that block."""
    works = "".join(f"  - {{id: episode-{n}, title: \"Zyzzogeton: Episode {n}\", owner: Acme, policy: block}}\n"
                    for n in range(1, 301))
    screener = screener_of(tmp_path_factory, "episodes", "version: 1\nworks:\n" + works)
    screener.registry.grant_licence("globex", "episode-1")
    verdict = screener.screen_prompt("a Zyzzogeton statue", tenant="globex")
    assert verdict.action == Action.BLOCK
    assert len(verdict.matches) == MAX_MATCHES and verdict.matches_omitted == 300 - MAX_MATCHES
    assert "episode-1" not in {m.work_id for m in verdict.matches}  # licensed: allowed, so it decides nothing
    assert len(verdict.negative_prompt) < 1_000
    logged = screener.audit.record(verdict.audit_id)
    assert len(logged["matches"]) == MAX_MATCHES and logged["matches_omitted"] == 300 - MAX_MATCHES
    assert len(screener.audit.get(verdict.audit_id).work_ids) == 300  # each matched work's owner may read it
    assert "matches_omitted" not in screener.screen_prompt("a cat").public()


@pytest.mark.parametrize(
    ("prompt", "blocked"),
    [("cosas bonitas sobre la mesa, foto", None),  # "Cosas extrañas", Stranger Things in Spanish
     ("luces extrañas en el cielo nocturno", None),
     ("une école de village sous la neige", None),  # "La Reine des neiges", Frozen in French
     ("une éponge de mer sur la plage", None),  # "Bob l'éponge", SpongeBob in French
     ("un calamar gigante en el océano", None),  # "El juego del calamar": Zipf 3.1 in Spanish
     ("un mapa de las galaxias", None),  # "La guerra de las galaxias", Star Wars in Spain
     ("Cosas extrañas: Eleven en el laboratorio", "stranger-things"),
     ("la reine des neiges, elsa construit un palais de glace", "frozen"),
     ("bob l'éponge dans son ananas sous la mer", "spongebob-squarepants")],
)
def test_an_everyday_word_of_a_translated_title_is_no_name_alone(screener: Screener, prompt: str,
                                                                  blocked: str | None) -> None:
    """A black-box pass (2026-12-07): one everyday word of a title translated into another language
    blocked a prompt in that language on its own, rarity being judged in English. Such a word is no
    name of the work (``text.languages``); the translated title itself still is."""
    verdict = screener.screen_prompt(prompt, audit=False)
    if blocked is None:
        assert verdict.action == Action.ALLOW, verdict.matches
    else:
        assert verdict.action == Action.BLOCK and verdict.matches[0].work_id == blocked, verdict.matches


def test_the_everyday_supplement_adds_ordinary_words_only() -> None:
    """The supplement's words are ordinary words (lower case, letters only), none already in SCOWL."""
    from clearance.text import dictionary, package_data
    lines = package_data.read_bytes(dictionary.EVERYDAY).decode("utf-8").splitlines()
    words = [line for line in lines if line and not line.startswith("#")]
    assert len(words) > 12_000 and len(set(words)) == len(words)
    assert all(re.fullmatch(r"[a-z]{3,}", w) for w in words)
    assert all(dictionary.is_ordinary_word(w) for w in ("gelato", "churros", "rebar", "axolotl", "linguini"))
    start = next(i for i, line in enumerate(lines) if line.startswith("# second list"))  # data/everyday_words.md
    second = [line for line in lines[start:] if line and not line.startswith("#")]
    assert len(second) > 3_000
    assert all(dictionary.is_ordinary_word(w) for w in ("snowglobe", "mocktail", "sunlounger", "colour", "merlot"))
    assert not dictionary.is_ordinary_word("minecraft")


@pytest.mark.parametrize("place", ["Wrocław", "Łódź", "Adapazarı", "Diyarbakır", "Nairobi", "Mérida"])
def test_place_names_are_stored_as_prompt_words_are(place: str) -> None:
    """The gazetteer holds names normalised as prompt words are: until 2026-12-03 it folded them to
    ASCII its own way, which dropped ł and ı ("wrocaw", "adapazar"), so such a city was no place."""
    assert is_place(normalise(place))
