"""Would geometric verification with local features find the dev copies SSCD misses? (one-off)

    pip install opencv-python-headless && python scripts/measure_sift_verification.py

Not part of Clearance: it measures a design option that was left out (``docs/images.md``,
"Calibration and measured figures"). For every dev copy and distractor, SIFT keypoints of the
picture and of its mirror are matched with every reference (Lowe's ratio test), a similarity
transform is fitted with RANSAC, and the agreeing keypoints are counted as distinct reference
points, so that a transform collapsing many matches onto one point counts once.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"
SIDE, KEYPOINTS, RATIO, RANSAC_PX, CELL = 512, 1000, 0.8, 5.0, 4
Features = tuple[np.ndarray, np.ndarray | None]

sift = cv2.SIFT_create(nfeatures=KEYPOINTS)
matcher = cv2.BFMatcher(cv2.NORM_L2)


def features(grey: np.ndarray) -> Features:
    keypoints, descriptors = sift.detectAndCompute(grey, None)
    return np.float32([k.pt for k in keypoints]).reshape(-1, 2), descriptors


def grey(path: Path) -> np.ndarray:
    image = Image.open(path).convert("L")
    image.thumbnail((SIDE, SIDE))
    return np.asarray(image)


def agreeing(query: Features, reference: Features) -> int:
    """Distinct reference points that one similarity transform maps the query's matches onto."""
    (q_points, q_desc), (r_points, r_desc) = query, reference
    if q_desc is None or r_desc is None or len(q_desc) < 2 or len(r_desc) < 2:
        return 0
    good = [m for m, *rest in matcher.knnMatch(q_desc, r_desc, k=2) if rest and m.distance < RATIO * rest[0].distance]
    if len(good) < 3:
        return 0
    src, dst = q_points[[m.queryIdx for m in good]], r_points[[m.trainIdx for m in good]]
    transform, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX)
    if transform is None or not 0.25 <= float(np.hypot(transform[0, 0], transform[1, 0])) <= 4:
        return 0
    return len({(int(x) // CELL, int(y) // CELL) for x, y in dst[inliers.ravel() == 1]})


def best(path: Path, references: dict[str, Features]) -> dict[str, int]:
    """Agreeing keypoints of the picture (or its mirror, whichever agrees more) with each reference."""
    picture = grey(path)
    views = [features(picture), features(np.ascontiguousarray(picture[:, ::-1]))]
    return {name: max(agreeing(view, ref) for view in views) for name, ref in references.items()}


def main() -> int:
    references = {p.name: features(grey(p)) for p in sorted((DATA / "ref").glob("*.jpg"))}
    print("combined edits: keypoints agreeing with their own reference (best other)")
    for row in csv.DictReader((DATA / "pairs.csv").open()):
        if row["transform"].startswith("combined"):
            scores = best(DATA / row["query_path"], references)
            own = Path(row["reference_path"]).name
            other = max(v for k, v in scores.items() if k != own)
            print(f"  {Path(row['query_path']).name}: {scores[own]} ({other})")
    tops = []
    for line in (DATA / "distractors.txt").read_text().split():
        scores = best(DATA / line, references)
        name = max(scores, key=scores.get)
        tops.append((scores[name], line, name))
    print("distractors, highest:", sorted(tops, reverse=True)[:5])
    return 0


if __name__ == "__main__":
    sys.exit(main())
