"""Registry fingerprints and persisted signal indexes: found without reading the works, never used
for another registry state, rebuilt when damaged."""

from __future__ import annotations

import gc
import gzip
import json
import shutil
import time
import weakref
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from clearance.content import Content
from clearance.db.engine import _alembic_config, open_engine, session_factory
from clearance.home import Home
from clearance.index import persist
from clearance.registry.media_store import MediaStore
from clearance.registry.store import Registry, RegistrySnapshot
from clearance.screening import FRESHNESS_S, Screener
from clearance.signals import text_semantic
from clearance.signals.base import SignalType
from clearance.signals.text_lexical import TextLexical
from clearance.signals.text_semantic import TextSemantic
from clearance.text import dictionary, package_data
from clearance.text.embedder import shared_text_embedder
from clearance.verdict import Action
from tests.conftest import DATA, PROBES, WORKS_YAML

PROMPTS = ["Eleven from Stranger Things riding a bike", "S q u i d  G 4 m e poster", "a Wensday Adams cosplay",
           "a cat on a sofa", "Hermione Granger reading in the Hogwarts library",
           "a girl with a buzzed head in a pink dress and knee socks, one nostril bleeding, raising her hand to stop a "
           "van in mid-air, 1983 Indiana",
           "a giant doll with a black bob and an orange pinafore turning its head in a playground"]


def registry_for(home: Home) -> Registry:
    return Registry(session_factory(home.database_url), MediaStore(home.media_dir))


