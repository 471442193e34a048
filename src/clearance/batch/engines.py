"""Where shards run: in this process, in a pool of local worker processes, or on Ray Data.

An engine knows nothing about screening: it gets a picklable ``make_worker`` factory (called
once per worker process or Ray actor, so models and indexes load once each) and yields one
result per shard, in completion order. Every engine runs the text model on one thread (its
default, ``text.embedder.default_threads``), and a pool of N workers runs everything on one
thread per worker (see ``_one_thread``); a single in-process worker spreads images over the
cores instead (``clearance.parallel``, which does not change any score). Ray is imported only
when asked for.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

from clearance.batch.items import Shard

ENGINES = ("local", "ray")
ONE_THREAD = {"CLEARANCE_TEXT_THREADS": "1", "CLEARANCE_MEDIA_THREADS": "1"}
Worker = Callable[[Shard], Any]

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
    """Build the worker; a failure is kept and raised by the first task, because a pool whose
    initializer raises respawns workers forever instead of failing."""
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
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Pool(min(workers, len(shards)), initializer=_init_worker, initargs=(make_worker,)) as pool:
        yield from pool.imap_unordered(_run_in_worker, shards)
        pool.close()  # let the workers exit on their own, running their exit hooks (``model_cache``): leaving
        pool.join()   # the block terminates them, which is only for a job that stopped early


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
