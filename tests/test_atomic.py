"""Caches in a home are written by many processes at once (server workers, scrub workers, Ray
actors); each write must replace the file whole, whoever else is writing."""

from __future__ import annotations

import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from clearance.atomic import replacing
from clearance.index.fingerprints import FingerprintStore


def test_concurrent_writers_of_one_cache_all_succeed_and_leave_a_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "pdq-v3.npz"
    start = threading.Barrier(8)

    def save(writer: int) -> None:
        start.wait()
        for round_ in range(25):
            store = FingerprintStore(path)
            store.get(f"{writer}-{round_}", lambda: np.full((2, 4), writer, np.uint8))
            store.save(set(store.rows))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(save, range(8)))  # re-raises any writer's error
    assert FingerprintStore(path).rows  # the survivor loads
    assert [p.name for p in tmp_path.iterdir()] == ["pdq-v3.npz"]  # no temporary file left


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "cache.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), replacing(path) as fh:
        fh.write(b"half of the new")
        raise RuntimeError("disk full")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["cache.bin"]
    with replacing(path) as fh:
        fh.write(b"new")
    assert path.read_bytes() == b"new"
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)  # shared homes stay readable


def test_a_store_with_nothing_new_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "fingerprints.npz"
    store = FingerprintStore(path)
    store.get("a", lambda: np.ones((1, 4), np.uint8))
    store.save({"a"})
    written = path.stat().st_mtime_ns
    again = FingerprintStore(path)
    assert again.get("a", lambda: pytest.fail("recomputed a stored fingerprint")).shape == (1, 4)
    again.save({"a"})
    assert path.stat().st_mtime_ns == written
    again.save(set())  # the reference was removed: that is a change
    assert FingerprintStore(path).rows == {}
