"""The service's screening processes: one queue in front of N processes, each with its own models.

Why not N uvicorn workers: each worker had its own queue, fed by whichever keep-alive connections
the kernel gave it, so one worker queued while the other idled. Measured at 200 prompt requests/s
over 64 connections with two workers, the busier worker's queue set the p99 (see the README).
Here the one HTTP process (auth, limits, JSON) hands every screening to the screening process
with the fewest in flight, so no request waits while a process is free.

Each screening process builds one ``Screener`` (models, indexes, its own audit writer) and runs
``IN_FLIGHT`` requests of each lane at once on threads: media uploads in one lane, prompts (and
everything else) in the other, so long media cannot hold the slots prompts need (``LANES``).
Messages are pickled over a pipe per process. A process that dies is replaced; the requests it
held answer ``review`` (fail closed), as does a request that finds no process to run on. Each
process loads its models with one thread per model call: the processes, not the threads of one
call, fill the cores.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

from clearance.batch.engines import die_with_parent
from clearance.home import Home

IN_FLIGHT = 2
"""Requests a screening process holds at once: two, so that one request's audit commit overlaps
the next one's screening, and a burst queues in the HTTP process, where whichever process comes
free first takes it. Measured at 200 requests/s with two processes (10,000 works, SQLite,
alternating runs): p99 148 and 88 ms with one, 25 and 34 ms with two, 31 and 38 ms with three.
Screening one request at a time and replying from a second thread once its audit entry is
committed (the same overlap without two screening threads) was no better: p99 132, 100 and 109
ms against 56, 101 and 76 (alternating runs, 2026-12-04 21:44-21:49)."""
LANES = ("prompt", "media")
"""Each process has ``IN_FLIGHT`` slots per lane. With one set of slots, four 15-minute videos from
one key took every slot of a two-process server and another tenant's prompt waited 30 s and was
answered ``review`` (a QA pass, 2026-12-07). Reserving a slot for prompts would have cost a
one-process server half its media throughput; a lane of their own costs media nothing, and a prompt
behind media shares a core with them for its few milliseconds instead of waiting seconds."""
INLINE_BYTES = 16_384
"""Requests this small are written to the pipe from the event loop (the pipe takes 64 kB without
blocking); larger ones from a thread. A thread hop per request cost ~10% of the HTTP process's CPU."""
STARTUP_TIMEOUT_S = 300.0
"""How long a reload waits for a new process to load its models and indexes (10,000 works: ~15 s
from the index cache) before it gives up on it and keeps the old one."""
MAX_EARLY_DEATHS = 3
"""After this many processes in a row die before they are ready, none is started in their place."""
PING_S = 1.0
"""How often the HTTP process pings each loaded screening process (a few bytes each way)."""
UNRESPONSIVE_S = 3.0
"""A process that has not answered a ping for this long is not ``ready`` (stopped, deadlocked, or
reading a garbled message). Its main thread answers pings between requests, so a long screening
on its threads does not delay them."""
PING = -1
"""The request id of a ping, and of its answer."""
STOP = -2
"""The request id by which the HTTP process stops a screening process (``ScreeningPool._stop``)."""
STOP_GRACE_S = 30.0
"""How long a screening process that got SIGTERM from elsewhere goes on answering: a stop of the
whole process group reaches the HTTP process too, which finishes its requests (each at most the
screening time limit) and then stops its processes by message; until then they are still needed.
Only SIGTERM sent to a screening process alone is waited out, then the server starts another."""
POLL_S = 0.2
METHODS = frozenset({"screen_prompt", "screen_media", "catch_up"})
"""The ``Screener`` methods the HTTP process may call."""
log = logging.getLogger("uvicorn.error")


class ScreeningUnavailableError(RuntimeError):
    """No screening process could run the request (it died, or none could start)."""


@dataclass(eq=False)
class _Turn:
    """A request waiting for a slot of its lane. When one comes free it goes to the waiting request
    whose tenant holds the fewest slots of that lane, the longest-waiting of those: with every
    media slot held by one key's long videos and more of them queued, another tenant's image
    waited behind all of them, past the time limit (a verify pass, 2026-12-08)."""

    future: asyncio.Future[None]
    lane: str
    tenant: str | None


