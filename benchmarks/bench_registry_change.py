"""How a running screener lives through a registry change made by another process.

    python benchmarks/bench_registry_change.py            # 10,000 generated works (as bench_prompts)
    python benchmarks/bench_registry_change.py --smoke    # CI smoke: 200 works

A screener serves prompts against a registry of ``--works`` works; then another process
(`clearance registry import`) adds one work. The screener keeps screening a prompt that describes
the new work, back to back, and we record the worst request latency until the new work is
enforced, and how long after the import that happened. Before registry views were built in the
background (2026-12-02), the first request after the change waited for the whole rebuild.
The embedding cache of ``bench_prompts.py`` is reused when present.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

from bench_prompts import generated_registry
from common import SCRATCH, fresh_scratch, reuse_prompt_embeddings, size_and_smoke, write_result

from clearance.home import Home
from clearance.screening import Screener

NEW_WORK = """version: 1
works:
- id: new-work
  title: Brand New Work
  owner: Someone
  policy: block
  descriptions:
  - A purple walrus detective in a trench coat solving crimes on an iceberg.
"""
PROMPT = "a purple walrus detective in a trench coat on an iceberg"


def main() -> int:
    n_works, smoke = size_and_smoke("--works", full=10_000, smoke=200)
    home = Home.resolve(fresh_scratch("registry-change"))
    reuse_prompt_embeddings(home, n_works)
    home_dir = home.root
    screener = Screener(home)
    screener.registry.import_file(generated_registry(n_works, SCRATCH / "prompts" / f"generated-{n_works}.yaml"))
    screener.warm_up()
    (home_dir / "new.yaml").write_text(NEW_WORK, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "clearance.cli.main", "registry", "import", str(home_dir / "new.yaml"),
                    "--home", str(home_dir)], check=True, capture_output=True)
    start, worst, requests, enforced_after = time.perf_counter(), 0.0, 0, None
    while time.perf_counter() - start < 300:
        t = time.perf_counter()
        verdict = screener.screen_prompt(PROMPT, audit=False)
        worst, requests = max(worst, time.perf_counter() - t), requests + 1
        if verdict.action.value == "block":
            enforced_after = time.perf_counter() - start
            break
    result = {"works": n_works, "requests_until_enforced": requests, "worst_latency_s": round(worst, 3),
              "new_work_enforced_after_s": None if enforced_after is None else round(enforced_after, 2)}
    print(result, flush=True)
    write_result("registry_change", result, smoke)
    shutil.rmtree(home_dir, ignore_errors=True)
    return 0 if enforced_after is not None else 1


if __name__ == "__main__":
    sys.exit(main())
