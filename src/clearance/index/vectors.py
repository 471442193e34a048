"""Nearest-neighbour search over unit vectors (inner product): exact for small sets, HNSW for large ones.

Exact search (faiss ``IndexFlatIP``) is memory-bound: ~1.5 ms per query over 20,000 x 512
float32 on an idle core, several times that on a busy one. From 20,000 vectors an HNSW graph
(faiss) answers in well under a millisecond with near-exact recall. Building the graph takes
a while (~15 s for 20,000 vectors, minutes for 200,000), so when given a folder the graph
is saved there, keyed by a hash of the vectors, and a later process loads it instead.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import faiss
import numpy as np

from clearance.atomic import remove_others, replacing

HNSW_FROM = 20_000

# One query at a time is the common case; faiss's OpenMP threads only add spinning for it
# (measured 5-20x slower per query on a busy 2-core machine), and ONNX inference owns the cores.
faiss.omp_set_num_threads(1)


def _build_graph(vectors: np.ndarray) -> faiss.Index:
    """Build with every core (the one place faiss's threads pay off), then back to one."""
    graph = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = 80
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        graph.add(vectors)
    finally:
        faiss.omp_set_num_threads(1)
    return graph


def _cached_graph(vectors: np.ndarray, cache_dir: Path) -> faiss.Index:
    """The graph of these exact vectors from ``cache_dir``, built and saved when missing."""
    digest = hashlib.blake2b(vectors.tobytes(), digest_size=12).hexdigest()
    path = cache_dir / f"hnsw-{digest}.faiss"
    if path.is_file():
        return faiss.read_index(str(path))
    graph = _build_graph(vectors)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with replacing(path) as fh:
        fh.write(faiss.serialize_index(graph).tobytes())
    remove_others(path, "hnsw-*.faiss")
    return graph


class VectorIndex:
    """The vectors live only inside the faiss index (no second copy in memory)."""

    def __init__(self, vectors: np.ndarray, cache_dir: Path | None = None, hnsw_from: int = HNSW_FROM) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.graph: faiss.Index | None = None
        if len(vectors) >= hnsw_from:
            self.graph = _cached_graph(vectors, cache_dir) if cache_dir else _build_graph(vectors)
            self.graph.hnsw.efSearch = 96
        elif len(vectors):
            self.graph = faiss.IndexFlatIP(vectors.shape[1])
            self.graph.add(vectors)

    def __len__(self) -> int:
        return 0 if self.graph is None else self.graph.ntotal

    @property
    def vectors(self) -> np.ndarray:
        """A copy of the indexed vectors, in insertion order."""
        return np.zeros((0, 512), np.float32) if self.graph is None else self.graph.reconstruct_n(0, len(self))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, row ids), each (n_queries, k'); ids are -1 where fewer rows exist."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if self.graph is None:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        return self.graph.search(queries, min(k, len(self)))
