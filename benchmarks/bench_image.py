"""Image screening benchmark: quality of PDQ alone, SSCD alone and both; held-out edits; speed.

    python benchmarks/bench_image.py           # full: all dev images; speed at 40, 10,000, 100,000 references
    python benchmarks/bench_image.py --smoke   # CI smoke (< 60 s): a sample, 1,000 references
    python benchmarks/bench_image.py --speed-only   # speed alone (results/image-speed.json)

Quality uses the dev images (``../shared/data/images``): a copy counts as found when the verdict
blocks for the work of its reference; a distractor counts as a false positive when the verdict
is not ``allow``. The three columns are the same screener restricted to ``image.pdq``, to
``image.sscd``, and Clearance's default for images (both). The thresholds were set on these
images, so the benchmark also makes a second set the thresholds never saw: the references and
distractors under *other* edits (perspective, blur, greyscale, JPEG q15, 15-degree rotation,
40% crop, meme captions, stickers, hue shift, 160 px thumbnails, mirrored padding), screened
through the CLI (``clearance screen media --from-list --out``) as the held-out set will be.
Speed is end to end in one process (decode, PDQ, SSCD, search, policy, audit) on 1024 px JPEGs,
one ``screen_media`` call per image (the request path) and ``screen_media_many`` over the list
(decoding in threads overlapped with batched inference: the CLI and scrub path);
for 10k/100k the dev references are padded with synthetic fingerprints (random unit vectors
and hashes), which exercises the search at that size. Wall-clock rates depend on what else
runs on the machine, so each row also gives CPU time per image and the load average.
"""

from __future__ import annotations

import clearance  # noqa: F401 - first: it loads BLAS with one thread (see clearance/__init__.py)

# isort: split

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from common import DATA, SCRATCH, dev_home, peak_rss_mb, write_result
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from clearance.home import Home
from clearance.index.vectors import VectorIndex
from clearance.screening import Screener
from clearance.signals.image_pdq import ImagePdq, binary_index
from clearance.signals.image_sscd import ImageSscd

IMAGES = DATA / "images"
SETUPS = {"pdq_only": (ImagePdq,), "sscd_only": (ImageSscd,), "clearance": (ImagePdq, ImageSscd)}


def reference_works() -> dict[str, str]:
    return {Path(r["path"]).name: r["work_id"] for r in csv.DictReader((IMAGES / "references.csv").open())}


def summarise(found: dict[str, list[bool]], alarms: list[str], negatives: int, hard: set[str]) -> dict:
    everything = [x for v in found.values() for x in v]
    return {"recall": round(sum(everything) / len(everything), 4),
            "recall_per_transform": {k: round(sum(v) / len(v), 4) for k, v in sorted(found.items())},
            "false_positive_rate": round(len(alarms) / negatives, 4), "false_positives": alarms,
            "hard_negative_false_positives": sorted(set(alarms) & hard),
            "copies": len(everything), "distractors": negatives}


def dev_quality(home: Home, smoke: bool) -> dict:
    pairs = list(csv.DictReader((IMAGES / "pairs.csv").open()))
    distractors = [line.strip() for line in (IMAGES / "distractors.txt").open() if line.strip()]
    hard = {row["distractor_path"] for row in csv.DictReader((IMAGES / "hard_negatives.csv").open())}
    if smoke:
        pairs, distractors = pairs[::6], distractors[::6]
    works = reference_works()
    out = {}
    for label, types in SETUPS.items():
        screener = Screener(home, signal_types=types)
        found: dict[str, list[bool]] = defaultdict(list)
        for p in pairs:
            verdict = screener.screen_media(IMAGES / p["query_path"], audit=False)
            work = works[Path(p["reference_path"]).name]
            hit = verdict.action.value == "block" and work in {m.work_id for m in verdict.matches}
            found[p["transform"].split("_")[0]].append(hit)
        alarms = [d for d in distractors if screener.screen_media(IMAGES / d, audit=False).action.value != "allow"]
        out[label] = summarise(found, alarms, len(distractors), hard)
        print(label, {k: v for k, v in out[label].items() if k not in ("recall_per_transform",)}, flush=True)
    return out


