"""Where shards run: in this process, in a pool of local worker processes, or on Ray Data.

An engine knows nothing about screening: it gets a picklable ``make_worker`` factory (called
once per worker process or Ray actor, so models and indexes load once each) and yields one
result per shard, in completion order. Every engine runs the text model on one thread (its
default, ``text.embedder.default_threads``), and a pool of N workers runs everything on one
thread per worker (see ``_one_thread``); a single in-process worker spreads images over the
cores instead (``clearance.parallel``, which does not change any score). Ray is imported only
when asked for. A local worker process that dies (the kernel's out-of-memory killer, a crash in
native code) does not hang the job: the shards it had not finished run again in a new pool.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import pickle
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from clearance.batch.items import Shard

ENGINES = ("local", "ray")
ONE_THREAD = {"CLEARANCE_TEXT_THREADS": "1", "CLEARANCE_MEDIA_THREADS": "1"}
RESTARTS = 3
"""How many times a pool whose worker process died is started again for the shards not done yet;
then the job stops (its finished shards are checkpointed, so ``--resume`` goes on from there)."""
Worker = Callable[[Shard], Any]
log = logging.getLogger(__name__)


class WorkerDied(RuntimeError):
    """Worker processes kept dying: the job cannot finish on its own."""

_worker: Worker | None = None
_worker_error: BaseException | None = None


def die_with_parent() -> None:
    """Linux: a worker is killed with its parent, so a ``kill -9`` of the job leaves no worker
    writing into the checkpoint folder while a resumed run starts."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _one_thread() -> None:
    """One thread per worker: N workers fill N cores. The text model runs on one thread in every
    engine, so every engine computes the same floats (its thread count changes summation order,
    which can flip a score sitting on a threshold); image work is split the same way at any count."""
    for key, value in ONE_THREAD.items():
        os.environ.setdefault(key, value)


def _init_worker(make_worker: Callable[[], Worker]) -> None:
    """Build the worker; a failure is kept and raised by the first task, so the job stops with its
    reason: an initializer that raises would break the pool, which reads as a worker that died."""
    global _worker, _worker_error
    die_with_parent()
    _one_thread()
    try:
        _worker = make_worker()
    except Exception as exc:
        _worker_error = exc


def _run_in_worker(shard: Shard) -> Any:
    if _worker is None:
        raise RuntimeError(f"worker failed to start: {_worker_error!r}")
    return _worker(shard)


def run_local(make_worker: Callable[[], Worker], shards: list[Shard], workers: int) -> Iterator[Any]:
    if workers <= 1:
        worker = make_worker()
        yield from (worker(shard) for shard in shards)
        return
    todo = list(shards)
    for restart in range(RESTARTS + 1):
        done: set[str] = set()
        try:
            for shard, result in _pool_results(make_worker, todo, workers):
                done.add(shard.id)
                yield result
            return
        except BrokenProcessPool:
            todo = [shard for shard in todo if shard.id not in done]
            if restart < RESTARTS:
                log.warning("a worker process died; running the %d shards not done in a new pool", len(todo))
    raise WorkerDied(f"worker processes died {RESTARTS + 1} times (out of memory?); the shards they finished "
                     f"are kept: run again with --resume to go on ({len(todo)} shards not done)")


def _pool_results(make_worker: Callable[[], Worker], shards: list[Shard], workers: int) -> Iterator[tuple[Shard, Any]]:
    """(shard, result) in completion order from a pool of spawned workers. A worker that dies breaks the
    pool (``BrokenProcessPool``) instead of hanging it, as ``multiprocessing.Pool`` did: it waited
    for ever for the lost shard's result. A pool that has done its shards lets the workers exit on
    their own, running their exit hooks; one left early (Ctrl-C, a failed consumer) kills them, as
    ``Pool`` did, instead of waiting for their shards (an interrupted scrub took ~9 s to stop)."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(min(workers, len(shards)), mp_context=context, initializer=_init_worker,
                               initargs=(make_worker,))
    finished = False
    try:
        futures = {pool.submit(_run_in_worker, shard): shard for shard in shards}
        for future in as_completed(futures):
            yield futures.pop(future), future.result()  # popped: a kept future would keep its result
        finished = True
    finally:
        if not finished:  # Python 3.14's terminate_workers(); until then the executor's own table
            for process in list((pool._processes or {}).values()):
                process.kill()
        pool.shutdown(wait=True, cancel_futures=True)


def _ray_init(workers: int) -> None:
    """Join the cluster named by ``RAY_ADDRESS`` if set, else start a local Ray with ``workers`` CPUs."""
    import ray

    if ray.is_initialized():
        return
    runtime_env = {"env_vars": ONE_THREAD}
    if os.environ.get("RAY_ADDRESS"):
        ray.init(runtime_env=runtime_env, log_to_driver=False)
    else:
        ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False, runtime_env=runtime_env)


def run_ray(make_worker: Callable[[], Worker], shards: list[Shard], workers: int) -> Iterator[Any]:
    """Ray Data: shards as rows, mapped by a pool of ``workers`` actors (one CPU each)."""
    import ray

    _ray_init(workers)

    class RayWorker:
        def __init__(self) -> None:
            self.worker = make_worker()

        def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
            return {"result": pickle.dumps(self.worker(Shard(row["id"], row["source"])))}

    dataset = ray.data.from_items([{"id": s.id, "source": s.source} for s in shards])
    mapped = dataset.map(RayWorker, concurrency=max(1, min(workers, len(shards))), num_cpus=1)
    for row in mapped.iter_rows():
        yield pickle.loads(row["result"])


def run(engine: str, make_worker: Callable[[], Worker], shards: list[Shard], workers: int) -> Iterator[Any]:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}")
    if not shards:
        return iter(())
    return (run_ray if engine == "ray" else run_local)(make_worker, shards, workers)
