"""Prompt latency at 10,000 works, this checkout against an earlier git revision, in alternating runs.

    python benchmarks/bench_prompts_ab.py --base cf3f519   # 5 runs each (after bench_prompts.py)
    python benchmarks/bench_prompts_ab.py --smoke          # CI smoke: HEAD against itself, dev registry, 1 run

The machines here run the same code up to 2x faster or slower from one hour to the next, so a
latency measured today cannot be compared with one from this morning. This runs both revisions
on the same machine in turn, each run a fresh process (``latency`` of ``bench_prompts.py``
over the dev prompts, after warm-up, without audit), the base revision's source taken from a
git worktree under ``benchmarks/out`` and imported instead of this checkout's. Each revision
gets its own copy of ``bench_prompts.py``'s generated home, so the first base run rebuilds the
indexes its version needs (minutes, once). Figures: each run's p50 and p99, and their medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from common import ROOT, SCRATCH, dev_home, write_result

MEASURE = """
import json, sys
sys.path.insert(0, {bench!r})
from bench_prompts import DATA, latency
from clearance.home import Home
from clearance.screening import Screener
prompts = [json.loads(line)["prompt"] for line in (DATA / "text" / "prompts_dev.jsonl").open(encoding="utf-8")]
print(json.dumps(latency(Screener(Home.resolve({home!r})), prompts, {rounds}, audit=False)))
"""


def base_tree(commit: str) -> Path:
    """A worktree of ``commit`` under ``benchmarks/out`` (made once)."""
    tree = SCRATCH / f"ab-tree-{commit}"
    if not tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(tree), commit], check=True,
                       capture_output=True)
    return tree


def resolve(revision: str) -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", f"{revision}^{{commit}}"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def measure(source: Path, home: Path, rounds: int) -> dict:
    code = MEASURE.format(bench=str(ROOT / "benchmarks"), home=str(home), rounds=rounds)
    env = {**os.environ, "PYTHONPATH": str(source / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=source)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", help="git revision to compare with (the smoke: HEAD)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.base is None and not args.smoke:
        parser.error("--base is required")
    base = resolve(args.base or "HEAD")
    runs, rounds = (1, 1) if args.smoke else (args.runs, 2)
    if args.smoke:
        works, built = 9, dev_home("prompts-ab-smoke").root
    else:
        works, built = 10_000, SCRATCH / "prompts" / "generated-10000-home"
        if not (built / "clearance.db").exists():
            raise SystemExit(f"{built} is missing: run benchmarks/bench_prompts.py first")
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "src"],
                           capture_output=True, text=True, check=True).stdout.strip()
    checkout = resolve("HEAD") + (" + uncommitted changes" if dirty else "")
    sides = {f"checkout {checkout}": ROOT, f"base {base}": base_tree(base)}
    homes = {name: built.with_name(f"{built.name}-ab-{'checkout' if source == ROOT else base}")
             for name, source in sides.items()}
    for home in homes.values():
        if not home.exists():
            shutil.copytree(built, home)
    figures: dict[str, list[dict]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, source in sides.items():
            figures[name].append(measure(source, homes[name], rounds))
            print(f"[{name}] {json.dumps(figures[name][-1])}", flush=True)
    result = {"works": works, "base": base, "runs": runs, "sides": {
        name: {"p50_ms_median": round(statistics.median(r["p50_ms"] for r in rs), 3),
               "p99_ms_median": round(statistics.median(r["p99_ms"] for r in rs), 3),
               "p50_ms_runs": [r["p50_ms"] for r in rs]} for name, rs in figures.items()}}
    write_result("prompts_ab", result, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
