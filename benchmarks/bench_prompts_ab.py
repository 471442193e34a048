"""Prompt latency at 10,000 works, this checkout against an earlier git revision, in alternating blocks.

    python benchmarks/bench_prompts_ab.py --base cf3f519   # 20 blocks each (after bench_prompts.py)
    python benchmarks/bench_prompts_ab.py --smoke          # CI smoke: HEAD against itself, dev registry

The machines here run the same code up to 2x faster or slower from one hour to the next, and
by 30% between runs a minute apart, so a latency measured today cannot be compared with one
from this morning, nor one run with the next. This keeps one warmed-up process per revision
and has them take turns: each block is one pass over the dev prompts (``screen_prompt`` after
warm-up, without audit, timed inside the process), so both revisions see the same moments of
the machine. The base revision's source is a git worktree under ``benchmarks/out``, imported
instead of this checkout's; each revision gets its own copy of ``bench_prompts.py``'s
generated home, so the first base run rebuilds the indexes its version needs (minutes, once).
Figures: p50 and p99 over all of a revision's prompts, and each block's p50.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from common import ROOT, SCRATCH, dev_home, percentiles_ms, write_result

SIDE = """
import json, sys, time
sys.path.insert(0, {bench!r})
from bench_prompts import DATA
from clearance.home import Home
from clearance.screening import Screener
prompts = [json.loads(line)["prompt"] for line in (DATA / "text" / "prompts_dev.jsonl").open(encoding="utf-8")]
screener = Screener(Home.resolve({home!r}))
screener.warm_up()
for prompt in prompts:
    screener.screen_prompt(prompt, audit=False)
print("ready", flush=True)
for _ in sys.stdin:
    times = []
    for prompt in prompts:
        start = time.perf_counter()
        screener.screen_prompt(prompt, audit=False)
        times.append(time.perf_counter() - start)
    print(json.dumps(times), flush=True)
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


def start_side(source: Path, home: Path) -> subprocess.Popen:
    """A warmed-up process of ``source``'s code on ``home`` that screens the dev prompts once per line read."""
    code = SIDE.format(bench=str(ROOT / "benchmarks"), home=str(home))
    env = {**os.environ, "PYTHONPATH": str(source / "src")}
    side = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env, cwd=source)
    if side.stdout.readline().strip() != "ready":
        raise SystemExit(f"the process for {source} did not start")
    return side


def block(side: subprocess.Popen) -> list[float]:
    side.stdin.write("go\n")
    side.stdin.flush()
    return json.loads(side.stdout.readline())


def alternate(processes: dict[str, subprocess.Popen], blocks: int) -> dict[str, list[list[float]]]:
    """Per side, the prompt times of each block, the sides taking turns; the processes are ended."""
    times: dict[str, list[list[float]]] = {name: [] for name in processes}
    try:
        for _ in range(blocks):
            for name, side in processes.items():
                times[name].append(block(side))
                print(f"[{name}] block p50 {percentiles_ms(times[name][-1])['p50_ms']} ms", flush=True)
    finally:
        for side in processes.values():
            side.stdin.close()
            side.wait()
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", help="git revision to compare with (the smoke: HEAD)")
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.base is None and not args.smoke:
        parser.error("--base is required")
    base = resolve(args.base or "HEAD")
    blocks = 1 if args.smoke else args.blocks
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
    times = alternate({name: start_side(source, homes[name]) for name, source in sides.items()}, blocks)
    result = {"works": works, "base": base, "blocks": blocks, "prompts_per_block": len(next(iter(times.values()))[0]),
              "sides": {name: {**percentiles_ms([t for b in by_block for t in b]),
                               "p50_ms_by_block": [percentiles_ms(b)["p50_ms"] for b in by_block]}
                        for name, by_block in times.items()}}
    write_result("prompts_ab", result, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
