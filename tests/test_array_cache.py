"""The machine's cache of reference fingerprints and description vectors (``clearance.array_cache``):
a new home reads what another home computed, and a damaged, foreign or unusable cache costs the
computation, never a failure or a wrong array.

References and texts are made unique per test, so whatever the machine's cache already holds (other
tests, earlier runs), the first home here computes them."""

from __future__ import annotations

import logging
import multiprocessing
import secrets
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from clearance.array_cache import ArrayCache
from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.index.fingerprints import FingerprintStore, fingerprint_references
from clearance.registry.media_store import MediaStore
from clearance.registry.store import Registry
from clearance.registry.views import ReferenceView, RegistrySnapshot
from clearance.signals.image_sscd import FINGERPRINTS, ImageSscd
from clearance.signals.text_semantic import EmbeddingCache
from clearance.text.embedder import MODEL_ID, shared_text_embedder
from tests.conftest import DATA


def unique_image_registry(home: Home, tmp_path: Path) -> RegistrySnapshot:
    """A registry of one work whose reference is a dev image with 16 random bytes after its end."""
    picture = tmp_path / f"{secrets.token_hex(4)}.jpg"  # a JPEG decoder stops at the end-of-image marker
    picture.write_bytes((DATA / "images/ref/ref_002.jpg").read_bytes() + secrets.token_bytes(16))
    works = tmp_path / "works.yaml"
    works.write_text(f"version: 1\nworks:\n  - {{id: a, title: Alpha, owner: O, references: [{{path: {picture}, "
                     "kind: image}]}\n", encoding="utf-8")
    registry = Registry(session_factory(home.database_url), MediaStore(home.media_dir))
    registry.import_file(works)
    return registry.snapshot()


class CountedSscd:
    """ImageSscd's own reference fingerprinting, counting the references it really computes."""

    def __init__(self) -> None:
        self.computed: list[str] = []

    def __call__(self, ref: ReferenceView) -> np.ndarray:
        self.computed.append(ref.sha256)
        return ImageSscd._reference_vectors(ref)


def index_in(home: Home, snapshot: RegistrySnapshot) -> tuple[CountedSscd, np.ndarray]:
    compute, store_dir = CountedSscd(), home.index_dir / ImageSscd.name
    store_dir.mkdir(parents=True, exist_ok=True)
    _, rows = fingerprint_references(snapshot, {"image"}, store_dir, FINGERPRINTS, compute)
    return compute, rows[0]


def test_a_new_home_reads_the_fingerprints_another_home_computed(tmp_path: Path) -> None:
    first, second = Home.resolve(tmp_path / "first"), Home.resolve(tmp_path / "second")
    snapshot = unique_image_registry(first, tmp_path)
    computed, rows = index_in(first, snapshot)
    assert len(computed.computed) == 1
    again, same = index_in(second, snapshot)
    assert again.computed == [] and np.array_equal(same, rows) and same.dtype == rows.dtype
    kept = FingerprintStore(second.index_dir / ImageSscd.name / f"{FINGERPRINTS}.npz")  # the home keeps its own copy
    assert np.array_equal(kept.rows[snapshot.works[0].references[0].sha256], rows)


def test_stores_of_other_fingerprint_versions_are_removed(tmp_path: Path) -> None:
    """A version bump (or 2026-12-07's renames, ``chromaprint.npz`` to ``chromaprint-v1.npz``) left
    the old store in every home for good."""
    home = Home.resolve(tmp_path / "home")
    snapshot = unique_image_registry(home, tmp_path)
    old = home.index_dir / ImageSscd.name / "sscd_distilled-v2.npz"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"an older version's store")
    index_in(home, snapshot)
    assert sorted(p.name for p in old.parent.glob("*.npz")) == [f"{FINGERPRINTS}.npz"]


def test_a_damaged_cached_row_is_computed_again_and_replaced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    homes = [Home.resolve(tmp_path / name) for name in ("first", "second", "third")]
    snapshot = unique_image_registry(homes[0], tmp_path)
    _, rows = index_in(homes[0], snapshot)
    sha = snapshot.works[0].references[0].sha256
    cache = ArrayCache(f"fingerprints/{FINGERPRINTS}")
    with sqlite3.connect(cache.path) as db:  # one bit flipped in the stored floats
        data = bytearray(db.execute("SELECT data FROM arrays WHERE namespace = ? AND key = ?",
                                    (cache.namespace, sha)).fetchone()[0])
        data[100] ^= 0x01
        db.execute("UPDATE arrays SET data = ? WHERE namespace = ? AND key = ?", (bytes(data), cache.namespace, sha))
    with caplog.at_level(logging.WARNING, logger="clearance"):
        recomputed, same = index_in(homes[1], snapshot)
    assert recomputed.computed == [sha] and np.array_equal(same, rows)
    assert any("damaged" in r.getMessage() for r in caplog.records)
    repaired, again = index_in(homes[2], snapshot)
    assert repaired.computed == [] and np.array_equal(again, rows)