def edited_registry(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "works.yaml"
    text = WORKS_YAML.read_text(encoding="utf-8").replace(old, new, 1)
    path.write_text(text.replace("../", str(WORKS_YAML.parent.parent) + "/"), encoding="utf-8")
    return path


def verdicts(signal: TextLexical | TextSemantic) -> list[list[tuple]]:
    return [sorted((m.owner, m.work_id, m.element or "", m.score, m.evidence) for m in signal.match(Content("text", p)))
            for p in PROMPTS]


def works_matched(signal: TextLexical | TextSemantic) -> set[str]:
    return {work for found in verdicts(signal) for _, work, *_ in found}


class Counting(TextLexical):
    """``text.lexical`` that counts its rebuilds."""

    builds = 0

    def index(self, snapshot: RegistrySnapshot) -> None:
        type(self).builds += 1
        super().index(snapshot)


@pytest.fixture
def registry(db_home: Home) -> Registry:
    registry = registry_for(db_home)
    registry.import_file(WORKS_YAML)
    return registry


def test_light_snapshot_has_the_key_of_the_works_it_stands_for(registry: Registry, tmp_path: Path) -> None:
    light = registry.snapshot()
    assert light._works is None, "the fingerprint and policies must come without reading the works"
    assert light.policies["Netflix", "stranger-things"] == "block"
    assert light.fingerprint == light.works_fingerprint == RegistrySnapshot(0, light.works).fingerprint
    assert light.policies == {w.key: w.policy for w in light.works}

    registry.import_file(edited_registry(tmp_path, "policy: block", "policy: review"))
    changed = registry.snapshot()
    assert changed.fingerprint != light.fingerprint and changed.policies["Netflix", "stranger-things"] == "review"
    registry.import_file(WORKS_YAML)
    back = registry.snapshot()
    assert back.revision > changed.revision and back.fingerprint == light.fingerprint, "content-addressed"


def test_a_first_verdict_from_persisted_indexes_reads_no_works(registry: Registry, db_home: Home) -> None:
    """A new process whose indexes are persisted needs the policies only for a verdict without matches:
    reading the works (10,000: 0.65 s of a 2.0 s cold start on a 2-core EPYC) was done anyway, to warn
    of an empty registry. A match reads them, since its negative prompt holds the work's names, so a
    server's process reads them as it warms up, not on its first blocking request."""
    Screener(db_home).warm_up()
    screener = Screener(db_home)
    assert screener.screen_prompt("a cat asleep on a sofa", audit=False).action == Action.ALLOW
    assert screener.refresh().snapshot._works is None
    screener.warm_up()
    assert screener.refresh().snapshot._works is not None


@pytest.mark.parametrize(
    ("signal_type", "works", "an_array"),
    [(TextLexical, {"stranger-things", "squid-game", "wednesday", "harry-potter"}, lambda s: s.entries.work),
     (TextSemantic, {"stranger-things", "squid-game"}, lambda s: s.full_vecs)],
    ids=["lexical", "semantic"],
)
def test_persisted_index_is_mapped_not_rebuilt_and_answers_the_same(
    home: Home, signal_type: type[SignalType], works: set[str], an_array: Callable[[SignalType], np.ndarray]
) -> None:
    registry = registry_for(home)
    registry.import_file(WORKS_YAML)
    built = signal_type(home.index_dir / signal_type.name)
    built.ensure_indexed(registry.snapshot())
    loaded = signal_type(home.index_dir / signal_type.name)
    assert loaded._load_index(registry.snapshot().fingerprint), "loaded from its file, not rebuilt"
    assert verdicts(loaded) == verdicts(built)
    assert works <= works_matched(built)
    assert not an_array(loaded).flags.writeable, "arrays are views of the mapped file"


@pytest.mark.parametrize("damage", ["truncate", "flip pickle byte", "other state", "garbage"])
def test_damaged_or_foreign_index_file_is_rebuilt(home: Home, damage: str) -> None:
    registry = registry_for(home)
    registry.import_file(WORKS_YAML)
    snapshot = registry.snapshot()
    reference = TextLexical(home.index_dir / "text.lexical")
    reference.ensure_indexed(snapshot)
    path = reference._index_path(snapshot.fingerprint)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip pickle byte":
        path.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    elif damage == "other state":  # a valid file for another registry state, under this state's name
        persist.save(path, reference._state(), reference._index_key("0" * 64))
    else:
        path.write_bytes(b"not an index at all")
    Counting.builds = 0
    signal = Counting(home.index_dir / "text.lexical")
    signal.ensure_indexed(snapshot)
    assert Counting.builds == 1
    assert verdicts(signal) == verdicts(reference)
    assert persist.load(path, signal._index_key(snapshot.fingerprint)), "the rebuilt index replaced the bad file"


def test_saving_an_index_drops_those_of_other_states_and_versions(home: Home) -> None:
    """A version bump of a signal used to leave its older index files in the home for good."""
    registry = registry_for(home)
    registry.import_file(WORKS_YAML)
    folder = home.index_dir / "text.lexical"
    folder.mkdir(parents=True)
    stale = [folder / "index-v1-0123456789abcdef01234567.idx", folder / "index-v1-aaaa.pkl",
             folder / f"index-v{TextLexical.version}-{'0' * 24}.idx"]
    for path in stale:
        path.write_bytes(b"an index of another version or registry state")
    signal = TextLexical(folder)
    signal.ensure_indexed(registry.snapshot())
    assert not any(path.exists() for path in stale)
    assert [p.name for p in folder.glob("index-*")] == [signal._index_path(registry.snapshot().fingerprint).name]


def test_index_built_from_newer_works_is_filed_under_their_state(home: Home, tmp_path: Path) -> None:
    """The registry changes between the light query and reading the works: the index describes the
    newer works, so it must be saved under their fingerprint, never under the older state's."""
    registry = registry_for(home)
    registry.import_file(WORKS_YAML)
    older = registry.snapshot()
    registry.import_file(edited_registry(tmp_path, "title: Squid Game", "title: Squid Games"))
    assert older.works_fingerprint != older.fingerprint
    signal = TextLexical(home.index_dir / "text.lexical")
    signal.ensure_indexed(older)
    assert not signal._index_path(older.fingerprint).exists()
    newer = registry.snapshot()
    assert signal._index_path(newer.fingerprint).exists()
    Counting.builds = 0
    fresh = Counting(home.index_dir / "text.lexical")
    fresh.ensure_indexed(newer)
    assert Counting.builds == 0
    assert any(m.details["name"] == "Squid Games" for m in fresh.match(Content("text", "Squid Games poster")))


def test_migration_hashes_existing_works_as_the_application_does(db_home: Home, tmp_path: Path) -> None:
    """A home written before content hashes were stored: the migration fills them in, with the
    same values the application writes, so its fingerprint is the one a fresh import gives (and
    the same on either database)."""
    from alembic import command

    url = db_home.database_url
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    command.upgrade(_alembic_config(engine), "0002")
    fresh = Home.resolve(tmp_path / "fresh")
    registry_for(fresh).import_file(WORKS_YAML)
    expected = registry_for(fresh).snapshot()
    with open_engine(fresh.database_url).connect() as src, engine.begin() as dst:
        for table in ("works", "elements", "references"):
            rows = [dict(r._mapping) for r in src.execute(sa.text(f'SELECT * FROM "{table}"'))]
            for row in rows:
                row.pop("content_hash", None)
            columns = ", ".join(f'"{c}"' for c in rows[0])
            values = ", ".join(f"CAST(:{c} AS JSON)" if c in ("aliases", "descriptions") and "postgresql" in url
                               else f":{c}" for c in rows[0])
            dst.execute(sa.text(f'INSERT INTO "{table}" ({columns}) VALUES ({values})'), rows)
    engine.dispose()
    migrated = registry_for(db_home).snapshot()  # opening the home migrates it to the newest revision
    assert migrated._works is None, "every work has its hash after the migration"
    assert migrated.fingerprint == expected.fingerprint == migrated.works_fingerprint


def test_frequency_table_answers_as_wordfreq(tmp_path: Path) -> None:
    """The saved table must give wordfreq's own value for every word it answers for, 0 for plain
    words wordfreq does not list, and leave every other word to wordfreq."""
    from wordfreq import get_frequency_dict, zipf_frequency

    from clearance.text import keywords
    from clearance.text.frequencies import load_table

    keywords.use_frequency_table(tmp_path)
    table = load_table(tmp_path)
    assert table is not None
    listed = list(get_frequency_dict("en"))[::97]
    odd = ["zzqxv", "wensday", "sqiudgame", "4k", "1980s", "it's", "café", "東京", "naïve", "x-men", ""]
    for word in listed + odd:
        value = table.get(word)
        assert value is None or value == zipf_frequency(word, "en"), word
        assert (value is None) == (not word.isascii() or not word.isalpha() or not word.islower()), word
        assert keywords.zipf(word) == zipf_frequency(word, "en"), word


def test_hnsw_graph_opens_in_place_from_a_mapped_file(tmp_path: Path) -> None:
    """Large registries search descriptions with an HNSW graph kept as serialised bytes in the index
    file: opened over the mapped bytes (no copy), it must answer exactly as a deserialised copy."""
    import faiss
    import numpy as np

    from clearance.signals.text_semantic import open_serialised_index

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2_000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    graph = faiss.IndexHNSWFlat(64, 16, faiss.METRIC_INNER_PRODUCT)
    graph.add(vectors)
    persist.save(tmp_path / "graph.idx", {"graph": faiss.serialize_index(graph)}, "test")
    mapped = persist.load(tmp_path / "graph.idx", "test")["graph"]
    assert not mapped.flags.writeable
    queries = vectors[:20] + 0.05 * rng.standard_normal((20, 64)).astype(np.float32)
    expected = faiss.deserialize_index(mapped).search(queries, 10)
    found = open_serialised_index(mapped).search(queries, 10)
    assert all(np.array_equal(a, b) for a, b in zip(expected, found, strict=True))


def test_a_process_that_lived_through_a_registry_change_answers_like_a_fresh_one(
        home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """The description graph (HNSW, used from ``HNSW_FROM_ROWS`` rows; here from 10 so the dev registry
    uses it) was opened once and kept across registry changes: the process searched the old graph,
    over memory the rebuild had freed (a segmentation fault at 10,000 works) or with row numbers of
    the old registry read as the new one's (76 of 79 dev indirect prompts came out differently)."""
    monkeypatch.setattr(text_semantic, "HNSW_FROM_ROWS", 10)
    prompts = [json.loads(line)["prompt"] for line in (DATA / "text" / "prompts_dev.jsonl").open(encoding="utf-8")
               if json.loads(line)["kind"] == "indirect"][::4]
    running = Screener(home)
    running.registry.import_file(WORKS_YAML)
    running.screen_prompt("a cat on a sofa", audit=False)
    running.registry.remove("bridgerton")

    def answers(screener: Screener) -> list[tuple]:
        return [(v.action, [(m.work_id, m.score) for m in v.matches])
                for v in (screener.screen_prompt(p, audit=False) for p in prompts)]

    lived = answers(running)
    shutil.rmtree(home.index_dir)
    assert lived == answers(Screener(home))
    assert sum(action == Action.BLOCK for action, _ in lived) >= len(prompts) * 0.8


def test_a_registry_change_made_elsewhere_is_indexed_while_requests_go_on(home: Home) -> None:
    """Another process (here another ``Registry`` on the same database) adds a work: the next request
    is answered at once from the registry as it was, saying so in ``versions``, instead of waiting
    for the indexes to be rebuilt (~13 s at 10,000 works, for every request in flight); the new
    view then takes over. A thread's own change is seen at once."""
    running = Screener(home)
    running.registry.import_file(WORKS_YAML)
    prompt = "a grumpy green ogre in a muddy swamp cottage with a talking donkey"
    before = running.screen_prompt(prompt, audit=False)
    assert before.action == Action.ALLOW
    registry_for(home).import_file(PROBES / "works.yaml")
    time.sleep(FRESHNESS_S)
    during = running.screen_prompt(prompt, audit=False)
    assert (during.action, during.versions["registry_revision"]) == (Action.ALLOW,
                                                                     before.versions["registry_revision"])
    running.refresh(wait=True)
    after = running.screen_prompt(prompt, audit=False)
    assert after.action == Action.BLOCK and after.matches[0].work_id == "shrek"
    assert int(after.versions["registry_revision"]) > int(before.versions["registry_revision"])
    running.registry.remove("shrek")
    assert running.screen_prompt(prompt, audit=False).action == Action.ALLOW


def test_a_reindexed_description_signal_searches_its_new_graph(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same ``text.semantic`` instance indexed again for another registry state must search the
    new description graph, not the one it opened before (whose memory the rebuild freed)."""
    monkeypatch.setattr(text_semantic, "HNSW_FROM_ROWS", 10)
    registry = registry_for(home)
    registry.import_file(WORKS_YAML)
    signal = TextSemantic(home.index_dir / "reindexed")
    signal.ensure_indexed(registry.snapshot())
    verdicts(signal)  # opens the graph
    registry.remove("bridgerton")
    signal.ensure_indexed(registry.snapshot())
    fresh = TextSemantic(home.index_dir / "fresh")
    fresh.ensure_indexed(registry.snapshot())
    assert verdicts(signal) == verdicts(fresh) and works_matched(fresh)


def test_an_old_registry_view_is_freed_after_a_switch(home: Home) -> None:
    """Each view holds its own indexes; the screener kept the first view's signals for good, so after
    the first registry change a process held two copies of every index."""
    screener = Screener(home)
    screener.registry.import_file(WORKS_YAML)
    screener.warm_up()
    first = [weakref.ref(signal) for signal in screener.signals]
    screener.registry.remove("bridgerton")
    screener.screen_prompt("a cat on a sofa", audit=False)
    gc.collect()
    assert [ref() for ref in first] == [None] * len(first)


def test_the_ordinary_prompts_are_embedded_once_per_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Their vectors depend on the package's list and the model only, so a new home's index reads them
    from the model cache instead of embedding ~2,300 prompts again (12 s on a 2-core EPYC); a damaged
    cached file is rebuilt, and the vectors are what the embedder gives each prompt alone."""
    few = ("a bowl of ramen on a wooden table", "a cat asleep on a sofa", "a lighthouse at dusk")
    monkeypatch.setattr(text_semantic, "ordinary_prompts", lambda: few)
    monkeypatch.setenv("CLEARANCE_MODEL_CACHE", str(tmp_path / "cache"))
    expected = shared_text_embedder().embed(list(few))
    for name in ("first", "second", "third"):
        home = Home.resolve(tmp_path / name)
        registry = registry_for(home)
        registry.import_file(WORKS_YAML)
        signal = TextSemantic(home.index_dir / TextSemantic.name)
        signal.ensure_indexed(registry.snapshot())
        cached = list((tmp_path / "cache").glob("ordinary-*.npy"))
        assert len(cached) == 1 and np.array_equal(np.load(cached[0]), expected)
        assert np.array_equal(signal.ordinary_vecs, expected)
        if name == "second":  # damaged: the third home rebuilds it
            cached[0].write_bytes(cached[0].read_bytes()[:200])


def test_an_index_kept_from_other_ordinary_prompts_is_not_used(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ordinary prompts are package data the persisted index holds vectors of, and the calibration
    was fitted with them: an index kept from before they changed must be rebuilt, not mapped (it was,
    until their digest keyed the index)."""
    registry = registry_for(home)
    registry.import_file(WORKS_YAML)
    fingerprint = registry.snapshot().fingerprint
    TextSemantic(home.index_dir / TextSemantic.name).ensure_indexed(registry.snapshot())
    assert TextSemantic(home.index_dir / TextSemantic.name)._load_index(fingerprint)
    fewer = text_semantic.ordinary_prompts()[:-1]
    monkeypatch.setattr(text_semantic, "ordinary_prompts", lambda: fewer)
    text_semantic.data_digests.cache_clear()
    try:
        signal = TextSemantic(home.index_dir / TextSemantic.name)
        assert not signal._load_index(fingerprint), "an index of the old ordinary prompts"
        signal.ensure_indexed(registry.snapshot())
        assert len(signal.ordinary_vecs) == len(fewer)
    finally:
        text_semantic.data_digests.cache_clear()


def test_an_index_judged_with_another_word_list_is_not_used(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """Which registered names are ordinary words is decided when the lexical index is built, from the
    packaged word list. An index kept from before an upgrade that changed the list went on deciding
    with the old one (only the namesakes' digest keyed it); now each list's digest keys the index
    and is cited in the verdict."""
    registry = registry_for(home)
    registry.import_file(WORKS_YAML)
    fingerprint = registry.snapshot().fingerprint
    prompt = Content(kind="text", text="Vecna looming over a red sky")
    signal = TextLexical(home.index_dir / TextLexical.name)
    signal.ensure_indexed(registry.snapshot())
    assert {m.work_id for m in signal.match(prompt) if m.score >= 0.8} == {"stranger-things"}
    for name in dictionary.FILES:  # SCOWL and its everyday supplement
        assert signal.model_versions()[f"text.{name.split('.')[0]}"] == package_data.short_digest(
            (resources.files("clearance") / "data" / name).read_bytes())

    read = package_data.read_bytes
    upgraded = gzip.compress(gzip.decompress(read(dictionary.SCOWL)) + b"\nvecna\n")  # a release whose list has it
    monkeypatch.setattr(package_data, "read_bytes", lambda name: upgraded if name == dictionary.SCOWL else read(name))
    package_data.digest.cache_clear()
    dictionary._entries.cache_clear()
    try:
        assert dictionary.is_ordinary_word("vecna")
        fresh = TextLexical(home.index_dir / TextLexical.name)
        assert not fresh._load_index(fingerprint), "an index judged with the old word list"
        fresh.ensure_indexed(registry.snapshot())
        assert not [m for m in fresh.match(prompt) if m.score >= 0.8], "an ordinary word alone is not the name"
    finally:
        monkeypatch.undo()
        package_data.digest.cache_clear()
        dictionary._entries.cache_clear()
