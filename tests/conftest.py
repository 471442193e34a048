"""Shared fixtures: the dev data, a throwaway home, and a real throwaway PostgreSQL cluster.

The PostgreSQL cluster (``tests/pg_cluster.py``) is started once per test session. Missing
PostgreSQL binaries fail the tests loudly instead of skipping: the install step provides
them, and a silent skip would hide a whole backend from CI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from clearance.home import Home
from clearance.model_cache import SCRATCH_PREFIX
from tests.pg_cluster import create_database, throwaway_cluster

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WORKS_YAML = DATA / "text" / "works.yaml"
PROBES = Path(__file__).resolve().parents[1] / "data" / "probes"
"""Independent prompt probes and six more works (data/probes/README.md)."""


def unwritable_model_cache(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """Environment variables under which the model cache cannot be created (its path runs through a
    file), with ``TMPDIR`` a fresh folder, and that folder: where a process then builds its models."""
    blocker, scratch = tmp_path / "a-file", tmp_path / "tmp"
    blocker.write_text("not a directory")
    scratch.mkdir()
    return {"CLEARANCE_MODEL_CACHE": str(blocker / "cache"), "TMPDIR": str(scratch)}, scratch


@contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """``folder`` with nothing to be created, renamed or deleted in it, for this process too: as
    root, which no permission bits stop (tests run as root here and in CI), the immutable flag;
    otherwise the write bits taken away."""
    flag = os.geteuid() == 0
    if flag:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
    try:
        yield
    finally:
        if flag:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        else:
            folder.chmod(0o755)


def model_scratch_dirs(scratch: Path) -> list[Path]:
    """The processes' temporary model directories (``clearance.model_cache``) in ``scratch``."""
    return list(scratch.glob(f"{SCRATCH_PREFIX}*"))


@pytest.fixture(autouse=True)
def clearance_environment() -> Iterator[None]:
    """Each test leaves the ``CLEARANCE_*`` environment as it found it: the CLI sets
    ``$CLEARANCE_HOME`` and ``$CLEARANCE_DATABASE_URL`` from options given before the command,
    and a test driving it in process would otherwise point every later test at its home."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("CLEARANCE_")}
    yield
    for name in [name for name in os.environ if name.startswith("CLEARANCE_") and name not in saved]:
        del os.environ[name]
    os.environ.update(saved)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"dev data not found at {DATA} (shared/ must sit beside the repository)")
    return DATA


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A fresh home with the embedded defaults (SQLite inside it)."""
    return Home.resolve(tmp_path / "home")


@pytest.fixture(scope="module")
def registered_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A home with the dev registry imported through the CLI (one per test module)."""
    from typer.testing import CliRunner

    from clearance.cli import app

    home = Home.resolve(tmp_path_factory.mktemp("registered") / "home")
    result = CliRunner().invoke(app, ["registry", "import", str(WORKS_YAML), "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A throwaway cluster for the whole test session; yields its base URL."""
    try:
        with throwaway_cluster() as server:
            yield server
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the throwaway cluster."""
    return create_database(pg_server)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_home(request: pytest.FixtureRequest, tmp_path: Path) -> Home:
    """A home on SQLite and, in a second run of the test, on PostgreSQL."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    return Home.resolve(tmp_path / "home", url)


def worker_processes(parent: int) -> list[int]:
    """Pids of the spawned pool workers of process ``parent`` (not its resource tracker)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in cmdline:
            pids.append(int(stat.parent.name))
    return pids


def holding(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open (a worker reading that shard)."""
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


@dataclass
class KilledRun:
    """A CLI run whose worker processes were killed: its exit code, output and the pids killed."""

    returncode: int
    out: str
    err: str
    killed: set[int]


def run_killing_workers(args: list[str], kill: Callable[[int], bool]) -> KilledRun:
    """Run ``clearance ARGS`` as a real process and ``SIGKILL`` each of its worker processes for which
    ``kill(pid)`` holds (as the kernel's out-of-memory killer or a crash in native code ends one),
    until it exits."""
    proc = subprocess.Popen([sys.executable, "-m", "clearance.cli.main", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    killed: set[int] = set()
    deadline = time.time() + 240
    while proc.poll() is None and time.time() < deadline:
        for pid in set(worker_processes(proc.pid)) - killed:
            if kill(pid):
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
        time.sleep(0.005)
    out, err = proc.communicate(timeout=10)
    return KilledRun(proc.returncode, out, err, killed)