def _caption(im: Image.Image) -> Image.Image:
    im = im.copy()
    draw = ImageDraw.Draw(im)
    h = max(12, im.height // 9)
    draw.rectangle((0, 0, im.width, h), fill="black")
    draw.rectangle((0, im.height - h, im.width, im.height), fill="black")
    draw.text((8, 2), "WHEN THE PROMPT SAYS ORIGINAL", fill="white")
    draw.text((8, im.height - h + 2), "BUT THE MODEL REMEMBERS", fill="white")
    return im


def _sticker(im: Image.Image) -> Image.Image:
    im = im.copy()
    w, h = im.size
    ImageDraw.Draw(im).ellipse((w * 0.6, h * 0.55, w * 0.95, h * 0.95), fill=(250, 200, 0), outline="red", width=6)
    return im


def _perspective(im: Image.Image) -> Image.Image:
    w, h = im.size
    return im.transform((w, h), Image.Transform.QUAD, (w * 0.08, 0, 0, h, w, h * 0.95, w * 0.92, h * 0.05),
                        Image.Resampling.BILINEAR)


def _hue(im: Image.Image) -> Image.Image:
    hsv = np.asarray(im.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(int) + 40) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")


def _crop40(im: Image.Image) -> Image.Image:
    w, h = im.size
    return im.crop((int(w * 0.1), int(h * 0.35), int(w * 0.1 + w * 0.4 ** 0.5), int(h * 0.35 + h * 0.4 ** 0.5)))


OTHER_EDITS = {
    "perspective": _perspective,
    "blur": lambda im: im.filter(ImageFilter.GaussianBlur(2.5)),
    "greyscale": lambda im: ImageOps.grayscale(im).convert("RGB"),
    "jpeg_q15": lambda im: im,  # saved at quality 15 below
    "rotate15": lambda im: im.rotate(15, expand=False, fillcolor=(255, 255, 255)),
    "crop40": _crop40,
    "meme": _caption,
    "sticker": _sticker,
    "hue": _hue,
    "thumbnail160": lambda im: ImageOps.contain(im, (160, 160)),
    "mirror_pad": lambda im: ImageOps.pad(ImageOps.mirror(im), (max(im.size),) * 2, color=(30, 30, 30)),
    "contrast": lambda im: ImageEnhance.Contrast(ImageEnhance.Brightness(im).enhance(1.3)).enhance(0.6),
}


def held_out_files(folder: Path, smoke: bool) -> tuple[list[tuple[Path, str, str]], list[Path]]:
    """The references and distractors under edits the calibration never saw (written to ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    works = reference_works()
    refs = sorted((IMAGES / "ref").glob("*.jpg"))
    distractors = [IMAGES / line.strip() for line in (IMAGES / "distractors.txt").open() if line.strip()]
    if smoke:
        refs, distractors = refs[::4], distractors[::12]
    edits = list(OTHER_EDITS.items())
    copies, negatives = [], []
    for i, ref in enumerate(refs):
        for name, edit in (edits[i % len(edits)], edits[(i + 5) % len(edits)]):
            path = folder / f"{ref.stem}_{name}.jpg"
            edit(Image.open(ref).convert("RGB")).save(path, quality=15 if name == "jpeg_q15" else 80)
            copies.append((path, works[ref.name], name))
    for i, distractor in enumerate(distractors):
        name, edit = edits[i % len(edits)]
        path = folder / f"{distractor.stem}_{name}.jpg"
        edit(Image.open(distractor).convert("RGB")).save(path, quality=15 if name == "jpeg_q15" else 80)
        negatives.append(path)
    return copies, negatives


def held_out_quality(home: Home, smoke: bool) -> dict:
    """Screen the other-edits set through the CONTRACT CLI, as the held-out set is measured."""
    folder = SCRATCH / f"held-out-edits{'-smoke' if smoke else ''}"
    copies, negatives = held_out_files(folder, smoke)
    listing, out = folder / "list.txt", folder / "verdicts.jsonl"
    listing.write_text("\n".join(str(p) for p in [c[0] for c in copies] + negatives) + "\n")
    command = [sys.executable, "-m", "clearance.cli.main", "screen", "media", "--from-list", str(listing),
               "--out", str(out), "--home", str(home.root)]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    verdicts = {Path(v["path"]).name: v for v in map(json.loads, out.read_text().splitlines())}
    found: dict[str, list[bool]] = defaultdict(list)
    for path, work, edit in copies:
        verdict = verdicts[path.name]
        found[edit].append(verdict["action"] == "block" and work in {m["work_id"] for m in verdict["matches"]})
    alarms = [p.name for p in negatives if verdicts[p.name]["action"] != "allow"]
    result = summarise(found, alarms, len(negatives), set())
    result["cli_seconds_including_start"] = round(elapsed, 1)
    print("held-out edits (CLI)", {k: v for k, v in result.items() if k != "recall_per_transform"}, flush=True)
    return result


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
            start = time.perf_counter()
            signal.search = VectorIndex(np.concatenate([signal.search.vectors, extra]), cache_dir=signal.store_dir)
            print(f"  index of {len(signal.search)} vectors ready in {time.perf_counter() - start:.1f} s", flush=True)
            signal.owner = np.concatenate([signal.owner, np.zeros(len(extra), np.int64)])
        if isinstance(signal, ImagePdq):
            extra = rng.integers(0, 2**63, size=(total - len(signal.hashes), 4), dtype=np.uint64)
            signal.hashes = np.concatenate([signal.hashes, extra])
            signal.search = binary_index(signal.hashes)
            signal.owner = np.concatenate([signal.owner, np.zeros(len(extra), np.int64)])


def _one_by_one(screener: Screener, images: list[bytes], audit: bool) -> None:
    """As in the request path: one ``screen_media`` call per image."""
    for data in images:
        screener.screen_media(data, audit=audit)


def _batch(screener: Screener, images: list[bytes], audit: bool) -> None:
    """As the CLI and scrub do: ``screen_media_many`` (decoding overlapped with batched inference)."""
    for _ in screener.screen_media_many(images, audit=audit):
        pass


def speed(home: Home, references: int, images: list[bytes]) -> dict:
    screener = Screener(home, signal_types=SETUPS["clearance"])
    screener.warm_up()
    screener.screen_media(images[0], audit=False)
    if references:
        pad_references(screener, references, np.random.default_rng(1))
    rates = {}
    for label, audit, screen in (("", False, _one_by_one), ("_with_audit", True, _one_by_one),
                                 ("_batch_with_audit", True, _batch)):
        start, cpu = time.perf_counter(), time.process_time()
        screen(screener, images, audit)
        rates["images_per_s" + label] = round(len(images) / (time.perf_counter() - start), 1)
        rates["cpu_ms_per_image" + label] = round((time.process_time() - cpu) / len(images) * 1000, 1)
    row = {"references": references or 40, "images": len(images), **rates, "peak_rss_mb": peak_rss_mb(),
           "load_average_1min": round(os.getloadavg()[0], 2)}
    print(row, flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--speed-only", action="store_true", help="skip the quality runs (re-measure speed)")
    args = parser.parse_args()
    home = dev_home("image")
    result = {} if args.speed_only else {"quality_dev": dev_quality(home, args.smoke),
                                         "quality_other_edits_cli": held_out_quality(home, args.smoke)}
    images = jpegs_1024(20 if args.smoke else 200)
    sizes = [0, 1_000] if args.smoke else [0, 10_000, 100_000]
    result["speed_1024px_jpeg"] = [speed(home, n, images) for n in sizes]
    result["peak_rss_mb"] = peak_rss_mb()
    write_result("image-speed" if args.speed_only else "image", result, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
