"""How Clearance uses the cores of one process: a few threads, each running whole items.

Measured on 2 cores: one ONNX thread per model call and two items in flight at once screens
~45-50 images/s, against ~30 with two ONNX threads inside each call (the threads of one call
spin while they wait for each other, and a 288 px image is too small to split well). So models
run one thread per call, and callers with many items (the CLI, a scrub shard, a video's
frames) spread them over ``media_threads()`` threads. Pillow, ONNX Runtime, faiss and
pdqhash release the GIL, so the threads really run side by side.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache

from clearance.settings import env_number

AHEAD = 8
"""Items submitted ahead of the one being yielded (bounds memory however long the input)."""

_working = 0
_working_lock = threading.Lock()


def threads_setting(name: str, default: int | None = None) -> int:
    """A thread count from the environment variable ``name``, else ``default``, else the cores (at
    most 2: the reference machine)."""
    return int(env_number(name, default or min(2, os.cpu_count() or 1)))


@cache
def cpu_flags() -> frozenset[str]:
    """The processor's instruction sets as Linux lists them ("avx2", "avx512_vnni", "amx_int8"; none
    elsewhere): they decide how long a model call takes, and so whether a second thread pays."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            line = next((line for line in fh if line.startswith("flags")), "")
    except OSError:
        return frozenset()
    return frozenset(line.partition(":")[2].split())


@contextmanager
def working() -> Iterator[None]:
    """Count one item (a verdict being made) as in progress in this process while the block runs, so
    that a model call can tell whether it has the cores to itself (``alone``)."""
    global _working
    with _working_lock:
        _working += 1
    try:
        yield
    finally:
        with _working_lock:
            _working -= 1


def alone() -> bool:
    """At most one item is in progress in this process (``working``): a model call may take every
    thread it is allowed. Concurrent items fill the cores between them already, and a call that
    took two threads then would fight the others for them (the batch of dev prompts at 10,000
    works took 8.4-9.0 ms a prompt instead of 5.4-5.9 when calls took two threads whenever no other
    model call was running: one-off, 2026-12-07)."""
    return _working <= 1


def media_threads() -> int:
    """Threads one process spreads media work over (``CLEARANCE_MEDIA_THREADS``). A scrub worker
    process is given 1, so N workers use N cores."""
    return threads_setting("CLEARANCE_MEDIA_THREADS")


def ordered_map[T, R](fn: Callable[[T], R], items: Iterable[T], threads: int | None = None) -> Iterator[R]:
    """``fn(item)`` for each item, in input order, computed by ``threads`` threads at most
    ``AHEAD`` items ahead. ``fn`` must not raise (return the error instead), so one bad item
    never stops the rest. If ``items`` itself fails, the results of the items it gave before are
    yielded first, then its error is raised."""
    threads = threads or media_threads()
    if threads <= 1:
        yield from map(fn, items)
        return
    window: deque[Future[R]] = deque()
    failure: Exception | None = None
    with ThreadPoolExecutor(threads, thread_name_prefix="clearance-item") as pool:
        try:
            for item in items:
                window.append(pool.submit(fn, item))
                if len(window) >= AHEAD:
                    yield window.popleft().result()
        except Exception as exc:
            failure = exc
        while window:
            yield window.popleft().result()
    if failure is not None:
        raise failure
