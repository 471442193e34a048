"""Image screening benchmark: recall per transform and false positives, PDQ vs SSCD vs both; speed.

    python benchmarks/bench_images.py           # full: dev registry, then 10,000 and 100,000 references
    python benchmarks/bench_images.py --smoke   # CI smoke: a sample of the dev images, 1,000 references

Quality uses the dev images (``../shared/data/images``): a copy counts as found when the verdict
blocks for the work of its reference; a distractor counts as a false positive when the verdict
is not ``allow``. The three columns are the same screener restricted to ``image.pdq``, to
``image.sscd``, and Clearance's default (both). Speed is end to end (decode, PDQ, SSCD, search,
policy) on 1024 px JPEGs, one process on 2 cores; for the 10k/100k rows the registry's real
references are padded with synthetic reference fingerprints (random unit vectors and hashes),
which exercises the search part at that size.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from common import DATA, dev_home, peak_rss_mb, write_result
from PIL import Image

from clearance.home import Home
from clearance.index.vectors import VectorIndex
from clearance.screening import Screener
from clearance.signals import SIGNAL_TYPES
from clearance.signals.image_pdq import ImagePdq
from clearance.signals.image_sscd import ImageSscd

IMAGES = DATA / "images"


def family(transform: str) -> str:
    return transform.split("_")[0]


def quality(home: Home, smoke: bool) -> dict:
    pairs = list(csv.DictReader((IMAGES / "pairs.csv").open()))
    distractors = [line.strip() for line in (IMAGES / "distractors.txt").open() if line.strip()]
    hard = {row["distractor_path"] for row in csv.DictReader((IMAGES / "hard_negatives.csv").open())}
    if smoke:
        pairs, distractors = pairs[::6], distractors[::6]
    refs = {r["path"].split("/")[-1]: r["work_id"] for r in csv.DictReader((IMAGES / "references.csv").open())}
    setups = {"pdq_only": (ImagePdq,), "sscd_only": (ImageSscd,), "clearance": SIGNAL_TYPES}
    out = {}
    for label, types in setups.items():
        screener = Screener(home, signal_types=types)
        found: dict[str, list[bool]] = defaultdict(list)
        for p in pairs:
            v = screener.screen_media(IMAGES / p["query_path"], audit=False)
            work = refs[Path(p["reference_path"]).name]
            found[family(p["transform"])].append(v.action.value == "block" and work in {m.work_id for m in v.matches})
        fp = [d for d in distractors if screener.screen_media(IMAGES / d, audit=False).action.value != "allow"]
        all_found = [x for v in found.values() for x in v]
        out[label] = {
            "recall": round(sum(all_found) / len(all_found), 4),
            "recall_per_transform": {k: round(sum(v) / len(v), 4) for k, v in sorted(found.items())},
            "false_positive_rate": round(len(fp) / len(distractors), 4),
            "false_positives": fp,
            "hard_negative_false_positives": sorted(set(fp) & hard),
            "copies": len(all_found), "distractors": len(distractors),
        }
        print(label, {k: v for k, v in out[label].items() if k != "recall_per_transform"}, flush=True)
    return out


def jpegs_1024(count: int) -> list[bytes]:
    """Realistic 1024 px JPEGs: distractor photos scaled to 1024 on the longer side."""
    paths = [IMAGES / line.strip() for line in (IMAGES / "distractors.txt").open() if line.strip()]
    out = []
    for path in (paths * (count // len(paths) + 1))[:count]:
        image = Image.open(path).convert("RGB")
        image = image.resize((1024, round(1024 * image.height / image.width)), Image.Resampling.BICUBIC)
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def pad_references(screener: Screener, total: int, rng: np.random.Generator) -> None:
    """Add synthetic reference fingerprints so the indexes hold ``total`` references."""
    for signal in screener.signals:
        if isinstance(signal, ImageSscd):
            extra = rng.standard_normal((total * 2 - len(signal.search), 512)).astype(np.float32)
            extra /= np.linalg.norm(extra, axis=1, keepdims=True)
            signal.search = VectorIndex(np.concatenate([signal.search.vectors, extra]))
            signal.owner = np.concatenate([signal.owner, np.zeros(len(extra), np.int64)])
        if isinstance(signal, ImagePdq):
            extra = rng.integers(0, 2**63, size=(total - len(signal.hashes), 4), dtype=np.uint64)
            signal.hashes = np.concatenate([signal.hashes, extra])
            signal.owner = np.concatenate([signal.owner, np.zeros(len(extra), np.int64)])


def speed(home: Home, references: int, images: list[bytes]) -> dict:
    screener = Screener(home)
    screener.warm_up()
    screener.screen_media(images[0], audit=False)
    if references:
        pad_references(screener, references, np.random.default_rng(1))
    start = time.perf_counter()
    for data in images:
        screener.screen_media(data, audit=False)
    elapsed = time.perf_counter() - start
    return {"references": references or "dev registry (40 stills)", "images": len(images),
            "images_per_s": round(len(images) / elapsed, 1), "peak_rss_mb": peak_rss_mb()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    home = dev_home("images")
    result = {"quality": quality(home, args.smoke)}
    images = jpegs_1024(20 if args.smoke else 200)
    sizes = [0, 1_000] if args.smoke else [0, 10_000, 100_000]
    result["speed_1024px_jpeg"] = [speed(home, n, images) for n in sizes]
    result["peak_rss_mb"] = peak_rss_mb()
    write_result("images", result, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
