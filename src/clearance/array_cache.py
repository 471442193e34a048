"""Arrays derived from registry content, computed once per machine for every home.

A home keeps the fingerprints of its references (``index.fingerprints``) and the vectors of its
descriptions (``signals.text_semantic.EmbeddingCache``), so re-indexing one home costs only what
changed. But every new home computed them all again: ~6 s for the dev registry on a 2-core
EPYC (``benchmarks/bench_new_home.py``), and 281 s of the test suite's 848 (2026-12-07: 174 s
fingerprinting, 107 s embedding descriptions, nearly all of it the same references and texts in
another home). This
cache sits beside the models (``model_cache.cache_dir``) in one SQLite file that every process may
read and write at once, under a namespace that names what a result depends on: the signal and its
fingerprint version (or the text model), and the ``toolchain`` that decodes and computes.

It is a cache and never a reason to fail: a row whose bytes no longer match their digest is
computed again and replaced, a file that is not a database is replaced once, and a cache that
cannot be opened or written (read-only home, full disk) costs the computation. It holds at most
``CLEARANCE_ARRAY_CACHE_MB`` (``DEFAULT_MB``; 0 turns it off), dropping the rows added first:
each home keeps its own copy, so a dropped row costs only a later new home its computation.
"""

from __future__ import annotations

import hashlib
import logging
import platform
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np

from clearance.model_cache import cache_dir
from clearance.parallel import cpu_flags
from clearance.settings import SettingError, env_number

log = logging.getLogger(__name__)

FILE_NAME = "arrays-v3.sqlite3"
"""Versioned with ``SCHEMA``: a file of another schema fails as unwritable, not as damaged, and would
never be replaced."""
DEFAULT_MB = 1024
"""The 10,000-work benchmark registry's 110,000 description vectors take ~180 MB."""
TOOLCHAIN_PACKAGES = ("numpy", "pillow", "av", "onnxruntime", "pdqhash")
"""The packages that decode references and compute on them: an upgrade of any may change a result."""
READ_CHUNK = 500
"""Keys per lookup (SQLite's limit on bound parameters is far above this)."""
SCHEMA = """CREATE TABLE IF NOT EXISTS arrays (
    namespace TEXT NOT NULL, key TEXT NOT NULL, dtype TEXT NOT NULL, shape TEXT NOT NULL,
    data BLOB NOT NULL, digest BLOB NOT NULL, added REAL NOT NULL, PRIMARY KEY (namespace, key))"""
"""A table with row ids: without them each 1.5 KB vector overflowed its B-tree page, and 15 MB of
vectors took a 46 MB file (22 MB with them)."""


@cache
def toolchain() -> str:
    """A digest of the decoding and computing packages' versions and of the processor's instruction
    sets (ONNX Runtime's float kernels round differently on AVX2 and AVX-512), so a cache shared
    across virtual environments or machines never hands one of them another's results."""
    parts = [f"{name}={_version(name)}" for name in TOOLCHAIN_PACKAGES]
    parts += [platform.machine(), platform.processor(), " ".join(sorted(cpu_flags()))]
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


