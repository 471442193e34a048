"""Where shards run: in local worker processes, or on Ray Data.

An engine knows nothing about screening: it gets a picklable ``make_worker`` factory (called
once per worker process or Ray actor, so models and indexes load once each) and yields one
result per shard, in completion order. N local workers run everything on one thread each (see
``ONE_THREAD``); a single local worker spreads images over the cores instead, and runs the text
model as the CLI does (``text.embedder``): neither changes any score. Ray is imported only when asked for.
Even one worker is a process of its own, not the job's: a worker process that dies (the
kernel's out-of-memory killer, a crash in native code) does not end or hang the job; its shard
runs again in a new process, and a shard that keeps killing its worker is reported lost while
the job goes on (``_Lanes``).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any

from clearance.batch.items import Shard

ENGINES = ("local", "ray")
ONE_THREAD = {"CLEARANCE_TEXT_THREADS": "1", "CLEARANCE_MEDIA_THREADS": "1"}
"""Each of N workers runs on one thread: N workers fill N cores. The text model's vectors are the
same bits on any number of threads (``text.embedder``), and image work is split the same way at any
count, so every engine computes the same scores."""
ATTEMPTS = 3
"""Worker processes a shard may see die under it before it is given up as lost (``_Lanes``)."""
Worker = Callable[[Shard], Any]
Lost = Callable[[Shard, str], Any]
"""Makes, in the job's own process, the result of a shard whose worker kept dying (and why)."""
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


def _init_worker(make_worker: Callable[[], Worker], env: dict[str, str]) -> None:
    """Build the worker; a failure is kept and raised by the first task, so the job stops with its
    reason: an initializer that raises would break the pool, which reads as a worker that died."""
    global _worker, _worker_error
    die_with_parent()
    for key, value in env.items():
        os.environ.setdefault(key, value)
    try:
        _worker = make_worker()
    except Exception as exc:
        _worker_error = exc


def _run_in_worker(shard: Shard) -> Any:
    if _worker is None:
        raise RuntimeError(f"worker failed to start: {_worker_error!r}")
    return _worker(shard)


def run_local(make_worker: Callable[[], Worker], shards: list[Shard], workers: int, lost: Lost) -> Iterator[Any]:
    env = ONE_THREAD if workers > 1 else {}
    yield from _Lanes(make_worker, max(1, min(workers, len(shards))), lost, env).run(shards)


