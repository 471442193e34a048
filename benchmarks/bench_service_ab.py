"""Server CPU per prompt request, this checkout against an earlier git revision, in alternating runs.

    python benchmarks/bench_service_ab.py --base cf3f519   # 3 runs each, 10,000 works (after bench_prompts.py)
    python benchmarks/bench_service_ab.py --smoke          # CI smoke: HEAD against itself, dev registry

Throughput on these shared machines moves with the hour, but a server's CPU time per request
moves much less, and it is what bounds the requests/s two cores can serve. Each run starts a
one-worker ``clearance serve`` on SQLite of one version (``bench_service.py``'s server and
closed-loop load generator, 3 connections sending the dev prompts back to back), warms it for
3 s and measures for ``--seconds``; the versions take turns. Sources and homes as in
``bench_prompts_ab.py`` (``common.ab_sides``).
"""

from __future__ import annotations

import clearance  # noqa: F401 - first: it loads BLAS with one thread (see clearance/__init__.py)

# isort: split

import argparse
import json
import statistics
import sys
from pathlib import Path

from bench_service import CONNECTIONS_PER_WORKER, closed_loop_cpu, requests_for, server
from common import DATA, ab_sides, dev_home, generated_home, write_result

from clearance.db.engine import session_factory
from clearance.home import Home
from clearance.keys import KeyStore


def one_run(source: Path, home: Home, key: str, prompts: list[str], seconds: float) -> dict:
    """CPU ms per request and requests/s of one version's server under closed-loop load."""
    with server(home, 1, source) as (port, pid):
        load = closed_loop_cpu(port, requests_for(prompts, key, port), [pid], CONNECTIONS_PER_WORKER, seconds)
    return {k: load[k] for k in ("server_cpu_ms_per_request", "requests_per_s", "errors")}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", help="git revision to compare with (the smoke: HEAD)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.base is None and not args.smoke:
        parser.error("--base is required")
    runs, seconds = (1, 2.0) if args.smoke else (args.runs, args.seconds)
    built = dev_home("service-ab-smoke").root if args.smoke else generated_home()
    sides = ab_sides(args.base or "HEAD", built)
    homes = {name: Home.resolve(home) for name, (_, home) in sides.items()}
    keys = {name: KeyStore(session_factory(home.database_url)).create("bench-ab", "screener")[1]
            for name, home in homes.items()}
    prompts = [json.loads(line)["prompt"] for line in (DATA / "text" / "prompts_dev.jsonl").open(encoding="utf-8")]
    figures: dict[str, list[dict]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, (source, _) in sides.items():
            figures[name].append(one_run(source, homes[name], keys[name], prompts, seconds))
            print(f"[{name}] {json.dumps(figures[name][-1])}", flush=True)
    result = {"works": 9 if args.smoke else 10_000, "runs": runs, "seconds_per_run": seconds, "sides": {
        name: {"server_cpu_ms_per_request_median": statistics.median(r["server_cpu_ms_per_request"] for r in rs),
               "requests_per_s_median": statistics.median(r["requests_per_s"] for r in rs), "runs": rs}
        for name, rs in figures.items()}}
    write_result("service_ab", result, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
