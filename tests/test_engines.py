"""The local engine on its own: results are handed over, not kept (a sweep of a million files would
otherwise hold a million verdicts until it ends), and a worker process that dies costs only the
shard it was on. The workers here are real spawned processes; the ones that die kill themselves
with ``SIGKILL``, as the kernel's out-of-memory killer or a crash in native code would."""

from __future__ import annotations

import os
import signal
import tracemalloc

import pytest

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
        for result in engines.run_local(make_worker, shards, workers=2, lost=not_expected):
            assert len(result) == RESULT_BYTES
            held.append(tracemalloc.get_traced_memory()[0])
            del result
    finally:
        tracemalloc.stop()
    assert len(held) == len(shards)
    assert max(held) < 5 * RESULT_BYTES, f"results kept: {max(held) / 1e6:.0f} MB traced"


def not_expected(shard: Shard, reason: str) -> None:
    raise AssertionError(f"{shard.id} lost: {reason}")


def dies_on_poison(shard: Shard) -> str:
    """Kills its own process on a shard whose source says so, as a record crashing native code would."""
    if shard.source == "poison":
        os.kill(os.getpid(), signal.SIGKILL)
    return shard.id


def make_dying_worker() -> engines.Worker:
    return dies_on_poison


@pytest.mark.parametrize("workers", [1, 2])
def test_a_shard_that_kills_its_worker_every_time_is_lost_alone(workers: int) -> None:
    """Each try of the poison shard kills a worker process; after ``ATTEMPTS`` it is reported lost, in
    the job's process, and every other shard's result still comes, each once. One worker is a
    process of its own too: the poison once killed the job itself (here, the test process)."""
    shards = [Shard(f"s{i}", "poison" if i == 3 else "") for i in range(8)]
    lost: list[tuple[str, str]] = []

    def record(shard: Shard, reason: str) -> str:
        lost.append((shard.id, reason))
        return f"lost {shard.id}"

    results = list(engines.run_local(make_dying_worker, shards, workers=workers, lost=record))
    assert sorted(results) == sorted([f"s{i}" for i in range(8) if i != 3] + ["lost s3"])
    assert lost == [("s3", f"the worker process screening it died {engines.ATTEMPTS} times (a crash in native code, "
                           "or out of memory)")]


def test_workers_that_die_on_every_shard_stop_the_job() -> None:
    """Every shard kills its worker: that is the machine, not the data, and the job stops instead of
    giving up each shard in turn."""
    shards = [Shard(f"s{i}", "poison") for i in range(20)]
    lost: list[str] = []
    with pytest.raises(engines.WorkerDied, match=f"died {engines.ATTEMPTS * 2 + 1} times in a row"):
        for _ in engines.run_local(make_dying_worker, shards, workers=2, lost=lambda shard, _: lost.append(shard.id)):
            pass
    assert len(lost) <= 2
