"""The local engine on its own: results are handed over, not kept (a sweep of a million files would
otherwise hold a million verdicts until it ends)."""

from __future__ import annotations

import tracemalloc

from clearance.batch import engines
from clearance.batch.items import Shard

RESULT_BYTES = 20_000_000


def big_result(shard: Shard) -> bytes:
    return bytes(RESULT_BYTES)


def make_worker() -> engines.Worker:
    """A worker factory a spawned process can import (a module-level function)."""
    return big_result


def test_the_pool_keeps_no_result_it_has_handed_over() -> None:
    shards = [Shard(f"s{i}", "") for i in range(20)]
    tracemalloc.start()
    try:
        held = []
        for result in engines.run_local(make_worker, shards, workers=2):
            assert len(result) == RESULT_BYTES
            held.append(tracemalloc.get_traced_memory()[0])
            del result
    finally:
        tracemalloc.stop()
    assert len(held) == len(shards)
    assert max(held) < 5 * RESULT_BYTES, f"results kept: {max(held) / 1e6:.0f} MB traced"
