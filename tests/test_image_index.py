"""The search structures behind image screening: vector index (exact and cached HNSW), PDQ's
binary index, and the background normalisation of SSCD scores, on real dev-image descriptors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pdqhash
import pytest

from clearance.content import Content
from clearance.index.background import EXCLUDE_ABOVE, BackgroundNormaliser, load_background
from clearance.index.vectors import VectorIndex
from clearance.media.sscd import squares_of
from clearance.signals.image_pdq import BLOCK_BITS, binary_index, hash_input, pack
from clearance.signals.image_sscd import MODEL, embed_views
from tests.conftest import DATA

IMAGES = DATA / "images"


@pytest.fixture(scope="module")
def ref_vectors() -> np.ndarray:
    from PIL import Image

    return embed_views([Image.open(p) for p in sorted((IMAGES / "ref").glob("ref_00*.jpg"))])


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_exact_search_finds_nearest(ref_vectors: np.ndarray) -> None:
    index = VectorIndex(ref_vectors)
    sims, rows = index.search(ref_vectors[3:5], 3)
    assert rows[:, 0].tolist() == [3, 4]
    assert np.allclose(sims[:, 0], 1.0, atol=1e-4)
    assert len(VectorIndex(np.zeros((0, 512), np.float32)).search(ref_vectors[:1], 5)[1][0]) == 0


def test_hnsw_graph_is_cached_by_content(tmp_path: Path) -> None:
    vectors = unit(np.random.default_rng(0).standard_normal((3000, 512)))
    built = VectorIndex(vectors, cache_dir=tmp_path, hnsw_from=1000)
    (cached,) = tmp_path.glob("hnsw-*.faiss")
    loaded = VectorIndex(vectors, cache_dir=tmp_path, hnsw_from=1000)
    queries = vectors[:20] + 0.01
    assert np.array_equal(built.search(queries, 5)[1], loaded.search(queries, 5)[1])
    assert (loaded.search(queries, 1)[1][:, 0] == np.arange(20)).all()
    VectorIndex(vectors[:2000], cache_dir=tmp_path, hnsw_from=1000)
    assert not cached.exists() and len(list(tmp_path.glob("hnsw-*.faiss"))) == 1  # old graph dropped


def test_pdq_binary_index_matches_numpy_hamming() -> None:
    squares = [squares_of(Content(kind="image", path=p))[0] for p in sorted((IMAGES / "ref").glob("*.jpg"))[:12]]
    hashes = np.stack([pack(pdqhash.compute(s)[0]) for s in squares])
    index = binary_index(hashes)
    _, distances, rows = index.range_search(hashes[:1].view(np.uint8), 256)
    expected = np.bitwise_count(hashes[0] ^ hashes).sum(axis=1)
    assert dict(zip(rows.tolist(), distances.tolist(), strict=True)) == dict(enumerate(expected.tolist()))


def test_shipped_background_is_loaded_and_normalises(ref_vectors: np.ndarray) -> None:
    background = load_background(MODEL)
    assert background.shape[1] == 512 and len(background) >= 200
    assert np.allclose(np.linalg.norm(background, axis=1), 1, atol=1e-2)
    normaliser = BackgroundNormaliser(background, ref_vectors)
    offsets = normaliser.offsets(ref_vectors)
    assert offsets.shape == (len(ref_vectors),) and (offsets > 0).all() and (offsets < 0.5).all()


def test_background_pictures_that_are_registered_are_left_out(ref_vectors: np.ndarray) -> None:
    background = np.concatenate([load_background(MODEL), ref_vectors[:2]])
    normaliser = BackgroundNormaliser(background, ref_vectors)
    assert len(normaliser) == len(background) - 2
    assert (normaliser.columns.T @ ref_vectors.T).max() <= EXCLUDE_ABOVE


def test_pdq_of_the_reduced_square_hashes_like_pdq_of_the_square() -> None:
    """PDQ is handed the square already at its 64 px working size (to save its own reduction): the
    hashes must stay those of the picture, a few bits from PDQ's own, far inside its match
    threshold, and unrelated pictures must stay far apart."""
    paths = sorted((IMAGES / "copies").glob("*.jpg"))[:40]
    squares = [squares_of(Content(kind="image", path=p))[0] for p in paths]
    own = np.stack([pdqhash.compute(s)[0] for s in squares])
    reduced = np.stack([pdqhash.compute(hash_input(s))[0] for s in squares])
    same = (own != reduced).sum(axis=1)
    assert hash_input(squares[0]).shape == (64, 64, 3)
    assert np.median(same) <= 8 and same.max() < BLOCK_BITS, same.tolist()
    source = np.array([p.name[:7] for p in paths])  # ref_NNN: the reference each copy was made from
    apart = (reduced[:, None, :] != reduced[None, :, :]).sum(axis=2)[source[:, None] != source[None, :]]
    assert apart.min() > 2 * BLOCK_BITS  # copies of different references stay nowhere near
