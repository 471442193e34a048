"""Video and audio benchmark: recall per transform, segment error, false positives, speed.

    python benchmarks/bench_video_audio.py           # all dev clips and music, plus 5 s excerpts
    python benchmarks/bench_video_audio.py --smoke   # CI smoke: a few of each

A copy is found when the verdict blocks for the work of its reference; the segment error is
the larger of the start and end errors (seconds) of the reported reference segment against
``pairs.csv``. 5 s excerpts are cut (ffmpeg) from every re-encoded reference copy at three
offsets. Speed is media seconds screened per wall second, one process on 2 cores, with the
signals of that media kind only.
"""

from __future__ import annotations

import clearance  # noqa: F401 - first: it loads BLAS with one thread (see clearance/__init__.py)

# isort: split

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from common import DATA, dev_home, peak_rss_mb, write_result

from clearance.content import Content
from clearance.media.audio_decode import decode_pcm
from clearance.screening import Screener
from clearance.signals.audio_chromaprint import AudioChromaprint
from clearance.signals.video_frames import VideoFrames


def _duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def evaluate(screener: Screener, folder: Path, signal: str, smoke: bool) -> dict:
    pairs = list(csv.DictReader((folder / "pairs.csv").open()))
    distractors = [folder / line.strip() for line in (folder / "distractors.txt").open() if line.strip()]
    if smoke:
        pairs, distractors = pairs[:4], distractors[:1]
    found: dict[str, list[bool]] = defaultdict(list)
    errors: dict[str, list[float]] = defaultdict(list)
    seconds = wall = 0.0
    for p in pairs:
        path = folder / p["query_path"]
        start = time.perf_counter()
        verdict = screener.screen_media(path, audit=False)
        wall += time.perf_counter() - start
        seconds += _duration(path)
        kind = p["transform"].split("_")[0].split("+")[0]
        reference = Path(p["reference_path"]).name
        hits = [m for m in verdict.matches if m.signal == signal and m.details["reference"] == reference]
        found[kind].append(verdict.action.value == "block" and bool(hits))
        if hits:
            d = hits[0].details
            errors[kind].append(max(abs(d["ref_start_s"] - float(p["ref_start_s"])),
                                    abs(d["ref_end_s"] - float(p["ref_end_s"]))))
    fps = [str(d.name) for d in distractors if screener.screen_media(d, audit=False).action.value != "allow"]
    flat = [x for v in found.values() for x in v]
    all_errors = [e for v in errors.values() for e in v]
    return {
        "recall": round(sum(flat) / len(flat), 4),
        "recall_per_transform": {k: round(sum(v) / len(v), 4) for k, v in found.items()},
        "segment_within_1s": round(sum(e <= 1.0 for e in all_errors) / len(flat), 4),
        "segment_error_s_per_transform": {k: round(max(v), 2) for k, v in errors.items()},
        "false_positives": fps, "false_positive_rate": round(len(fps) / len(distractors), 4),
        "speed_x_realtime": round(seconds / wall, 1),
    }


def five_second_excerpts(screener: Screener, smoke: bool) -> dict:
    copies = sorted((DATA / "audio" / "copies").glob("*_mp3_64k.mp3"))[: 2 if smoke else None]
    ok, errors = 0, []
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for copy in copies:
            for start in (3.0, 17.0, 35.0):
                cut = Path(tmp) / f"{copy.stem}_{start}.mp3"
                cmd = ["ffmpeg", "-v", "error", "-y", "-ss", str(start), "-t", "5", "-i", str(copy), str(cut)]
                subprocess.run(cmd, check=True)
                verdict = screener.screen_media(cut, audit=False)
                total += 1
                hits = [m for m in verdict.matches if m.details.get("reference") == copy.name.replace("_mp3_64k", "")]
                if verdict.action.value == "block" and hits:
                    ok += 1
                    errors.append(abs(hits[0].details["ref_start_s"] - start))
    return {"excerpts": total, "found": round(ok / total, 4), "max_offset_error_s": round(max(errors or [0]), 2)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    home = dev_home("av")
    video = Screener(home, signal_types=(VideoFrames, AudioChromaprint))
    audio = Screener(home, signal_types=(AudioChromaprint,))
    video.warm_up()
    audio.warm_up()
    decode_pcm(Content(kind="audio", path=DATA / "audio" / "ref" / "aref_00.mp3"))
    result = {
        "video": evaluate(video, DATA / "video", "video.frames", args.smoke),
        "audio": evaluate(audio, DATA / "audio", "audio.chromaprint", args.smoke),
        "audio_5s_excerpts": five_second_excerpts(audio, args.smoke),
        "peak_rss_mb": peak_rss_mb(),
    }
    write_result("video_audio", result, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
