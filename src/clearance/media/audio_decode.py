"""Decode the audio of any media file to mono 16-bit PCM, bounded in duration.

One decoder (PyAV) serves audio files and the sound track of videos; everything
downstream (fingerprinting, speed variants) works on the same PCM, so a file is decoded
once however many variants are fingerprinted.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from clearance.content import Content
from clearance.media.av_streams import declared_seconds, decode_problem, ended_early, other_streams
from clearance.media.probe import MediaError

RATE = 11_025
"""Chromaprint's own working rate: decoding straight to it avoids a second resampling."""
MAX_SECONDS = 600
"""Longer inputs are screened on their first ten minutes (and the verdict says so)."""


@dataclass(frozen=True)
class Pcm:
    samples: np.ndarray  # int16, mono, RATE Hz
    truncated: bool

    @property
    def seconds(self) -> float:
        return len(self.samples) / RATE


def decode_pcm(content: Content, max_seconds: float = MAX_SECONDS) -> Pcm | None:
    """The audio as PCM, or None when the file has no audio stream."""
    import av  # PyAV takes ~0.4 s to import; prompt-only processes never need it

    source = io.BytesIO(content.data) if content.data is not None else str(content.path)
    try:
        with av.open(source) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            declared = declared_seconds(stream, container, content)
            content.unscreened.extend(filter(None, [other_streams(list(container.streams.audio), "audio")]))
            resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            chunks, total, limit = [], 0, int(max_seconds * RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    total += chunks[-1].size
                if total >= limit:
                    break
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise MediaError(f"cannot decode audio: {decode_problem(exc)}") from None
    samples = np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)
    if samples.size == 0:
        raise MediaError("the audio stream is empty (zero length)")
    truncated = samples.size >= limit
    if not truncated and (short := ended_early("audio", samples.size / RATE, declared)):
        content.unscreened.append(short)
    return Pcm(samples[:limit], truncated=truncated)


def pcm_of(content: Content) -> Pcm | None:
    """Decoded PCM shared by the signals that listen; a part left out is noted (``Content.decoded``)."""
    return content.decoded("audio.pcm", lambda: decode_pcm(content), "audio")
