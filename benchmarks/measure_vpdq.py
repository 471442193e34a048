"""Does vPDQ pay for itself as a pre-filter for ``video.frames``? (One-off measurement.)

    pip install vpdq==0.2.5        # builds against the apt FFmpeg dev libraries; not a dependency
    python benchmarks/measure_vpdq.py

For every dev video copy: the share of its vPDQ frame hashes (every 0.5 s, quality >= 50)
within 31 bits of its reference's hashes (found when >= 30%), the time to hash it, and the
time of Clearance's own frame sampling + SSCD on the same clip. Writes
``benchmarks/results/vpdq.json``.
"""

from __future__ import annotations

import clearance  # noqa: F401 - first: it loads BLAS with one thread (see clearance/__init__.py)

# isort: split

import csv
import sys
import time
from pathlib import Path

import vpdq
from common import DATA, write_result

from clearance.content import Content
from clearance.media.video_decode import sample_video
from clearance.signals.image_sscd import embed_views

VIDEO = DATA / "video"


def vhash(path: Path) -> list:
    return vpdq.computeHash(str(path), seconds_per_hash=0.5, downsample_width=0, downsample_height=0, thread_count=1)


def share_matched(query: list, ref: list) -> float:
    good = [a for a in query if a.quality >= 50]
    hits = sum(1 for a in good if any(vpdq.hamming_distance(a.hash, b.hash) <= 31 for b in ref))
    return hits / max(1, len(good))


def main() -> int:
    refs = {p.name: vhash(p) for p in sorted((VIDEO / "ref").glob("*.mp4"))}
    rows, vpdq_s, sscd_s = [], 0.0, 0.0
    for pair in csv.DictReader((VIDEO / "pairs.csv").open()):
        path = VIDEO / pair["query_path"]
        start = time.perf_counter()
        hashes = vhash(path)
        vpdq_s += time.perf_counter() - start
        start = time.perf_counter()
        embed_views(sample_video(Content(kind="video", path=path)).frames)
        sscd_s += time.perf_counter() - start
        rows.append({"copy": pair["query_path"], "transform": pair["transform"],
                     "share_matched": round(share_matched(hashes, refs[Path(pair["reference_path"]).name]), 3)})
    distractors = [VIDEO / line.strip() for line in (VIDEO / "distractors.txt").open() if line.strip()]
    worst = max(share_matched(vhash(d), r) for d in distractors for r in refs.values())
    write_result("vpdq", {
        "copies_found": sum(r["share_matched"] >= 0.3 for r in rows), "copies": len(rows),
        "max_distractor_share": round(worst, 3), "vpdq_seconds": round(vpdq_s, 2),
        "frames_plus_sscd_seconds": round(sscd_s, 2), "per_copy": rows,
    }, smoke=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
