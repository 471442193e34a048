"""Run the app under uvicorn, with one or several worker processes, each on its own socket.

Why not ``uvicorn.run(workers=N)``: uvicorn gives every worker one shared listening socket, and
whichever worker wakes first takes each new connection. Clients keep their connections alive, so
that split is the split of the load for as long as they stay open, and it was lopsided:
measured with 2 workers at 200 prompt requests/s over 64 keep-alive connections, one worker
did 0.75 s of CPU per second and the other 0.36, and the busy one's queue made p99 44-170 ms.
Here each worker listens on its own ``SO_REUSEPORT`` socket for the same address, so the kernel
spreads connections over the workers by a hash of each connection (0.48-0.61 s/s each,
p99 28-37 ms in the same test minutes later). The sockets belong to this supervisor: connections that arrive
while a worker is being restarted wait in its socket's queue instead of being refused.

The sockets are made with ``IPPROTO_TCP`` as their protocol, so asyncio turns on ``TCP_NODELAY``
for accepted connections (a socket uvicorn binds for its workers reports 0 and every keep-alive
answer waits ~40 ms on the client's delayed ACK; uvicorn issue #3149).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from pathlib import Path

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Process

from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.service.rate_limit import TABLE_ENV, create_table

APP = "clearance.service.app:create_app"
# How long a new worker may take to import the app and open its home before a reload gives up
# on it and keeps the old one. uvicorn uses its 5 s health-check timeout for this, and in CI (a
# fresh clone, cold disk cache, the other worker warming its models on the same two cores) a new
# worker took longer: the reload kept an old worker although nothing was wrong.
STARTUP_TIMEOUT_S = 60.0
log = logging.getLogger("uvicorn.error")


class CannotListenError(OSError):
    """The address cannot be listened on: unknown host, no permission, or something already
    listens there (another ``clearance serve`` included)."""


def serve(home: Home, host: str, port: int, workers: int) -> None:
    """Serve ``home`` until interrupted. Models load once per worker process."""
    os.environ["CLEARANCE_HOME"] = str(home.root)
    os.environ["CLEARANCE_DATABASE_URL"] = home.database_url
    # concurrent requests already use the cores; one native thread per model and per search
    # avoids oversubscribing them when several workers run side by side
    for name in ("CLEARANCE_TEXT_THREADS", "CLEARANCE_MEDIA_THREADS"):
        os.environ.setdefault(name, "1")
    session_factory(home.database_url)  # migrate once, before workers start
    config = uvicorn.Config(APP, factory=True, host=host, port=port, workers=workers, log_level="warning")
    sockets = listening_sockets(host, port, workers, config.backlog)
    table = _rate_table(home)
    os.environ[TABLE_ENV] = str(table)
    try:
        if workers > 1:
            Workers(config, sockets).run()
        else:
            uvicorn.Server(config).run(sockets=sockets)
    finally:
        table.unlink(missing_ok=True)
        for sock in sockets:
            sock.close()


def listening_sockets(host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """``count`` TCP sockets listening on one address (``SO_REUSEPORT`` when more than one).

    The address is first bound once without ``SO_REUSEPORT``, which fails if anything listens
    there: otherwise a second server started by mistake on the same port would silently join
    this one's sockets and take a share of its connections. Port 0 picks a free port."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             proto=socket.IPPROTO_TCP)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
            address = probe.getsockname()
    except OSError as exc:
        raise CannotListenError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sockets = []
    for _ in range(count):
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if count > 1:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


class Workers:
    """One uvicorn worker process per socket. A worker that dies, or stops answering the
    supervisor's pings, is replaced on its own socket; SIGHUP replaces every worker one at a time
    (each new one serving before the old one stops, as uvicorn does); SIGINT or SIGTERM stops them all."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        self.config = config
        self.sockets = sockets
        self.stop = threading.Event()
        self.reload = threading.Event()

    def run(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop.set())
        signal.signal(signal.SIGHUP, lambda *_: self.reload.set())
        processes = [self._start(sock) for sock in self.sockets]
        while not self.stop.wait(0.5):
            for slot, process in enumerate(processes):
                if self.reload.is_set():
                    processes[slot] = self._relieve(process, self.sockets[slot])
                elif not process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                    processes[slot] = self._replace(process, self.sockets[slot])
            self.reload.clear()
        for process in processes:
            process.terminate()
        for process in processes:
            process.join()

    def _start(self, sock: socket.socket) -> Process:
        process = Process(self.config, [sock])
        process.start()
        return process

    def _replace(self, process: Process, sock: socket.socket) -> Process:
        """A new worker on the socket of one that died or hung (none if it never started:
        the app or its home is broken, and would be again)."""
        process.kill()
        process.join()
        if process.exitcode == STARTUP_FAILURE:
            log.error("worker [%s] failed to start; stopping", process.pid)
            self.stop.set()
            return process
        log.warning("worker [%s] died; starting another on its socket", process.pid)
        return self._start(sock)

    def _relieve(self, process: Process, sock: socket.socket) -> Process:
        """A new worker on this socket once it serves, then the old one stopped; the old one stays
        if the new one does not come up in time."""
        fresh = self._start(sock)
        if not fresh.wait_until_ready(STARTUP_TIMEOUT_S, self.stop):
            fresh.kill()
            fresh.join()
            log.error("a new worker was not ready in time; keeping worker [%s]", process.pid)
            return process
        process.terminate()
        process.join()
        return fresh


def _rate_table(home: Home) -> Path:
    """A new table of the workers' shared rate-limit buckets, named by this server's process id.

    In the home, where no temp cleaner deletes it under a server that runs for weeks (a worker
    that is restarted opens it again). One per server, so a second server started by mistake
    on the same port never resets or deletes the first one's; the tables of servers that died
    without cleaning up (``kill -9``) are removed here."""
    home.service_dir.mkdir(exist_ok=True)
    for stale in home.service_dir.glob("rate-*.table"):
        owner = stale.stem.removeprefix("rate-")
        if owner.isdigit() and not _alive(int(owner)):
            stale.unlink(missing_ok=True)
    return create_table(home.service_dir / f"rate-{os.getpid()}.table")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
