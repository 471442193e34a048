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
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from clearance.settings import env_number

AHEAD = 8
"""Items submitted ahead of the one being yielded (bounds memory however long the input)."""


def threads_setting(name: str, default: int | None = None) -> int:
    """A thread count from the environment variable ``name``, else ``default``, else the cores (at
    most 2: the reference machine)."""
    return int(env_number(name, default or min(2, os.cpu_count() or 1), minimum=1, integer=True))


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
