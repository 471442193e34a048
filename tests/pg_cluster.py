"""A throwaway PostgreSQL cluster (initdb + pg_ctl on a free loopback port), for tests and benchmarks.

Runs as the ``postgres`` user when started as root (initdb refuses root). Missing binaries
raise, rather than skip: the install step provides them.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        raise RuntimeError(f"PostgreSQL binary {name!r} not found: run the install step (it installs postgresql)")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a cluster; yield its base URL (``postgresql://postgres@127.0.0.1:PORT``)."""
    root = Path(tempfile.mkdtemp(prefix="clearance-pg-"))
    datadir, sockdir = root / "data", root / "sock"
    sockdir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockdir, "postgres")
    port = _free_port()
    subprocess.run(_as_postgres([_pg_bin("initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust",
                                 "-E", "UTF8", "--no-instructions"]), check=True, capture_output=True)
    options = f"-p {port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(datadir), "-o", options, "-w", "-l",
                                 str(root / "log"), "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: str) -> str:
    """A fresh, empty database on the cluster; returns its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"
