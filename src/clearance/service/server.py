"""Run the app under uvicorn: one HTTP process, with screening in a pool of processes.

Why not ``uvicorn.run(workers=N)``: every worker then has its own queue, fed by the keep-alive
connections the kernel gave it, and one worker queued while the other idled (measured with two
workers at 200 prompt requests/s over 64 connections: 0.75 s of CPU per second on one, 0.36 on
the other). The app's ``ScreeningPool`` gives every screening to the least busy of N processes
instead (``service/pool.py``), so the queue is one; ``--workers`` sets N.

The socket is made with ``IPPROTO_TCP`` as its protocol, so asyncio turns on ``TCP_NODELAY``
for accepted connections (without it every keep-alive answer waits ~40 ms on the client's
delayed ACK; uvicorn issue #3149).
"""

from __future__ import annotations

import os
import socket

import uvicorn

from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.service.app import PROCESSES_ENV

APP = "clearance.service.app:create_app"


class CannotListenError(OSError):
    """The address cannot be listened on: unknown host, no permission, or something already
    listens there (another ``clearance serve`` included)."""


def serve(home: Home, host: str, port: int, workers: int) -> None:
    """Serve ``home`` until interrupted, with ``workers`` screening processes."""
    os.environ["CLEARANCE_HOME"] = str(home.root)
    os.environ["CLEARANCE_DATABASE_URL"] = home.database_url
    os.environ[PROCESSES_ENV] = str(workers)
    session_factory(home.database_url)  # migrate once, before any process opens the database
    config = uvicorn.Config(APP, factory=True, host=host, port=port, log_level="warning")
    with listening_socket(host, port, config.backlog) as sock:
        uvicorn.Server(config).run(sockets=[sock])


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` (port 0 picks a free port), or a
    ``CannotListenError`` that says why not (unknown host, address in use, no permission)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             proto=socket.IPPROTO_TCP)[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(backlog)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        raise CannotListenError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock
