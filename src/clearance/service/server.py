"""Run the app under uvicorn, with one or several worker processes sharing one listening socket.

Why not plain ``uvicorn.run``: with ``workers > 1`` uvicorn binds the listening socket itself
and leaves its ``proto`` at 0, so asyncio never turns on ``TCP_NODELAY`` for accepted
connections and every keep-alive response waits ~40 ms on the client's delayed ACK
(uvicorn issue #3149; measured here: /healthz p50 44 ms with 2 workers, 1 ms with 1).
Re-wrapping the socket lets Python read the real protocol from the kernel.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.service.rate_limit import TABLE_ENV, create_table

APP = "clearance.service.app:create_app"


class TcpConfig(uvicorn.Config):
    """A uvicorn config whose pre-bound socket reports ``IPPROTO_TCP`` (so workers set TCP_NODELAY)."""

    def bind_socket(self) -> socket.socket:
        bound = super().bind_socket()
        if bound.family not in (socket.AF_INET, socket.AF_INET6):
            return bound
        rewrapped = socket.socket(fileno=bound.detach())  # family, type and proto read from the kernel
        rewrapped.set_inheritable(True)
        return rewrapped


def serve(home: Home, host: str, port: int, workers: int) -> None:
    """Serve ``home`` until interrupted. Models load once per worker process."""
    os.environ["CLEARANCE_HOME"] = str(home.root)
    os.environ["CLEARANCE_DATABASE_URL"] = home.database_url
    # concurrent requests already use the cores; one native thread per model and per search
    # avoids oversubscribing them when several workers run side by side
    for name in ("CLEARANCE_TEXT_THREADS", "CLEARANCE_MEDIA_THREADS"):
        os.environ.setdefault(name, "1")
    session_factory(home.database_url)  # migrate once, before workers start
    config = TcpConfig(APP, factory=True, host=host, port=port, workers=workers, log_level="warning")
    table = _rate_table(home)
    os.environ[TABLE_ENV] = str(table)
    try:
        if workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            uvicorn.Server(config).run()
    finally:
        table.unlink(missing_ok=True)


def _rate_table(home: Home) -> Path:
    """A new table of the workers' shared rate-limit buckets, named by this server's process id.

    In the home, where no temp cleaner deletes it under a server that runs for weeks (a worker
    that uvicorn restarts opens it again). One per server, so a second server started by mistake
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
