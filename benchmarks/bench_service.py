"""Service benchmark: sustained prompt-screening requests/s and latency over loopback HTTP.

    python benchmarks/bench_service.py            # 10,000 works; 1 and 2 workers; SQLite and PostgreSQL
    python benchmarks/bench_service.py --smoke    # CI smoke: 200 works, SQLite, 1 worker, short runs

For each configuration a `clearance serve` is started on 127.0.0.1 and driven by a load
generator in this process that speaks HTTP/1.1 over keep-alive sockets directly: an httpx
client cost more CPU per request than the server's own HTTP layer, on the same two cores.

- **sustained**: open loop. Requests are sent on a fixed schedule (rate R, no matter how fast
  answers come back) and each latency is measured from its *scheduled* send time, so a stalled
  server cannot hide queueing (no coordinated omission). R climbs a ladder; the sustained rate
  is the highest R whose p99 stays within the latency target with 0 errors.
  Each rung records the CPU seconds per second of the HTTP process and of each screening process.
- **max**: closed loop, a few connections per screening process sending back to back: peak throughput,
  and the server's CPU time per request (all its processes), which other load on a shared
  machine disturbs far less than throughput: 2 cores / that time bounds what the server can do.

Every request is audited, as in production. The dev prompts are sent in a loop, in an order shuffled
once with a fixed seed (``mixed``): the file is grouped by kind, and in file order its 79 indirect
prompts, 2.5x longer than the rest, arrived back to back for 0.4 s of every 2.1 s at 200/s, a burst
of the most expensive requests that no real mix has. Each configuration is also run once at 200/s
in file order (``in_file_order``), so what that burst does stays on record, and
``TARGET_REPEATS`` more times at 200/s in the shuffled order (``target_windows``): how often
the target held, not only whether it held once. "Workers" are the
server's screening processes (``--workers``), behind its one HTTP process. Peak RSS of each
process is read from /proc (VmHWM) at the end of each configuration. Only 127.0.0.1 is targeted
and every run stops after a fixed time.
"""

from __future__ import annotations

import clearance  # noqa: F401 - first: it loads BLAS with one thread (see clearance/__init__.py)

# isort: split

import argparse
import asyncio
import gc
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from bench_prompts import generated_registry
from common import DATA, SCRATCH, fresh_scratch, percentiles_ms, reuse_prompt_embeddings, write_result

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.keys import KeyStore
from clearance.screening import Screener
from tests.pg_cluster import create_database, throwaway_cluster

HOST = "127.0.0.1"
ORDER_SEED = 7
P99_TARGET_MS = 50.0
TARGET_PER_S = 200
"""The issue's target rate: each configuration is also run at it with the prompts in file order."""
TARGET_REPEATS = 3
"""Extra windows at the target rate after the ladder: one window within target says little on a
machine whose speed moves by the minute (p99 at 200/s ranged 20-336 ms over one morning), so the
record says in how many of the 1 + TARGET_REPEATS windows at that rate the p99 held."""
LADDER = (50, 100, 150, 200, 250, 300)
CONNECTIONS_PER_WORKER = 3


def prepare_home(path: Path, registry: Path, database_url: str | None) -> tuple[Home, str]:
    home = Home.resolve(path, database_url)
    reuse_prompt_embeddings(home)
    screener = Screener(home)
    screener.registry.import_file(registry)
    screener.warm_up()
    key = KeyStore(session_factory(home.database_url)).create("bench", "screener")[1]
    return home, key


class Connection:
    """One keep-alive HTTP/1.1 connection: send a prepared request, read the status and body."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, request: bytes) -> int:
        if self.streams is None:
            self.streams = await asyncio.open_connection(HOST, self.port)
        reader, writer = self.streams
        try:
            writer.write(request)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            return status
        except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
            writer.close()
            self.streams = None
            return 0


def mixed(prompts: list[str]) -> list[str]:
    """The prompts in one fixed shuffled order: the mix of kinds a platform sees, not the file's blocks."""
    order = list(prompts)
    random.Random(ORDER_SEED).shuffle(order)
    return order


