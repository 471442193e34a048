"""How long a new home takes to screen, with and without the machine's array cache.

    python benchmarks/bench_new_home.py            # 5 rounds
    python benchmarks/bench_new_home.py --smoke    # CI smoke: 1 round

Every test, benchmark home, tenant and fresh service starts from a new home: a new process imports
the dev registry (images, clips, audio, descriptions) and warms up every signal. Each round runs
that twice, in turns: with an empty array cache (every reference fingerprinted and every
description embedded, as before ``clearance.array_cache``) and with the cache the first run
filled. Both use a model cache of their own with the models already built, so neither pays for
building those; the figures are seconds of wall time from the process's start.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import DEV_REGISTRY, fresh_scratch, size_and_smoke, write_result

from clearance.array_cache import FILE_NAME
from clearance.model_cache import cache_dir

WARM_UP = """
import sys
from pathlib import Path
from clearance.home import Home
from clearance.screening import Screener
screener = Screener(Home.resolve(Path(sys.argv[1])))
screener.registry.import_file(Path(sys.argv[2]))
screener.warm_up()
"""


def new_home_seconds(scratch: Path, models: Path, run: str) -> float:
    """Wall seconds for a new process to import the dev registry into a new home and warm up."""
    env = {**os.environ, "CLEARANCE_MODEL_CACHE": str(models)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", WARM_UP, str(scratch / run), str(DEV_REGISTRY)], env=env, check=True)
    return time.perf_counter() - start


def built_models(scratch: Path) -> Path:
    """A model cache of this run's own holding the machine's built models and no array cache. A
    first run on the machine's own cache builds any model it lacks (and fills its array cache,
    which every later home on the machine reads)."""
    new_home_seconds(scratch, cache_dir(), "machine")
    models = scratch / "models"
    shutil.copytree(cache_dir(), models, ignore=shutil.ignore_patterns(f"{FILE_NAME}*", ".*"))
    return models


def main() -> int:
    rounds, smoke = size_and_smoke("--rounds", full=5, smoke=1)
    scratch = fresh_scratch("new-home")
    models = built_models(scratch)
    empty, filled = [], []
    for round_ in range(rounds):
        for part in models.glob(f"{FILE_NAME}*"):
            part.unlink()
        empty.append(new_home_seconds(scratch, models, f"empty-{round_}"))
        filled.append(new_home_seconds(scratch, models, f"filled-{round_}"))
        print(f"round {round_}: empty cache {empty[-1]:.2f} s, filled cache {filled[-1]:.2f} s", flush=True)
    result = {"registry": DEV_REGISTRY.name, "rounds": rounds,
              "empty_cache_s": [round(s, 2) for s in empty], "filled_cache_s": [round(s, 2) for s in filled],
              "empty_cache_median_s": round(statistics.median(empty), 2),
              "filled_cache_median_s": round(statistics.median(filled), 2),
              "array_cache_mb": round((models / FILE_NAME).stat().st_size / 1e6, 2)}
    write_result("new_home", result, smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