@dataclass(eq=False)
class _Process:
    """One screening process as the HTTP process sees it: its pipe and the requests it holds."""

    process: multiprocessing.process.BaseProcess
    conn: Connection
    ready: asyncio.Future[None]
    waiting: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    media: set[int] = field(default_factory=set)
    """The requests in ``waiting`` that are media screenings (``LANES``)."""
    tenants: dict[int, str | None] = field(default_factory=dict)
    """Whose each request in ``waiting`` is (the platform's tenant), for the fair queue (``_Turn``)."""
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    draining: bool = False
    answered_at: float = field(default_factory=time.monotonic)
    """When it last answered a ping (or said it was ready)."""
    pinged: bool = False
    """A ping is unanswered: no second one is sent, so pings cannot fill a stuck process's pipe."""

    def lane_of(self, request: int) -> str:
        """The lane of a request this process holds."""
        return "media" if request in self.media else "prompt"

    def held(self, lane: str) -> int:
        """Requests of ``lane`` this process holds."""
        return len(self.media) if lane == "media" else len(self.waiting) - len(self.media)

    def settle(self, request: int) -> asyncio.Future[Any] | None:
        """Forget ``request`` (answered, or never sent): its future, if it was held."""
        self.media.discard(request)
        self.tenants.pop(request, None)
        return self.waiting.pop(request, None)

    @property
    def loaded(self) -> bool:
        """It reported that its models and indexes are loaded."""
        return self.ready.done() and self.ready.exception() is None

    @property
    def failed_to_start(self) -> bool:
        """It reported that it could not start (it would fail again if restarted)."""
        return self.ready.done() and self.ready.exception() is not None

    @property
    def responsive(self) -> bool:
        """Loaded, running, and answering pings."""
        return (self.loaded and self.process.is_alive()
                and time.monotonic() - self.answered_at < UNRESPONSIVE_S)

    @property
    def takes_requests(self) -> bool:
        """Running, not being replaced, and not one that could not start."""
        return self.process.is_alive() and not (self.draining or self.failed_to_start)


