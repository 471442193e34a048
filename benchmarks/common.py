"""Helpers every benchmark shares: where the dev data is, percentiles, RSS, writing results."""

from __future__ import annotations

import json
import platform
import resource
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from clearance.home import Home

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
SCRATCH = ROOT / "benchmarks" / "out"


def dev_home(prefix: str):
    """A fresh home under ``benchmarks/out`` with the dev registry imported."""
    from clearance.screening import Screener

    home = Home.resolve(SCRATCH / f"{prefix}-{time.time_ns()}")
    Screener(home).registry.import_file(DATA / "text" / "works.yaml")
    return home


def reuse_prompt_embeddings(home: Home, n_works: int = 10_000) -> None:
    """Seed a new home's description-embedding cache with the one ``bench_prompts.py`` filled for its
    generated registry of ``n_works`` works (when there is one), so its indexes build in seconds."""
    cache = SCRATCH / "prompts" / f"generated-{n_works}-home" / "index" / "text.semantic" / "embeddings.npz"
    if cache.exists():
        (home.index_dir / "text.semantic").mkdir(parents=True, exist_ok=True)
        shutil.copy(cache, home.index_dir / "text.semantic" / "embeddings.npz")


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "mean_ms": round(float(ms.mean()), 3), "n": len(ms)}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_result(name: str, result: dict[str, Any], smoke: bool) -> Path:
    """Print the figures and write them as JSON (smoke runs to a separate file)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "smoke": smoke, "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()}, **result}
    path = RESULTS / f"{name}{'.smoke' if smoke else ''}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")
    return path
