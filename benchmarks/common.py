"""Helpers every benchmark shares: where the dev data is, percentiles, RSS, writing results."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import resource
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from clearance.home import Home

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DEV_REGISTRY = DATA / "text" / "works.yaml"
RESULTS = ROOT / "benchmarks" / "results"
SCRATCH = ROOT / "benchmarks" / "out"


def size_and_smoke(option: str, full: int, smoke: int) -> tuple[int, bool]:
    """The command line of a benchmark sized by one number: ``option`` (``full`` by default) and
    ``--smoke``, which runs ``smoke`` instead (CI's smoke)."""
    parser = argparse.ArgumentParser()
    parser.add_argument(option, type=int, default=full)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    return (smoke if args.smoke else getattr(args, option.removeprefix("--"))), args.smoke


def fresh_scratch(prefix: str, parent: Path = SCRATCH) -> Path:
    """A new folder ``<parent>/<prefix>-<ns>`` for this run's home, removed when the run ends; the
    folders earlier runs of the same prefix left (killed before their exit) are removed now. Each
    service run had left ~350 MB per database behind, 12 GB of them by 2026-12-05. Benchmarks
    are not run two at a time, so no other run is using them."""
    for old in parent.glob(f"{prefix}-[0-9]*"):
        shutil.rmtree(old, ignore_errors=True)
    path = parent / f"{prefix}-{time.time_ns()}"
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def dev_home(prefix: str):
    """A fresh home under ``benchmarks/out`` with the dev registry imported (``fresh_scratch``)."""
    from clearance.screening import Screener

    home = Home.resolve(fresh_scratch(prefix))
    Screener(home).registry.import_file(DEV_REGISTRY)
    return home


def reuse_prompt_embeddings(home: Home, n_works: int = 10_000) -> None:
    """Seed a new home's description-embedding cache with the one ``bench_prompts.py`` filled for its
    generated registry of ``n_works`` works (when there is one), so its indexes build in seconds."""
    cache = SCRATCH / "prompts" / f"generated-{n_works}-home" / "index" / "text.semantic" / "embeddings.npz"
    if cache.exists():
        (home.index_dir / "text.semantic").mkdir(parents=True, exist_ok=True)
        shutil.copy(cache, home.index_dir / "text.semantic" / "embeddings.npz")


def generated_home(n_works: int = 10_000) -> Path:
    """The home ``bench_prompts.py`` built for its generated registry (it must have run)."""
    home = SCRATCH / "prompts" / f"generated-{n_works}-home"
    if not (home / "clearance.db").exists():
        raise SystemExit(f"{home} is missing: run benchmarks/bench_prompts.py first")
    return home


def resolve(revision: str) -> str:
    """The abbreviated commit a git revision names."""
    out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", f"{revision}^{{commit}}"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{revision!r} names no commit of {ROOT}")
    return out.stdout.strip()


def ab_sides(base: str, built: Path) -> dict[str, tuple[Path, Path]]:
    """For a comparison of this checkout with ``base``: per side, (source tree, home). The base's
    source is a git worktree under ``benchmarks/out``; each side gets its own copy of ``built``
    (made once), as each version keeps indexes of its own there. Run a side's code with
    ``PYTHONPATH=<source>/src``."""
    commit = resolve(base)
    tree = SCRATCH / f"ab-tree-{commit}"
    if not tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(tree), commit], check=True,
                       capture_output=True)
    changed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "src"],
                             capture_output=True, text=True, check=True).stdout.strip()
    checkout = resolve("HEAD") + (" + uncommitted changes" if changed else "")
    sides = {f"checkout {checkout}": (ROOT, built.with_name(f"{built.name}-ab-checkout")),
             f"base {commit}": (tree, built.with_name(f"{built.name}-ab-{commit}"))}
    for _, home in sides.values():
        if not home.exists():
            shutil.copytree(built, home)
    return sides


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "mean_ms": round(float(ms.mean()), 3), "n": len(ms)}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


VECTOR_FEATURES = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "amx_bf16")
"""Instruction sets that decide how fast the int8 sentence model runs. The same code took 0.9 ms per
MiniLM pass on the fastest machine these benchmarks have met and 4-5 ms on an AMD EPYC with AVX2
alone (2026-12-02): more than a benchmark's run-to-run spread, so each result says which it had."""


def machine() -> dict[str, Any]:
    """What the figures were measured on, so runs on different machines can be told apart: the
    CPU, its vector instruction sets, and two reference speeds taken now (a MiniLM pass on one
    thread, for model-bound figures; a fixed pure-Python loop, for the rest), and the runtime that
    runs SSCD on queries here (``media.sscd_runtime``: bfloat16 only on some processors)."""
    from clearance.media.sscd_runtime import query_label
    from clearance.text.embedder import TextEmbedder

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    field = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in cpuinfo.splitlines()[:40])}
    flags = set(field.get("flags", "").split())
    embedder = TextEmbedder(threads=1)
    sentence = ["a girl in a yellow raincoat walking through a snowy village at dusk"]
    passes = []
    for _ in range(35):  # the first five warm up
        start = time.perf_counter()
        embedder.embed(sentence)
        passes.append(time.perf_counter() - start)
    start = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i
    return {"cpus": os.cpu_count(), "cpu": field.get("model name", platform.processor()),
            "vector": [f for f in VECTOR_FEATURES if f in flags], "python": platform.python_version(),
            "minilm_pass_ms": round(float(np.median(passes[5:])) * 1000, 3),
            "python_loop_ms": round((time.perf_counter() - start) * 1000, 1), "sscd_queries": query_label()}


def write_result(name: str, result: dict[str, Any], smoke: bool) -> Path:
    """Print the figures and write them as JSON (smoke runs to a separate file)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "smoke": smoke, "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "machine": machine(), **result}
    path = RESULTS / f"{name}{'.smoke' if smoke else ''}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")
    return path
