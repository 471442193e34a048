"""Video and audio screening on the dev clips and music: matches, segments, bad input."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clearance.cli import app
from clearance.content import Content
from clearance.home import Home
from clearance.media.audio_decode import decode_pcm
from clearance.media.probe import MediaError
from clearance.media.video_decode import sample_video
from clearance.screening import Screener
from clearance.verdict import Action
from tests.conftest import DATA

runner = CliRunner()
VIDEO, AUDIO = DATA / "video", DATA / "audio"


@pytest.fixture(scope="module")
def screener(registered_home: Home) -> Screener:
    return Screener(registered_home)


def _pairs(folder: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((folder / "pairs.csv").open()))


def _screen_cli(home: Home, paths: list[Path], tmp_path: Path) -> dict[str, dict]:
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["screen", "media", *map(str, paths), "--out", str(out), "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    return {Path(v["path"]).name: v for v in map(json.loads, out.read_text().splitlines())}


def test_video_copies_found_with_segments(registered_home: Home, tmp_path: Path) -> None:
    pairs = _pairs(VIDEO)
    distractors = [VIDEO / line.strip() for line in (VIDEO / "distractors.txt").open() if line.strip()]
    verdicts = _screen_cli(registered_home, [VIDEO / p["query_path"] for p in pairs] + distractors, tmp_path)
    segment_ok = []
    for p in pairs:
        verdict = verdicts[Path(p["query_path"]).name]
        assert verdict["action"] == "block", p
        clip = [m for m in verdict["matches"] if m["signal"] == "video.frames"
                and m["details"]["reference"] == Path(p["reference_path"]).name]
        assert clip and clip[0]["details"]["matched_frame_times_s"]
        d = clip[0]["details"]
        segment_ok.append(abs(d["ref_start_s"] - float(p["ref_start_s"])) <= 1.0
                          and abs(d["ref_end_s"] - float(p["ref_end_s"])) <= 1.0)
    assert sum(segment_ok) / len(segment_ok) >= 0.7
    for d in distractors:
        assert verdicts[d.name]["action"] == "allow"


def test_audio_copies_and_distractors(registered_home: Home, tmp_path: Path) -> None:
    pairs = _pairs(AUDIO)
    distractors = [AUDIO / line.strip() for line in (AUDIO / "distractors.txt").open() if line.strip()]
    verdicts = _screen_cli(registered_home, [AUDIO / p["query_path"] for p in pairs] + distractors, tmp_path)
    for p in pairs:
        verdict = verdicts[Path(p["query_path"]).name]
        audio = [m for m in verdict["matches"] if m["signal"] == "audio.chromaprint"]
        assert verdict["action"] == "block" and audio, p
        assert abs(audio[0]["details"]["ref_start_s"] - float(p["ref_start_s"])) <= 1.0
        assert abs(audio[0]["details"]["ref_end_s"] - float(p["ref_end_s"])) <= 3.0
    assert all(verdicts[d.name]["action"] == "allow" for d in distractors)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def test_five_second_excerpt_and_theme_under_a_video(screener: Screener, tmp_path: Path) -> None:
    excerpt = tmp_path / "excerpt.mp3"
    _ffmpeg("-ss", "20", "-t", "5", "-i", str(AUDIO / "copies" / "aref_03_mp3_64k.mp3"), str(excerpt))
    verdict = screener.screen_media(excerpt, audit=False)
    match = next(m for m in verdict.matches if m.signal == "audio.chromaprint")
    assert verdict.action == Action.BLOCK and abs(match.details["ref_start_s"] - 20.0) <= 1.0
    dubbed = tmp_path / "dubbed.mp4"  # an unrelated clip with registered music under it
    _ffmpeg("-i", str(VIDEO / "distractors" / "vdis_00.mp4"), "-ss", "5", "-t", "10",
            "-i", str(AUDIO / "ref" / "aref_05.mp3"), "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-shortest",
            str(dubbed))
    verdict = screener.screen_media(dubbed, audit=False)
    audio = [m for m in verdict.matches if m.signal == "audio.chromaprint"]
    assert verdict.action == Action.BLOCK and audio and audio[0].work_id == "frozen"


def test_audio_too_short_to_compare_is_reviewed_and_a_short_soundtrack_leaves_the_frames_to_decide(
        screener: Screener, tmp_path: Path) -> None:
    """A 3-4 s excerpt of registered music was allowed in silence (too few fingerprint items to
    compare), while a 2 s one was reviewed with fpcalc's raw "Empty fingerprint"."""
    for seconds in ("2", "3.5"):
        excerpt = tmp_path / f"excerpt_{seconds}.wav"
        _ffmpeg("-ss", "12", "-t", seconds, "-i", str(AUDIO / "ref" / "aref_00.mp3"), str(excerpt))
        verdict = screener.screen_media(excerpt, audit=False)
        assert verdict.action == Action.REVIEW and "audio too short to compare" in (verdict.error or ""), verdict
    clip = tmp_path / "short_clip.mp4"  # a distractor's frames with 3 s of sound: the frames decide
    _ffmpeg("-i", str(VIDEO / "distractors" / "vdis_00.mp4"), "-i", str(AUDIO / "distractors" / "adis_00.mp3"),
            "-map", "0:v", "-map", "1:a", "-t", "3", "-c:v", "libx264", "-c:a", "aac", str(clip))
    verdict = screener.screen_media(clip, audit=False)
    assert verdict.action == Action.ALLOW and verdict.error is None, verdict


