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
import subprocess
import sys
from pathlib import Path

from common import ROOT, ab_sides, dev_home, generated_home, percentiles_ms, write_result

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
    blocks = 1 if args.smoke else args.blocks
    built = dev_home("prompts-ab-smoke").root if args.smoke else generated_home()
    sides = ab_sides(args.base or "HEAD", built)
    times = alternate({name: start_side(source, home) for name, (source, home) in sides.items()}, blocks)
    per_block = len(next(iter(times.values()))[0])
    result = {"works": 9 if args.smoke else 10_000, "blocks": blocks, "prompts_per_block": per_block,
              "sides": {name: {**percentiles_ms([t for b in by_block for t in b]),
                               "p50_ms_by_block": [percentiles_ms(b)["p50_ms"] for b in by_block]}
                        for name, by_block in times.items()}}
    write_result("prompts_ab", result, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
