"""Sample frames from a video: a few per second plus the first frame after each scene cut.

Every frame is decoded (H.264 cannot skip to arbitrary frames cheaply), but only sampled ones
are converted to pictures, so decoding runs at hundreds of frames per second. Time comes
from each frame's timestamp, so variable frame rates sample correctly. An upload is hostile, so
its cost is bounded three ways: frames larger than ``MAX_FRAME_PIXELS`` are refused before
decoding (as images are), and decoding stops after ``MAX_SECONDS`` of video or
``MAX_DECODED_PIXELS`` decoded, whichever comes first, so ten minutes of 8K at 60 frames per
second costs what ten minutes of 1080p at 30 does (the verdict says what was screened).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from clearance.content import Content
from clearance.media.av_streams import declared_seconds, decode_problem, ended_early, other_streams
from clearance.media.probe import MediaError, check_pixels

if TYPE_CHECKING:
    import av

SAMPLE_FPS = 2.0
MAX_SECONDS = 600
MAX_FRAME_PIXELS = 40_000_000
"""Larger frames (8K is 33 Mpx) are refused: one such frame decoded takes ~100 MB per decoder thread."""
MAX_DECODED_PIXELS = MAX_SECONDS * 30 * 1920 * 1080
"""Decoding work allowed per video: ten minutes of 1080p at 30 frames per second."""
MAX_SIDE = 640
SCENE_CUT = 0.25
"""Mean absolute change of a 32x18 grey thumbnail (0..1) that counts as a cut."""


@dataclass(frozen=True)
class SampledVideo:
    times: list[float]
    frames: list[Image.Image]
    duration: float
    truncated: bool

    @property
    def seconds(self) -> float:
        """How much of the video was screened (all of it unless ``truncated``)."""
        return self.duration


def _thumb(frame: av.VideoFrame) -> np.ndarray:
    return frame.reformat(width=32, height=18, format="gray").to_ndarray().astype(np.float32) / 255.0


def _picture(frame: av.VideoFrame) -> Image.Image:
    scale = min(1.0, MAX_SIDE / max(frame.width, frame.height))
    width, height = max(2, int(frame.width * scale) // 2 * 2), max(2, int(frame.height * scale) // 2 * 2)
    return frame.reformat(width=width, height=height, format="rgb24").to_image()


def sample_video(content: Content, fps: float = SAMPLE_FPS, max_seconds: float = MAX_SECONDS,
                 max_frame_pixels: int = MAX_FRAME_PIXELS,
                 max_decoded_pixels: int = MAX_DECODED_PIXELS) -> SampledVideo | None:
    """Sampled frames with their times, or None when the file has no video stream."""
    import av  # PyAV takes ~0.4 s to import; prompt-only processes never need it

    source = io.BytesIO(content.data) if content.data is not None else str(content.path)
    times: list[float] = []
    frames: list[Image.Image] = []
    last_t, truncated, previous = 0.0, False, None
    try:
        with av.open(source) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            declared = declared_seconds(stream, container, content)
            content.unscreened.extend(filter(None, [other_streams(list(container.streams.video), "video")]))
            check_pixels("video frame", stream.codec_context.width, stream.codec_context.height, max_frame_pixels)
            stream.thread_type = "AUTO"
            next_sample, decoded = 0.0, 0
            # times from the file's start: a transport stream's clock starts at 1.4 s or so, and the
            # evidence said "frames at 1.44-13.4 s" of a 12-second file
            start = max(0.0, float(stream.start_time * stream.time_base)) if stream.start_time is not None else 0.0
            for frame in container.decode(stream):
                check_pixels("video frame", frame.width, frame.height, max_frame_pixels)  # may change mid-stream
                t = float(frame.time) - start if frame.time is not None else last_t + 1 / 25
                decoded += frame.width * frame.height
                if t > max_seconds or decoded > max_decoded_pixels:
                    truncated = True
                    break
                thumb = _thumb(frame)
                cut = previous is not None and float(np.abs(thumb - previous).mean()) > SCENE_CUT
                previous, last_t = thumb, t
                if t + 1e-6 >= next_sample or cut:
                    times.append(round(t, 3))
                    frames.append(_picture(frame))
                    next_sample = max(next_sample + 1 / fps, t + 0.5 / fps)
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        if not frames:
            raise MediaError(f"cannot decode video: {decode_problem(exc)}") from None
        truncated = True  # a truncated or damaged file: screen what decoded, and say why it stopped
        content.unscreened.append(f"the rest of the video could not be decoded: {decode_problem(exc)}")
    if not frames:
        raise MediaError("the video has no decodable frames (zero length or unsupported codec)")
    if not truncated and (short := ended_early("video", last_t + 1 / fps, declared)):
        content.unscreened.append(short)
    return SampledVideo(times, frames, last_t, truncated)


def video_of(content: Content) -> SampledVideo | None:
    """Sampled frames shared by the signals that look; a part left out is noted (``Content.decoded``)."""
    return content.decoded("video.frames", lambda: sample_video(content), "video")