def test_mpeg_streams_and_sound_alone_in_a_video_container(screener: Screener, tmp_path: Path) -> None:
    """.mpg and .ts files were taken as media by name but not recognised from their bytes (always
    review); music alone in an .mp4 was a broken video ("no video stream", review) though the same
    sound in an .m4a was screened."""
    copy = VIDEO / "copies" / _pairs(VIDEO)[0]["query_path"].split("/")[-1]
    for name, codec in (("copy.mpg", ["-c:v", "mpeg2video", "-q:v", "4"]), ("copy.ts", ["-c:v", "libx264"])):
        _ffmpeg("-i", str(copy), *codec, str(tmp_path / name))
        verdict = screener.screen_media(tmp_path / name, audit=False)
        assert verdict.action == Action.BLOCK, name
        assert verdict.matches[0].details["query_start_s"] < 0.5, verdict.matches[0]  # from the file's start
    for source, seconds, action in (("distractors/adis_00.mp3", "20", Action.ALLOW),
                                    ("copies/aref_03_mp3_64k.mp3", "20", Action.BLOCK),
                                    ("distractors/adis_00.mp3", "3", Action.REVIEW)):
        sound = tmp_path / f"sound_{seconds}_{action.value}.mp4"
        _ffmpeg("-i", str(AUDIO / source), "-t", seconds, "-vn", "-c:a", "aac", str(sound))
        verdict = screener.screen_media(sound, audit=False)
        assert verdict.action == action and (verdict.error is None) == (action != Action.REVIEW), verdict


def test_a_clip_repeating_a_registered_clip_an_even_number_of_times_blocks(screener: Screener, tmp_path: Path) -> None:
    """Four or six plays of a registered clip in a row put the median time offset between two plays,
    where no frame pair lay: an IndexError, and the copy was only reviewed (three or five blocked)."""
    for plays in (3, 4):
        looped = tmp_path / f"looped_{plays}.mp4"
        _ffmpeg("-stream_loop", str(plays - 1), "-i", str(VIDEO / "copies" / "vref_01_lowbitrate.mp4"), "-c", "copy",
                "-an", str(looped))
        verdict = screener.screen_media(looped, audit=False)
        assert verdict.action == Action.BLOCK and verdict.error is None, (plays, verdict)
        assert verdict.matches[0].details["ref_start_s"] == 0.0, verdict.matches[0].details


