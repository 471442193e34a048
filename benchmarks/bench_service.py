"""Service benchmark: sustained prompt-screening requests/s and latency over loopback HTTP.

    python benchmarks/bench_service.py            # 10,000 works; 1 and 2 workers; SQLite and PostgreSQL
    python benchmarks/bench_service.py --smoke    # CI smoke: 200 works, SQLite, 1 worker, 3 s

A bounded asyncio load generator (httpx, 16 connections, fixed duration, 127.0.0.1 only)
posts the dev prompts in a loop to a `clearance serve` started for the run. Every request is
audited (as in production). Latency is client-side per request; errors are non-2xx answers.
RSS per worker is read from /proc at the end of each run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from bench_prompts import generated_registry
from common import DATA, SCRATCH, percentiles_ms, write_result

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.keys import KeyStore
from clearance.screening import Screener
from tests.pg_cluster import create_database, throwaway_cluster

CONNECTIONS = 16


def prepare_home(path: Path, registry: Path, database_url: str | None) -> tuple[Home, str]:
    home = Home.resolve(path, database_url)
    cache = SCRATCH / "prompts" / "generated-10000-home" / "index" / "text.semantic" / "embeddings.npz"
    if cache.exists():  # reuse embeddings the prompt benchmark computed
        (home.index_dir / "text.semantic").mkdir(parents=True, exist_ok=True)
        shutil.copy(cache, home.index_dir / "text.semantic" / "embeddings.npz")
    screener = Screener(home)
    screener.registry.import_file(registry)
    screener.warm_up()
    key = KeyStore(session_factory(home.database_url)).create("bench", "screener")[1]
    return home, key


def worker_rss_mb(pid: int) -> list[float]:
    out = subprocess.run(["ps", "-o", "pid=,ppid=,rss=", "-e"], capture_output=True, text=True).stdout
    rows = [tuple(map(int, line.split())) for line in out.splitlines() if line.strip()]
    children = [rss / 1024 for p, pp, rss in rows if pp == pid]
    own = [rss / 1024 for p, _, rss in rows if p == pid]
    return [round(x, 1) for x in (children or own)]


async def load(url: str, key: str, prompts: list[str], seconds: float) -> tuple[list[float], int, int]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, limits=limits,
                                 timeout=30) as client:
        async def user(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < stop:
                start = time.perf_counter()
                response = await client.post("/v1/screen/prompt", json={"prompt": prompts[i % len(prompts)]})
                latencies.append(time.perf_counter() - start)
                errors += not response.is_success
                i += CONNECTIONS
        await asyncio.gather(*(user(n) for n in range(CONNECTIONS)))
    return latencies, errors, len(latencies)


def run(home: Home, key: str, workers: int, seconds: float, prompts: list[str]) -> dict:
    port = 18000 + workers
    cmd = [sys.executable, "-m", "clearance.cli.main", "serve", "--port", str(port), "--workers", str(workers),
           "--home", str(home.root), "--database-url", home.database_url]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        asyncio.run(load(url, key, prompts, 3))  # warm every worker
        latencies, errors, total = asyncio.run(load(url, key, prompts, seconds))
        rss = worker_rss_mb(proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return {"workers": workers, "requests": total, "requests_per_s": round(total / seconds, 1), "errors": errors,
            **percentiles_ms(latencies), "rss_mb_per_worker": rss}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    n_works = 200 if args.smoke else 10_000
    seconds = 3 if args.smoke else args.seconds
    prompts = [json.loads(line)["prompt"] for line in (DATA / "text" / "prompts_dev.jsonl").open(encoding="utf-8")]
    registry = generated_registry(n_works, SCRATCH / ("prompts-smoke" if args.smoke else "prompts")
                                  / f"generated-{n_works}.yaml")
    runs = []
    home, key = prepare_home(SCRATCH / f"service-sqlite-{time.time_ns()}", registry, None)
    for workers in ([1] if args.smoke else [1, 2]):
        runs.append({"database": "sqlite", **run(home, key, workers, seconds, prompts)})
    if not args.smoke:
        with throwaway_cluster() as server:
            home, key = prepare_home(SCRATCH / f"service-pg-{time.time_ns()}", registry, create_database(server))
            for workers in (1, 2):
                runs.append({"database": "postgresql", **run(home, key, workers, seconds, prompts)})
    write_result("service", {"works": n_works, "connections": CONNECTIONS, "seconds_per_run": seconds, "runs": runs},
                 args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
