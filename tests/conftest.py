"""Shared fixtures: the dev data, a throwaway home, and a real throwaway PostgreSQL cluster.

The PostgreSQL cluster is started once per test session with initdb/pg_ctl on a free
loopback port (as the ``postgres`` user when the tests run as root, since initdb refuses
root). Missing PostgreSQL binaries fail the tests loudly instead of skipping: the install
step provides them, and a silent skip would hide a whole backend from CI.
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
from pathlib import Path

import pytest

from clearance.home import Home

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WORKS_YAML = DATA / "text" / "works.yaml"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"dev data not found at {DATA} (shared/ must sit beside the repository)")
    return DATA


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A fresh home with the embedded defaults (SQLite inside it)."""
    return Home.resolve(tmp_path / "home")


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        pytest.fail(f"PostgreSQL binary {name!r} not found: run the install step (it installs postgresql)")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Start a throwaway cluster; yield its base URL (without database name)."""
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


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the throwaway cluster."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg_server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_home(request: pytest.FixtureRequest, tmp_path: Path) -> Home:
    """A home on SQLite and, in a second run of the test, on PostgreSQL."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    return Home.resolve(tmp_path / "home", url)