def test_variable_frame_rate_copy(screener: Screener, tmp_path: Path) -> None:
    """Frames dropped unevenly (VFR): sampling by timestamp still aligns the segment."""
    vfr = tmp_path / "vfr.mp4"
    _ffmpeg("-i", str(VIDEO / "ref" / "vref_02.mp4"), "-vf", r"select='lt(n\,60)+not(mod(n\,3))'",
            "-fps_mode", "vfr", "-an", str(vfr))
    verdict = screener.screen_media(vfr, audit=False)
    clip = next(m for m in verdict.matches if m.details.get("reference") == "vref_02.mp4")
    assert verdict.action == Action.BLOCK
    assert abs(clip.details["ref_start_s"]) <= 1.0 and abs(clip.details["ref_end_s"] - 12.0) <= 1.0


def test_bad_video_and_audio_inputs(screener: Screener, tmp_path: Path) -> None:
    clip = (VIDEO / "copies" / "vref_01_lowbitrate.mp4").read_bytes()
    cases = {
        "empty.mp4": b"",
        "header_only.mp4": clip[:64],
        "garbage.mp4": clip[:12] + b"\x00" * 4000,
        "noise.mp3": b"ID3" + bytes(range(256)) * 8,
    }
    for name, data in cases.items():
        verdict = screener.screen_media(data, name=name)
        assert verdict.action == Action.REVIEW and verdict.error, name
        assert "[Errno" not in verdict.error, verdict.error  # FFmpeg's words, not PyAV's code number
    truncated = screener.screen_media(clip[: len(clip) // 2], name="truncated.mp4", audit=False)
    assert truncated.action != Action.ALLOW  # half a copy is still a copy, or at least reviewed
    damaged = bytearray((VIDEO / "ref" / "vref_01.mp4").read_bytes())
    for at in range(len(damaged) // 4, len(damaged), 2000):  # zeroed runs after its first quarter
        damaged[at : at + 64] = bytes(64)
    broken = screener.screen_media(bytes(damaged), name="damaged.mp4", audit=False)
    # it said only "video screened on its first 2 s only", as if a time limit had stopped it (QA pass)
    assert broken.action != Action.ALLOW and "the rest of the video could not be decoded: Invalid data" in broken.error


def test_duration_caps_bound_the_work() -> None:
    pcm = decode_pcm(Content(kind="audio", path=AUDIO / "ref" / "aref_00.mp3"), max_seconds=5)
    assert pcm is not None and pcm.truncated and 4.9 <= pcm.seconds <= 5.1
    video = sample_video(Content(kind="video", path=VIDEO / "ref" / "vref_01.mp4"), max_seconds=3)
    assert video is not None and video.truncated and max(video.times) <= 3.0
    with pytest.raises(MediaError):
        sample_video(Content(kind="video", data=b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100))


def test_what_is_left_unscreened_is_never_silently_allowed(screener: Screener, tmp_path: Path) -> None:
    """Past the 10-minute cap nothing is looked at, so an unrelated long file is reviewed, not allowed."""
    long_video, long_audio = tmp_path / "long.mp4", tmp_path / "long.mp3"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=0.2:duration=630", "-f", "lavfi",
            "-i", "sine=frequency=440:sample_rate=8000:duration=630", "-shortest", "-c:v", "libx264",
            "-c:a", "aac", str(long_video))
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=630", str(long_audio))
    video = screener.screen_media(long_video, audit=False)
    assert video.action == Action.REVIEW and "video screened on its first 600 s only" in video.error
    assert "audio screened on its first 600 s only" in video.error  # its sound track too
    audio = screener.screen_media(long_audio, audit=False)
    assert audio.action == Action.REVIEW and "audio screened on its first 600 s only" in audio.error


def test_a_second_track_or_a_cut_upload_is_never_silently_allowed(screener: Screener, tmp_path: Path) -> None:
    """Only the first picture and sound tracks are screened, and a file cut off during an upload
    just stops decoding: a copy in a second track or in the missing part was an ``allow``. Now the
    verdict says what was not screened; tracks of different lengths are not taken for a cut."""
    paths = {name: tmp_path / name for name in ("two_video.mp4", "two_audio.m4a", "lengths.mkv", "whole.mp4")}
    distractor, copy = VIDEO / "distractors" / "vdis_00.mp4", VIDEO / "copies" / "vref_01_excerpt.mp4"
    _ffmpeg("-i", str(distractor), "-i", str(copy), "-map", "0:v", "-map", "1:v", "-c", "copy",
            str(paths["two_video.mp4"]))
    _ffmpeg("-i", str(AUDIO / "distractors" / "adis_01.mp3"), "-i", str(AUDIO / "copies" / "aref_02_mp3_64k.mp3"),
            "-map", "0:a", "-map", "1:a", "-c:a", "aac", str(paths["two_audio.m4a"]))
    _ffmpeg("-i", str(distractor), "-i", str(AUDIO / "distractors" / "adis_01.mp3"), "-map", "0:v", "-map", "1:a",
            "-t", "12", "-c:v", "copy", "-c:a", "libvorbis", str(paths["lengths.mkv"]))
    _ffmpeg("-i", str(distractor), "-c", "copy", "-movflags", "+faststart", str(paths["whole.mp4"]))
    whole_mp4, whole_mp3 = paths["whole.mp4"].read_bytes(), (AUDIO / "distractors" / "adis_04.mp3").read_bytes()
    cut = {"cut.mp4": whole_mp4[: len(whole_mp4) * 6 // 10], "cut.mp3": whole_mp3[: len(whole_mp3) // 2]}
    for name in ("two_video.mp4", "two_audio.m4a"):
        verdict = screener.screen_media(paths[name], audit=False)
        assert verdict.action == Action.REVIEW and "streams: only the first screened" in verdict.error, name
    for name, data in cut.items():
        verdict = screener.screen_media(data, name=name, audit=False)
        assert verdict.action == Action.REVIEW and "its header declares" in verdict.error, (name, verdict.error)
    lengths = screener.screen_media(paths["lengths.mkv"], audit=False)
    assert lengths.action == Action.ALLOW and lengths.error is None, lengths.error
    noise = ("-f", "lavfi", "-i", "anullsrc=d=3", "-f", "lavfi", "-i", "anoisesrc=d=30:a=0.3", "-filter_complex",
             "[0][1]concat=n=2:v=0:a=1")
    guessed = {"vbr.mp3": ("-c:a", "libmp3lame", "-q:a", "2", "-write_xing", "0"), "raw.aac": ("-c:a", "aac")}
    for name, codec in guessed.items():  # whole files whose length FFmpeg only guesses from their first frames
        _ffmpeg(*noise, *codec, str(tmp_path / name))
        verdict = screener.screen_media(tmp_path / name, audit=False)
        assert verdict.action == Action.ALLOW and verdict.error is None, (name, verdict.error)


def test_frame_size_and_decoding_work_are_bounded() -> None:
    """A hostile upload (8K at 60 fps, or frames of a gigapixel) costs bounded time and memory: huge
    frames are refused before decoding, and decoding stops once its pixel budget is spent."""
    clip = Content(kind="video", path=VIDEO / "ref" / "vref_01.mp4")
    full = sample_video(clip)
    assert full is not None and not full.truncated
    width, height = full.frames[0].size  # pictures are at most 640 px; the clip's frames are this size or larger
    with pytest.raises(MediaError, match="over the limit of"):
        sample_video(Content(kind="video", path=clip.path), max_frame_pixels=width * height - 1)
    budget = sample_video(Content(kind="video", path=clip.path), max_decoded_pixels=25 * 1920 * 1080)
    assert budget is not None and budget.truncated and max(budget.times) < max(full.times)