def requests_for(prompts: list[str], key: str, port: int) -> list[bytes]:
    def one(prompt: str) -> bytes:
        body = json.dumps({"prompt": prompt}).encode()
        head = (f"POST /v1/screen/prompt HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        return head.encode() + body

    return [one(p) for p in prompts]


async def open_loop(port: int, requests: list[bytes], rate: float, seconds: float) -> dict:
    """Send at ``rate`` requests/s for ``seconds``; latency from each request's scheduled time."""
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(64):
        idle.put_nowait(Connection(port))
    latencies: list[float] = []
    statuses: list[int] = []

    async def one(request: bytes, scheduled: float) -> None:
        connection = await idle.get()
        statuses.append(await connection.exchange(request))
        latencies.append(time.perf_counter() - scheduled)
        idle.put_nowait(connection)

    start = time.perf_counter()
    tasks = []
    for i in range(int(rate * seconds)):
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        tasks.append(asyncio.create_task(one(requests[i % len(requests)], scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    return {"offered_per_s": rate, "requests_per_s": round(len(statuses) / elapsed, 1),
            "errors": sum(not 200 <= s < 300 for s in statuses), **percentiles_ms(latencies)}


async def closed_loop(port: int, requests: list[bytes], connections: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: list[int] = []
    stop = time.perf_counter() + seconds

    async def user(offset: int) -> None:
        connection, i = Connection(port), offset
        while time.perf_counter() < stop:
            sent = time.perf_counter()
            statuses.append(await connection.exchange(requests[i % len(requests)]))
            latencies.append(time.perf_counter() - sent)
            i += connections

    await asyncio.gather(*(user(n) for n in range(connections)))
    return {"connections": connections, "requests_per_s": round(len(statuses) / seconds, 1),
            "errors": sum(not 200 <= s < 300 for s in statuses), **percentiles_ms(latencies)}


def drive(load: Coroutine[Any, Any, dict]) -> dict:
    """Run one load with this process's garbage collector paused. Its collections otherwise show as
    server latency: a full collection over the objects this process holds (it built the home) took
    ~110 ms, and every request scheduled meanwhile was sent that much late (2026-12-05, two 120 s
    runs at 200/s: one of the two stalls above 100 ms in each was this process's own)."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        return asyncio.run(load)
    finally:
        gc.enable()


def screening_pids(server_pid: int) -> list[int]:
    """The server's screening processes (its children started by multiprocessing's spawn)."""
    out = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(server_pid)], capture_output=True, text=True)
    return [int(line.split()[0]) for line in out.stdout.splitlines() if "spawn_main" in line]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (robust to other load on the machine)."""
    return sum(cpu_by_process(pids).values())


def cpu_by_process(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each of these processes that is still running."""
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def process_load(before: dict[int, float], seconds: float) -> list[float]:
    """CPU seconds per second each process spent since ``before``."""
    after = cpu_by_process(list(before))
    return [round((after[pid] - before[pid]) / seconds, 2) for pid in before if pid in after]


def database_pids(database_url: str) -> list[int]:
    """The PostgreSQL server processes behind ``database_url`` (postmaster, backends, background
    workers), found by the port on the postmaster's command line: on this machine a request
    costs their CPU too, which the server's own processes do not show. Empty for SQLite."""
    port = urlsplit(database_url).port
    if not database_url.startswith("postgresql") or port is None:
        return []
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,args="], capture_output=True, text=True).stdout
    rows = [line.split(None, 2) for line in out.splitlines() if len(line.split(None, 2)) == 3]
    postmasters = [int(pid) for pid, _, args in rows if "postgres" in args and f"-p {port}" in args]
    children = [int(pid) for pid, ppid, _ in rows if int(ppid) in postmasters]
    return postmasters + children


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def server(home: Home, workers: int, source: Path | None = None) -> Iterator[tuple[int, int]]:
    """A `clearance serve` on a free loopback port, ready (every screening process warmed up); yields
    (port, pid of its HTTP process).
    ``source``: another source tree of Clearance to run instead of the installed one."""
    port = free_port()
    cmd = [sys.executable, "-m", "clearance.cli.main", "serve", "--host", HOST, "--port", str(port),
           "--workers", str(workers), "--home", str(home.root), "--database-url", home.database_url]
    env = {**os.environ, "CLEARANCE_RATE_PER_S": "100000", "CLEARANCE_RATE_BURST": "100000"}
    if source is not None:
        env["PYTHONPATH"] = str(source / "src")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                if httpx.get(f"http://{HOST}:{port}/healthz", timeout=1).json()["ready"]:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        yield port, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def closed_loop_cpu(port: int, requests: list[bytes], pids: list[int], connections: int, seconds: float,
                    database_url: str = "") -> dict:
    """``closed_loop`` after 3 s of warm-up (every process's caches), with the server's CPU time per
    request (all of ``pids``) and, on PostgreSQL, the database server's (``database_pids``)."""
    drive(closed_loop(port, requests, connections, 3))
    cpu_before = cpu_seconds(pids)
    database_before = cpu_by_process(database_pids(database_url))
    load = drive(closed_loop(port, requests, connections, seconds))
    load["server_cpu_ms_per_request"] = round(1000 * (cpu_seconds(pids) - cpu_before) / max(load["n"], 1), 2)
    if database_before:
        after = cpu_by_process(list(database_before))
        spent = sum(after[pid] - database_before[pid] for pid in after)
        load["database_cpu_ms_per_request"] = round(1000 * spent / max(load["n"], 1), 2)
    return load


def measure(home: Home, key: str, workers: int, seconds: float, ladder: tuple[int, ...],
            prompts: list[str]) -> dict:
    with server(home, workers) as (port, pid):
        requests = requests_for(mixed(prompts), key, port)
        pids = [pid, *screening_pids(pid)]
        peak = closed_loop_cpu(port, requests, pids, CONNECTIONS_PER_WORKER * workers, seconds, home.database_url)
        steps = []
        for rate in ladder:
            before = cpu_by_process(pids)
            steps.append(drive(open_loop(port, requests, rate, seconds)))
            http, *screening = process_load(before, seconds)
            steps[-1]["cpu_s_per_s"] = {"http": http, "screening": screening}
            print(f"  {workers} worker(s) at {rate}/s: p50 {steps[-1]['p50_ms']} ms, p99 {steps[-1]['p99_ms']} ms, "
                  f"{steps[-1]['errors']} errors, CPU s/s {steps[-1]['cpu_s_per_s']}", flush=True)
            if steps[-1]["p99_ms"] > 4 * P99_TARGET_MS:
                break  # well past saturation: higher rates only queue
        target = min(TARGET_PER_S, ladder[-1])
        repeats = [drive(open_loop(port, requests, target, seconds)) for _ in range(TARGET_REPEATS)]
        at_target = [s for s in steps if s["offered_per_s"] == target] + repeats
        print(f"  {workers} worker(s) at {target}/s, every window: p99 "
              f"{', '.join(str(s['p99_ms']) for s in at_target)} ms", flush=True)
        in_file_order = drive(open_loop(port, requests_for(prompts, key, port), target, seconds))
        print(f"  {workers} worker(s) at {in_file_order['offered_per_s']}/s in file order: "
              f"p50 {in_file_order['p50_ms']} ms, p99 {in_file_order['p99_ms']} ms", flush=True)
        http_rss, *screening_rss = (peak_rss_mb(p) for p in pids)
    within = [s for s in steps if _within(s)]
    sustained = max(within, key=lambda s: s["offered_per_s"]) if within else steps[0]
    return {"workers": workers, **{k: sustained[k] for k in ("requests_per_s", "errors", "p50_ms", "p99_ms")},
            "sustained_within_target": bool(within), "max": peak, "ladder": steps, "in_file_order": in_file_order,
            "target_per_s": target,
            "target_windows": [{k: s[k] for k in ("p50_ms", "p99_ms", "errors")} for s in at_target],
            "target_windows_within": sum(_within(s) for s in at_target),
            "rss_mb": {"http": http_rss, "screening": screening_rss}}


def _within(step: dict) -> bool:
    """A window met the latency target: p99 within it and no errors."""
    return step["p99_ms"] <= P99_TARGET_MS and step["errors"] == 0


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so servers and the PostgreSQL cluster are stopped
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    n_works = 200 if args.smoke else 10_000
    seconds, ladder = (2, (50,)) if args.smoke else (args.seconds, LADDER)
    prompts = [json.loads(line)["prompt"] for line in (DATA / "text" / "prompts_dev.jsonl").open(encoding="utf-8")]
    registry = generated_registry(n_works, SCRATCH / ("prompts-smoke" if args.smoke else "prompts")
                                  / f"generated-{n_works}.yaml")
    runs = []
    home, key = prepare_home(fresh_scratch("service-sqlite"), registry, None)
    for workers in ([1] if args.smoke else [1, 2]):
        runs.append({"database": "sqlite", **measure(home, key, workers, seconds, ladder, prompts)})
    if not args.smoke:
        with throwaway_cluster() as pg:
            home, key = prepare_home(fresh_scratch("service-pg"), registry, create_database(pg))
            for workers in (1, 2):
                runs.append({"database": "postgresql", **measure(home, key, workers, seconds, ladder, prompts)})
    write_result("service", {"works": n_works, "p99_target_ms": P99_TARGET_MS, "ladder_per_s": list(ladder),
                             "connections": f"{CONNECTIONS_PER_WORKER} per screening process (max); 64 (sustained)",
                             "request_order": f"dev prompts shuffled with seed {ORDER_SEED} (in_file_order: as in the "
                                              "file, grouped by kind)",
                             "seconds_per_run": seconds, "runs": runs}, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
