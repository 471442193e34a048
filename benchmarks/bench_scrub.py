"""Scrub benchmark: items/s and peak memory on a generated image-caption dataset.

    python benchmarks/bench_scrub.py                     # full: 100,000 items, 1 and 2 workers and Ray
    python benchmarks/bench_scrub.py --items 3000        # a shorter run of the same
    python benchmarks/bench_scrub.py --configs 2         # only some configurations (1, 2, ray); the
                                                         # result goes to results/scrub-<configs>-<items>.json
    python benchmarks/bench_scrub.py --smoke             # CI smoke: 120 items, 1 worker

Full runs also scrub the dev images folder itself (``../shared/data/images``: references,
copies, distractors) and count which copies went and which distractors stayed.

The dataset is WebDataset shards of 512 px JPEGs with captions: distractor photos re-cropped
and re-coloured into distinct images, with 3% copies of registered stills (and 1% captions
naming a work). Each configuration (1 worker, 2 workers, Ray with 2 actors) scrubs the same
data; RSS is the resident set of the job's whole process tree (parent + workers), sampled
every 0.5 s. Flat memory shows three ways: the peak in the first and in the last quarter of a
run are the same, the resident set at each tenth of the run (``rss_mb_by_tenth``: the peaks of
the quarters include start-up and the final manifest join) does not climb, and the peak does
not grow with ``--items``.
"""

from __future__ import annotations

import clearance  # noqa: F401 - first: it loads BLAS with one thread (see clearance/__init__.py)

# isort: split

import argparse
import io
import json
import random
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pyarrow.parquet as pq
from common import DATA, DEV_REGISTRY, SCRATCH, fresh_scratch, write_result
from PIL import Image, ImageEnhance

IMAGES = DATA / "images"
PER_SHARD = 500


CONFIGS = {"1": ["--workers", "1"], "2": ["--workers", "2"], "ray": ["--engine", "ray", "--workers", "2"]}


def generate(folder: Path, n: int, seed: int = 3) -> dict:
    if (folder / "done.json").exists():
        return json.loads((folder / "done.json").read_text())
    rng = random.Random(seed)
    clean = [Image.open(IMAGES / line.strip()).convert("RGB") for line in (IMAGES / "distractors.txt").open()
             if line.strip()]
    copies = [Image.open(p).convert("RGB") for p in sorted((IMAGES / "copies").glob("*_crop.jpg"))]
    folder.mkdir(parents=True, exist_ok=True)
    counts = {"items": n, "copies": 0, "named": 0}
    for s in range(0, n, PER_SHARD):
        with tarfile.open(folder / f"shard-{s // PER_SHARD:05d}.tar", "w") as tar:
            for i in range(s, min(n, s + PER_SHARD)):
                roll = rng.random()
                if roll < 0.03:
                    image, caption = rng.choice(copies), "a picture"
                    counts["copies"] += 1
                else:
                    base = rng.choice(clean)
                    w, h = base.size
                    box = (rng.randint(0, w // 4), rng.randint(0, h // 4),
                           w - rng.randint(0, w // 4), h - rng.randint(0, h // 4))
                    image = ImageEnhance.Color(base.crop(box)).enhance(rng.uniform(0.6, 1.4))
                    caption = f"photo {i}: a scenic view with soft light"
                    if roll < 0.04:
                        caption, counts["named"] = "Vecna standing in the rain", counts["named"] + 1
                image = image.resize((512, round(512 * image.height / image.width)))
                buf = io.BytesIO()
                image.save(buf, "JPEG", quality=85)
                for name, data in ((f"{i:08d}.jpg", buf.getvalue()), (f"{i:08d}.txt", caption.encode())):
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    (folder / "done.json").write_text(json.dumps(counts))
    return counts


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (MB)."""
    out = subprocess.run(["ps", "-o", "pid=,ppid=,rss=", "-e"], capture_output=True, text=True).stdout
    rows = [tuple(map(int, line.split())) for line in out.splitlines() if line.strip()]
    children: dict[int, list[int]] = {}
    for p, pp, _ in rows:
        children.setdefault(pp, []).append(p)
    rss = {p: r for p, _, r in rows}
    todo, total = [pid], 0
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total / 1024


def run(src: Path, out: Path, home: Path, extra: list[str]) -> dict:
    manifest = out.with_suffix(".parquet")
    for stale in (out, out.with_name(out.name + ".review"), manifest.with_name(manifest.name + ".checkpoints")):
        shutil.rmtree(stale, ignore_errors=True)
    for stale_file in (manifest, manifest.with_suffix(".csv")):  # a manifest without its run is refused
        stale_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "clearance.cli.main", "scrub", str(src), "--out", str(out), "--manifest",
           str(manifest), "--home", str(home), "--json", *extra]
    start, samples = time.perf_counter(), []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    while proc.poll() is None:
        samples.append(_tree_rss_mb(proc.pid))
        time.sleep(0.5)
    summary = json.loads(proc.stdout.read().strip().splitlines()[-1])
    wall = time.perf_counter() - start
    quarter = max(1, len(samples) // 4)
    return {"args": extra, "items": summary["items"], "removed": summary["removed"], "review": summary["review"],
            "errors": summary["errors"], "wall_s": round(wall, 1), "items_per_s": round(summary["items"] / wall, 1),
            "peak_rss_mb_all_processes": round(max(samples, default=0.0), 1),
            "peak_rss_mb_first_quarter": round(max(samples[:quarter], default=0.0), 1),
            "peak_rss_mb_last_quarter": round(max(samples[-quarter:], default=0.0), 1),
            "rss_mb_by_tenth": [round(samples[min(len(samples) - 1, len(samples) * k // 10)], 1)
                                for k in range(10)] if samples else []}


def dev_set(home: Path) -> dict:
    """Scrub the dev images folder: every copy should go, every distractor should stay."""
    out = SCRATCH / "scrub-dev-out"
    run(IMAGES, out, home, ["--workers", "2"])
    removed = {row["key"]: row for row in pq.read_table(out.with_suffix(".parquet")).to_pylist()}
    copies = [p.name for p in (IMAGES / "copies").iterdir()]
    distractors = [p.name for p in (IMAGES / "distractors").iterdir()]
    missed = sorted(c for c in copies if f"copies/{c}" not in removed)
    false_removals = sorted(d for d in distractors if f"distractors/{d}" in removed)
    return {"copies": len(copies), "copies_removed": len(copies) - len(missed), "copies_missed": missed,
            "distractors": len(distractors), "distractors_removed": false_removals,
            "references_removed": sum(k.startswith("ref/") for k in removed)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated: 1, 2, ray")
    args = parser.parse_args()
    chosen = ["1"] if args.smoke else args.configs.split(",")
    n = 120 if args.smoke else args.items
    src = SCRATCH / f"scrub-data-{n}"
    counts = generate(src, n)
    home = fresh_scratch("scrub-home")
    subprocess.run([sys.executable, "-m", "clearance.cli.main", "registry", "import", str(DEV_REGISTRY),
                    "--home", str(home)], check=True, capture_output=True)
    results = [run(src, SCRATCH / f"scrub-out-{n}-{name}", home, CONFIGS[name]) for name in chosen]
    complete = args.smoke or chosen == list(CONFIGS)
    extra = {"dev_images": dev_set(home)} if complete and not args.smoke else {}
    name = "scrub" if complete else f"scrub-{'-'.join(chosen)}-{n}"
    write_result(name, {"dataset": counts, "runs": results, **extra}, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