class _Lanes:
    """N lanes, each a pool of one spawned worker process running one shard at a time, so a worker
    that dies names the shard it died on: that shard alone runs again, in a new process, told its
    ``attempt`` (so its worker can find and leave out the record it died on: ``batch/flight``), and
    after ``ATTEMPTS`` deaths it is ``lost`` and the job goes on. A pool of N workers (as before
    2026-12-06) could only run every unfinished shard again, so a record that crashed native code
    each time stopped the whole job. Workers that die ``ATTEMPTS`` times per lane in a row with no
    shard finished in between stop the job (``WorkerDied``): that is the machine, not the data."""

    def __init__(self, make_worker: Callable[[], Worker], lanes: int, lost: Lost, env: dict[str, str]) -> None:
        self.make_worker, self.lanes, self.lost, self.env = make_worker, lanes, lost, env
        self.pools: list[ProcessPoolExecutor] = []

    def run(self, shards: list[Shard]) -> Iterator[Any]:
        queue, deaths = deque(shards), 0
        running: dict[Future[Any], tuple[int, Shard]] = {}
        finished = False
        try:
            for lane in range(self.lanes):
                self.pools.append(self._pool())
                self._submit(lane, queue.popleft(), running)
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    lane, shard = running.pop(future)  # popped: a kept future would keep its result
                    try:
                        yield future.result()
                        deaths = 0
                    except BrokenProcessPool:
                        deaths += 1
                        yield from self._after_death(lane, replace(shard, attempt=shard.attempt + 1), deaths, queue)
                    if queue:
                        self._submit(lane, queue.popleft(), running)
            finished = True
        finally:
            self._close(finished)

    def _after_death(self, lane: int, shard: Shard, deaths: int, queue: deque[Shard]) -> Iterator[Any]:
        if deaths > ATTEMPTS * self.lanes:
            raise WorkerDied(f"worker processes died {deaths} times in a row (out of memory?); the shards they "
                             f"finished are kept: run again with --resume to go on")
        self.pools[lane].shutdown(wait=False)
        self.pools[lane] = self._pool()
        if shard.attempt < ATTEMPTS:
            log.warning("a worker process died on shard %s; running it again in a new process", shard.id)
            queue.appendleft(shard)  # knowing its attempt, the worker can find the record it died on
        else:
            log.warning("a worker process died on shard %s %d times; going on without it", shard.id, shard.attempt)
            yield self.lost(shard, f"the worker process screening it died {shard.attempt} times (a crash in native "
                                   "code, or out of memory)")

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
                                   initargs=(self.make_worker, self.env))

    def _submit(self, lane: int, shard: Shard, running: dict[Future[Any], tuple[int, Shard]]) -> None:
        running[self.pools[lane].submit(_run_in_worker, shard)] = (lane, shard)

    def _close(self, finished: bool) -> None:
        """Lanes that did their shards let the workers exit on their own, running their exit hooks;
        left early (Ctrl-C, a failed consumer) they kill them, as ``multiprocessing.Pool`` did,
        instead of waiting for their shards (an interrupted scrub took ~9 s to stop)."""
        if not finished:  # Python 3.14's terminate_workers(); until then the executor's own table
            for pool in self.pools:
                for process in list((pool._processes or {}).values()):
                    process.kill()
        for pool in self.pools:
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


DRIVER_POLL_S = 0.1
"""How often an actor of a local Ray cluster checks that the job's process is still there."""


def _exit_with(driver: int) -> None:
    """End this process once process ``driver`` is gone. A local Ray cluster's actors are children of
    Ray's own daemons, which outlive a ``kill -9`` of the job for a minute or more: an actor went on
    screening its shard and marking it done while the resumed run, holding the lock, did the same."""
    def watch() -> None:
        while True:
            time.sleep(DRIVER_POLL_S)
            try:
                os.kill(driver, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # a process of that number exists: ours, or one not ours to ask
                continue

    threading.Thread(target=watch, name="clearance-driver-watch", daemon=True).start()


def run_ray(make_worker: Callable[[], Worker], shards: list[Shard], workers: int) -> Iterator[Any]:
    """Ray Data: shards as rows, mapped by a pool of ``workers`` actors (one CPU each). On a cluster
    this process started, the actors end with it (``_exit_with``); on a cluster of ``RAY_ADDRESS``,
    Ray ends the actors of a job whose driver is gone."""
    import ray

    _ray_init(workers)
    driver = None if os.environ.get("RAY_ADDRESS") else os.getpid()

    class RayWorker:
        def __init__(self) -> None:
            if driver is not None:
                _exit_with(driver)
            self.worker = make_worker()

        def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
            return {"result": pickle.dumps(self.worker(Shard(row["id"], row["source"])))}

    dataset = ray.data.from_items([{"id": s.id, "source": s.source} for s in shards])
    mapped = dataset.map(RayWorker, concurrency=max(1, min(workers, len(shards))), num_cpus=1)
    for row in mapped.iter_rows():
        yield pickle.loads(row["result"])


def run(engine: str, make_worker: Callable[[], Worker], shards: list[Shard], workers: int, lost: Lost) -> Iterator[Any]:
    """One result per shard, in completion order; ``lost`` stands in for a shard whose local worker
    process kept dying (Ray restarts its actors itself)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}")
    if not shards:
        return iter(())
    if engine == "ray":
        return run_ray(make_worker, shards, workers)
    return run_local(make_worker, shards, workers, lost)