def test_a_description_embedded_in_one_home_is_read_in_the_next(tmp_path: Path) -> None:
    text = f"a lighthouse keeper's {secrets.token_hex(4)} lantern glowing over a grey sea"
    (tmp_path / "first").mkdir()
    first = EmbeddingCache(tmp_path / "first" / "embeddings.npz")
    vector = first.embed([text])[0]
    assert np.array_equal(vector, shared_text_embedder().embed([text])[0])
    cached = ArrayCache(f"embeddings/{MODEL_ID}").get_many([EmbeddingCache.key(text)])
    assert np.array_equal(cached[EmbeddingCache.key(text)], vector)
    marked = np.full(384, 0.5, np.float32)  # what the machine's cache holds is what a new home uses
    ArrayCache(f"embeddings/{MODEL_ID}").put_many({EmbeddingCache.key(text): marked})
    (tmp_path / "second").mkdir()
    assert np.array_equal(EmbeddingCache(tmp_path / "second" / "embeddings.npz").embed([text])[0], marked)


def test_a_file_that_is_not_a_database_is_started_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "arrays.sqlite3"
    path.write_bytes(b"not a database, " * 512)
    cache = ArrayCache("test", path)
    with caplog.at_level(logging.WARNING, logger="clearance"):
        assert cache.get_many(["a"]) == {}
    assert any("damaged" in r.getMessage() for r in caplog.records)
    cache.put_many({"a": np.arange(6, dtype=np.int16).reshape(2, 3)})
    found = ArrayCache("test", path).get_many(["a", "b"])
    assert list(found) == ["a"] and found["a"].dtype == np.int16 and found["a"].tolist() == [[0, 1, 2], [3, 4, 5]]


def test_an_unusable_cache_costs_the_computation_not_a_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    cache = ArrayCache("test", blocker / "arrays.sqlite3")
    cache.put_many({"a": np.ones(3)})
    assert cache.get_many(["a"]) == {}


def test_namespaces_and_shapes_are_kept_apart(tmp_path: Path) -> None:
    path = tmp_path / "arrays.sqlite3"
    ArrayCache("pdq-v4", path).put_many({"k": np.zeros((0, 5), np.uint64), "s": np.float32(2.5)})
    assert ArrayCache("chromaprint-v1", path).get_many(["k", "s"]) == {}
    found = ArrayCache("pdq-v4", path).get_many(["k", "s"])
    assert found["k"].shape == (0, 5) and found["k"].dtype == np.uint64
    assert found["s"].shape == () and found["s"] == np.float32(2.5)


def _write_and_read(path: Path, writer: int) -> int:
    cache = ArrayCache("test", path)
    for round_ in range(20):
        cache.put_many({f"{writer}-{round_}": np.full(64, writer, np.int32), "shared": np.arange(64)})
        assert len(cache.get_many(["shared", f"{writer}-{round_}"])) == 2
    return writer


def test_processes_writing_at_once_all_succeed(tmp_path: Path) -> None:
    """Service workers and scrub workers index at the same moment: every one of them must find what it
    wrote, and the cache must hold every write."""
    path = tmp_path / "arrays.sqlite3"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert sorted(pool.starmap(_write_and_read, [(path, w) for w in range(4)])) == [0, 1, 2, 3]
    found = ArrayCache("test", path).get_many([f"{w}-{r}" for w in range(4) for r in range(20)])
    assert len(found) == 80 and all(found[f"{w}-0"][0] == w for w in range(4))


def test_the_cache_keeps_to_its_limit_by_dropping_the_first_added(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARANCE_ARRAY_CACHE_MB", "1")
    path, block = tmp_path / "arrays.sqlite3", np.zeros(64 * 1024, np.float32)  # 256 KiB a row
    cache = ArrayCache("test", path)
    for batch in range(6):
        cache.put_many({f"{batch}-{i}": block + batch for i in range(2)})
    order = [f"{b}-{i}" for b in range(6) for i in range(2)]
    kept = cache.get_many(order)
    assert [key for key in order if key in kept] == order[-len(kept):] and len(kept) >= 2  # the newest stay
    assert sum(a.nbytes for a in kept.values()) <= 1024 * 1024
    assert path.stat().st_size < 1.05 * (1024 + 512) * 1024  # the limit, and one batch on its way in
    for nonsense in ("lots", "nan", "inf"):  # the default, with a warning, never a failed index
        monkeypatch.setenv("CLEARANCE_ARRAY_CACHE_MB", nonsense)
        assert set(cache.get_many(["5-0"])) == {"5-0"}
    monkeypatch.setenv("CLEARANCE_ARRAY_CACHE_MB", "0")  # off: nothing read, nothing written
    assert cache.get_many(["5-0"]) == {}
    cache.put_many({"off": block})
    monkeypatch.delenv("CLEARANCE_ARRAY_CACHE_MB")
    assert set(cache.get_many(["5-0", "off"])) == {"5-0"}