class ScreeningPool:
    """N screening processes for one home. Use from the event loop of the HTTP process."""

    def __init__(self, home: Home, size: int, overdue_s: float) -> None:
        self.home = home
        self.size = size
        self.overdue_s = overdue_s
        """A process still working on a request this long after it took it is stuck: it is replaced."""
        self.processes: list[_Process] = []
        self._ids = itertools.count()
        self._context = multiprocessing.get_context("spawn")
        self._closing = False
        self._early_deaths = 0
        """Processes that died before they were ready, since one last became ready."""
        self._reloading = asyncio.Lock()
        self._reloads: set[asyncio.Task[None]] = set()
        """Reloads under way (the loop keeps only weak references to tasks)."""
        self._queue: collections.deque[_Turn] = collections.deque()
        """Requests waiting for a free slot, in arrival order."""
        self._pinger: asyncio.TimerHandle | None = None

    @property
    def ready(self) -> bool:
        """Every process has loaded its models and indexes, and still answers: one that died, is
        stopped or stuck is not ready (before, only loading was: a stuck process read as ready)."""
        return bool(self.processes) and all(p.responsive for p in self.processes)

    @property
    def queued(self) -> int:
        """Requests waiting for a free slot."""
        return sum(not turn.future.done() for turn in self._queue)

    def start(self) -> None:
        self.processes = [self._spawn() for _ in range(self.size)]
        self._ping()

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``Screener.<method>(*args, **kwargs)`` in the process with the fewest requests of its lane
        (``LANES``) in flight, once one has fewer than ``IN_FLIGHT`` (until then the request waits
        here, in the one queue): what it returns, or the error it raised
        (``ScreeningUnavailableError`` if the process died)."""
        lane = _lane(method)
        woken = False
        while True:
            live = [p for p in self.processes if p.takes_requests]
            if not live:
                raise ScreeningUnavailableError("no screening process is running")
            target = min(live, key=lambda p: (not p.loaded, p.held(lane)))
            if target.held(lane) < IN_FLIGHT:
                return await self._call_on(target, (method, args, kwargs), watched=True)
            turn = _Turn(asyncio.get_running_loop().create_future(), lane, kwargs.get("tenant"))
            if woken:  # a newcomer took the slot it was woken for: it keeps its place at the front
                self._queue.appendleft(turn)
            else:
                self._queue.append(turn)
            await turn.future
            woken = True

    async def broadcast(self, method: str, *args: Any) -> None:
        """Run ``method`` in every running process (one still loading runs it once loaded), e.g. to
        catch up with a registry change at once. A process that dies meanwhile is skipped: its
        successor loads the registry as it is then."""
        live = [p for p in self.processes if p.process.is_alive()]
        await asyncio.gather(*(self._call_on(p, (method, args, {}), watched=False) for p in live),
                             return_exceptions=True)

    def reload_soon(self) -> None:
        """Start a ``reload`` from a signal handler (which cannot await)."""
        task = asyncio.ensure_future(self.reload())
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def reload(self) -> None:
        """Replace every process, one at a time: each new one serves before the old one is
        stopped (once its requests are answered); an old one stays if its successor fails.
        Reloads run one after another, so each ends with processes started after it began."""
        async with self._reloading:
            for old in list(self.processes):
                await self._relieve(old)

    def close(self) -> None:
        self._closing = True
        if self._pinger is not None:
            self._pinger.cancel()
        for process in self.processes:
            self._stop(process)

    # -- internals ----------------------------------------------------------------------
    async def _relieve(self, old: _Process) -> None:
        """Replace one process for ``reload``."""
        fresh = self._spawn()
        try:
            await asyncio.wait_for(asyncio.shield(fresh.ready), STARTUP_TIMEOUT_S)
            started = True
        except (ScreeningUnavailableError, TimeoutError):
            log.error("a new screening process did not start; keeping [%s]", old.process.pid)
            started = False
        if not started or old not in self.processes:  # (the old one died meanwhile and was replaced)
            fresh.draining = True
            await asyncio.to_thread(self._stop, fresh)
            return
        self.processes[self.processes.index(old)] = fresh
        self._next_in_queue()
        old.draining = True
        while old.waiting:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(self._stop, old)

    def _ping(self) -> None:
        """Ping every loaded process whose last ping was answered, every ``PING_S``. Only when the
        pipe is free: a send in progress (a large upload) holds it, and a ping waits its turn."""
        for process in self.processes:
            if process.loaded and not process.pinged and self._send_if_free(process, _PING_MESSAGE, 0):
                process.pinged = True
        self._pinger = asyncio.get_running_loop().call_later(PING_S, self._ping)

    def _spawn(self) -> _Process:
        """Start a screening process and watch its pipe from the event loop.

        The pipe is put back into blocking mode once it is watched: uvloop (libuv's ``uv_poll_init``)
        makes a watched descriptor non-blocking, and ``Connection.send_bytes`` of a message larger
        than the socket's buffer (~210 kB: any upload over ~270 kB) then raised ``BlockingIOError``
        halfway through it. The process was left reading the rest of a message that never came, and
        took the next request's bytes for it (a 30 s hang, or garbage unpickled: ``MemoryError``).
        A reader woken by the loop finds a whole message coming (the process writes each at once)."""
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(self.home, child), name="clearance-screening",
                                        daemon=True)
        process.start()
        child.close()
        loop = asyncio.get_running_loop()
        entry = _Process(process, parent, loop.create_future())
        entry.ready.add_done_callback(_retrieved)  # a failed start is shown by ``ready`` and the log
        loop.add_reader(parent.fileno(), self._on_message, entry)
        os.set_blocking(parent.fileno(), True)  # after add_reader, which cleared it (see the docstring)
        return entry

    async def _call_on(self, process: _Process, call: tuple[str, tuple[Any, ...], dict[str, Any]],
                       watched: bool) -> Any:
        """Send (method, args, kwargs) to ``process`` and await its answer; ``watched``: replace the
        process if it does not answer within ``overdue_s`` (not for a registry catch-up, which
        may rebuild indexes for longer than any screening takes)."""
        request = next(self._ids)
        answer = asyncio.get_running_loop().create_future()
        answer.add_done_callback(_retrieved)  # its caller may have given up (time limit) before it came
        process.waiting[request] = answer
        if _lane(call[0]) == "media":
            process.media.add(request)
        process.tenants[request] = call[2].get("tenant")
        message = ForkingPickler.dumps((request, *call))
        try:
            if len(message) <= INLINE_BYTES and process.send_lock.acquire(blocking=False):
                try:
                    process.conn.send_bytes(message)
                finally:
                    process.send_lock.release()
            else:  # a large upload fills the pipe faster than the process drains it: not on the loop
                await asyncio.to_thread(self._send, process, message)
        except OSError as exc:
            process.settle(request)
            self._broken(process, exc)
            raise ScreeningUnavailableError(f"the screening process [{process.process.pid}] exited") from None
        if watched and process.loaded:  # one still loading is not stuck, only busy
            watchdog = asyncio.get_running_loop().call_later(self.overdue_s, self._overdue, process, request)
            answer.add_done_callback(lambda _: watchdog.cancel())
        return await asyncio.shield(answer)  # a caller that gives up leaves it to the process (and watchdog)

    @staticmethod
    def _broken(process: _Process, exc: OSError) -> None:
        """A send failed, maybe partway through a message: the pipe's stream can no longer be
        trusted, so the process is killed (``_lost`` then starts another and fails what it held)
        rather than left to read the next request as the rest of this one."""
        if process.process.is_alive():
            log.error("sending to screening process [%s] failed (%s); replacing it", process.process.pid, exc)
            process.process.kill()

    def _overdue(self, process: _Process, request: int) -> None:
        """A request took longer than any screening should: the process is stuck (or pathologically
        slow), and would hold its slots for good. Kill it; ``_lost`` fails what it held closed and
        starts another."""
        if request in process.waiting and process.process.is_alive():
            log.error("screening process [%s] did not answer in %g s; replacing it", process.process.pid,
                      self.overdue_s)
            process.process.kill()

    @staticmethod
    def _send(process: _Process, message: bytes | memoryview) -> None:
        with process.send_lock:
            process.conn.send_bytes(message)

    def _on_message(self, process: _Process) -> None:
        try:
            request, ok, value = process.conn.recv()
        except (EOFError, OSError):
            self._lost(process)
            return
        if request == PING or request is None:
            process.answered_at, process.pinged = time.monotonic(), False
        if request == PING:
            return
        if request is None:  # the process is ready (ok), or could not start
            _settle(process.ready, ok, value)
            self._early_deaths = 0 if ok else self._early_deaths
            return
        lane = process.lane_of(request)
        answer = process.settle(request)
        if answer is not None and not answer.done():
            _settle(answer, ok, value)
        self._next_in_queue(lane)

    def _next_in_queue(self, lane: str | None = None) -> None:
        """A slot of ``lane`` came free: a request of that lane looks again, the one whose tenant holds
        fewest slots of the lane, the longest-waiting of those (``_Turn``); every request, when
        processes came or went (``lane`` None). Requests of the other lane keep their places: woken,
        they would find no slot of theirs, and the one that could go would sleep on. One pass over
        the queue, with each tenant's slots counted once: this runs on every answer."""
        if lane is None:
            while self._queue:
                turn = self._queue.popleft()
                if not turn.future.done():
                    turn.future.set_result(None)
            return
        held = collections.Counter(who for p in self.processes for request, who in p.tenants.items()
                                   if p.lane_of(request) == lane)
        best: _Turn | None = None
        for turn in self._queue:
            if turn.lane == lane and not turn.future.done() and (best is None or held[turn.tenant] < held[best.tenant]):
                best = turn
                if not held[turn.tenant]:
                    break  # none holds fewer
        while self._queue and self._queue[0].future.done():  # callers that gave up (time limit)
            self._queue.popleft()
        if best is not None:
            self._queue.remove(best)
            best.future.set_result(None)

    def _lost(self, process: _Process) -> None:
        """The process exited: fail what it held, and start another in its place, unless it
        reported that it could not start, or processes keep dying before they are ready (either
        would happen again: the error stays in ``ready`` and the log)."""
        asyncio.get_running_loop().remove_reader(process.conn.fileno())
        could_not_start = process.failed_to_start
        if not process.ready.done():
            self._early_deaths += 1
        gone = ScreeningUnavailableError(f"the screening process [{process.process.pid}] exited")
        for answer in [process.ready, *process.waiting.values()]:
            if not answer.done():
                answer.set_exception(gone)
        process.waiting.clear()
        process.media.clear()
        process.tenants.clear()
        process.process.join(timeout=1)  # it closed its pipe: it has exited or is exiting
        if process in self.processes and not (self._closing or process.draining or could_not_start):
            if self._early_deaths > MAX_EARLY_DEATHS:
                log.error("screening processes keep exiting before they are ready; not starting more")
            else:
                log.warning("screening process [%s] exited; starting another", process.process.pid)
                self.processes[self.processes.index(process)] = self._spawn()
        self._next_in_queue()

    @staticmethod
    def _send_if_free(process: _Process, message: bytes, wait_s: float) -> bool:
        """Send a small message unless the pipe stays held (a large upload being sent) for ``wait_s``;
        whether it went. A process that has exited takes nothing: ``_lost`` hears of it from the pipe."""
        if not process.send_lock.acquire(timeout=wait_s):
            return False
        try:
            process.conn.send_bytes(message)
            return True
        except OSError:
            return False
        finally:
            process.send_lock.release()

    @staticmethod
    def _stop(process: _Process) -> None:
        """Ask the process to finish by message (it exits as a returning process does, its exit hooks
        run); one that does not within 10 s is killed."""
        if process.process.is_alive():
            ScreeningPool._send_if_free(process, _STOP_MESSAGE, 5)
        process.process.join(timeout=10)
        if process.process.is_alive():
            process.process.kill()
            process.process.join(timeout=10)


_PING_MESSAGE = ForkingPickler.dumps((PING, "ping", (), {}))
_STOP_MESSAGE = ForkingPickler.dumps((STOP, "stop", (), {}))


def _lane(method: str) -> str:
    """The lane (``LANES``) of a call of ``Screener.<method>``."""
    return "media" if method == "screen_media" else "prompt"


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a future's error as seen (asyncio logs unseen ones when they are collected)."""
    if not future.cancelled():
        future.exception()


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value if isinstance(value, BaseException) else RuntimeError(str(value)))