class ArrayCache:
    """The cached arrays of one namespace, by key (a content hash)."""

    def __init__(self, namespace: str, path: Path | None = None) -> None:
        self.namespace = f"{namespace}@{toolchain()}"
        self.path = path or cache_dir() / FILE_NAME

    def get_many(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached arrays of those keys that have one; a damaged row is left out."""
        wanted = sorted(set(keys))
        found: dict[str, np.ndarray] = {}
        if not wanted:
            return found
        with self._connection() as db:
            if db is None:
                return found
            for start in range(0, len(wanted), READ_CHUNK):
                chunk = wanted[start : start + READ_CHUNK]
                rows = db.execute(f"SELECT key, dtype, shape, data, digest FROM arrays WHERE namespace = ? "
                                  f"AND key IN ({','.join('?' * len(chunk))})", [self.namespace, *chunk])
                for key, dtype, shape, data, digest in rows:
                    if (array := _decoded(dtype, shape, data, digest)) is not None:
                        found[key] = array
                    else:
                        log.warning("cached array %s/%s in %s is damaged; computing it again", self.namespace,
                                    key, self.path)
        return found

    def put_many(self, arrays: dict[str, np.ndarray]) -> None:
        """Keep these arrays for every later home (replacing a damaged row of the same key)."""
        if not arrays:
            return
        now = time.time()
        rows = [(self.namespace, key, *_encoded(np.asarray(array)), now) for key, array in arrays.items()]
        with self._connection() as db:
            if db is not None:
                with db:
                    db.executemany("INSERT OR REPLACE INTO arrays VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                    _trim(db, limit_bytes())

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection | None]:
        """A connection for one call (so threads and forked processes never share one), or None when
        the cache is off or cannot be used; errors while using it are logged and swallowed."""
        if limit_bytes() == 0:
            yield None
            return
        try:
            db = _open(self.path)
        except (sqlite3.Error, OSError) as exc:
            log.warning("array cache %s cannot be used (%s); computing instead", self.path, exc)
            yield None
            return
        with closing(db):
            try:
                yield db
            except (sqlite3.Error, OSError) as exc:
                log.warning("array cache %s failed (%s); computing instead", self.path, exc)
                if _is_damage(exc):
                    _discard(self.path)


def limit_bytes() -> int:
    """``CLEARANCE_ARRAY_CACHE_MB`` in bytes (``DEFAULT_MB`` when unset, or, with a warning, when
    malformed: a cache is never worth a failed index; the CLI refuses such a value up front)."""
    try:
        return int(env_number("CLEARANCE_ARRAY_CACHE_MB", DEFAULT_MB) * 1024 * 1024)
    except SettingError as exc:  # "lots", "nan", "inf", "-1"
        log.warning("%s; using %d MB", exc, DEFAULT_MB)
        return DEFAULT_MB * 1024 * 1024


def _trim(db: sqlite3.Connection, limit: int) -> None:
    """Drop the rows added first until the pages in use fit ``limit`` (freed pages are reused, so
    the file stops growing there)."""
    page_size, pages, free = (db.execute(f"PRAGMA {name}").fetchone()[0]
                              for name in ("page_size", "page_count", "freelist_count"))
    excess = (pages - free) * page_size - limit
    if excess > 0:
        db.execute("DELETE FROM arrays WHERE (namespace, key) IN (SELECT namespace, key FROM (SELECT namespace, key, "
                   "SUM(length(data)) OVER (ORDER BY added, namespace, key) - length(data) AS before FROM arrays) "
                   "WHERE before < ?)", (excess,))


def _open(path: Path) -> sqlite3.Connection:
    """The cache database, created when missing; a file that is not one is replaced once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _connect(path)
    except sqlite3.DatabaseError as exc:
        if not _is_damage(exc):
            raise
        log.warning("array cache %s is damaged (%s); starting it again", path, exc)
        _discard(path)
        return _connect(path)


def _is_damage(exc: BaseException) -> bool:
    """A damaged or foreign file, as against a locked or unwritable one (``OperationalError``)."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def _discard(path: Path) -> None:
    """Remove the database with its write-ahead log: a new file must not replay the old one's."""
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        part.unlink(missing_ok=True)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=60)
    try:
        db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
        db.execute(SCHEMA)
        return db
    except BaseException:
        db.close()
        raise


def _encoded(array: np.ndarray) -> tuple[str, str, bytes, bytes]:
    data = np.ascontiguousarray(array).tobytes()
    return array.dtype.str, ",".join(map(str, array.shape)), data, _digest(data)


def _decoded(dtype: str, shape: str, data: bytes, digest: bytes) -> np.ndarray | None:
    """The stored array, or None when its bytes do not match their digest or their shape."""
    try:
        dims = tuple(int(d) for d in shape.split(",") if d)
        array = np.frombuffer(data, dtype=np.dtype(dtype))
        if _digest(data) != digest or array.size != int(np.prod(dims, dtype=np.int64)):
            return None
        return array.reshape(dims).copy()  # writable, and not tied to the row's bytes
    except (ValueError, TypeError):
        return None


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()