def _serve(home: Home, conn: Connection) -> None:  # pragma: no cover - runs in the screening process
    """A screening process: load, say ready, then answer requests until the pipe closes."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the HTTP process stops us
    stop_by: list[float] = []  # when a SIGTERM came: the time past which to leave once idle
    signal.signal(signal.SIGTERM, lambda *_: stop_by.append(time.monotonic() + STOP_GRACE_S))
    for threads in ("CLEARANCE_MEDIA_THREADS", "CLEARANCE_TEXT_THREADS"):  # the processes fill the cores
        os.environ.setdefault(threads, "1")
    lock = threading.Lock()
    held = [0]  # requests taken and not yet answered

    def reply(request: int | None, ok: bool, value: Any) -> None:
        with lock:
            held[0] -= request is not None and request >= 0
            conn.send((request, ok, value))

    try:
        from clearance.screening import Screener

        screener = Screener(home)
        screener.warm_up()
        screener.follow_registry()
    except Exception as exc:  # reported to the HTTP process, which fails closed
        reply(None, False, ScreeningUnavailableError(f"screening could not start: {type(exc).__name__}: {exc}"))
        return
    reply(None, True, None)
    # a pool of threads per lane: prompts keep their own two threads (with one pool of four, a
    # prompt-only load spread over four threads: 188-236 requests/s at most against 232-246, one-off)
    with ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="screen") as prompt_threads, \
            ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="screen-media") as media_threads:
        while not (stop_by and time.monotonic() >= stop_by[0] and not held[0]):
            if not conn.poll(POLL_S):
                continue
            try:
                request, method, args, kwargs = conn.recv()
            except (EOFError, OSError):
                return
            if request == STOP:  # the requests in hand finish as the pool of threads closes
                return
            if request == PING:  # answered here, not on a screening thread: busy threads do not delay it
                reply(PING, True, None)
                continue
            with lock:
                held[0] += 1
            threads = media_threads if _lane(method) == "media" else prompt_threads
            threads.submit(_answer, getattr(screener, method) if method in METHODS else None, args, kwargs,
                           lambda ok, value, r=request: reply(r, ok, value))


def _answer(call: Callable[..., Any] | None, args: tuple[Any, ...], kwargs: dict[str, Any],
            reply: Callable[[bool, Any], None]) -> None:
    try:
        if call is None:
            raise ValueError("not a screening method")
        value = call(*args, **kwargs)
    except Exception as exc:  # the caller turns it into a fail-closed verdict
        reply(False, RuntimeError(f"{type(exc).__name__}: {exc}"))
        return
    reply(True, value)
