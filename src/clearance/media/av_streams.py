"""What a video or audio container holds beyond the one stream a decoder screens.

Decoders screen the first video stream and the first audio stream. A file can hold more (a
second picture track, a dubbed or commentary sound track) and can end before the length its
header declares (cut off during an upload: frames just stop, with no decoding error). Either
way part of the file was never looked at, and the verdict must say so (``Content.unscreened``):
a protected clip in a second track, or in the missing part of a partial upload, is never a
silent ``allow``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clearance.content import Content

if TYPE_CHECKING:
    import av

SHORT_BY = 0.1
"""A stream that decodes to less than this share below its declared length ended early..."""
SHORT_BY_S = 1.0
"""...and by more than this many seconds (container durations are rounded, and tracks of one
file differ by a few frames)."""


def decode_problem(exc: Exception) -> str:
    """FFmpeg's own words for a decoding failure, without PyAV's ``[Errno 1094995529]`` (FFmpeg's
    error code as a number nobody can read) and the file name the verdict names already."""
    return str(getattr(exc, "strerror", None) or exc)


def other_streams(streams: list[av.stream.Stream], kind: str) -> str | None:
    """A note when there is more than one stream of ``kind`` (cover pictures of audio files are
    not video streams), or None."""
    real = [s for s in streams if not s.disposition & s.disposition.attached_pic]
    return f"{len(real)} {kind} streams: only the first screened" if len(real) > 1 else None


STORED_LENGTH = frozenset({"mov", "mp4", "m4a", "matroska", "webm", "flac", "wav", "ogg", "avi"})
"""Containers that store their streams' length (an index, a sample count, a last timestamp). For
others FFmpeg guesses it from the bitrate of the first frames (an MP3 without a Xing, Info or VBRI
header, raw ADTS AAC), a guess a whole variable-bitrate file falls well short of."""
MP3_LENGTH_TAGS = (b"Xing", b"Info", b"VBRI")


def declared_seconds(stream: av.stream.Stream, container: av.container.InputContainer,
                     content: Content) -> float | None:
    """The stream's length as its header says, or None where no header says it (``STORED_LENGTH``):
    its own duration, else its ``DURATION`` tag (how Matroska and WebM give it), else the container's
    when the stream is the file's only one (the container's is its longest stream's: a 6 s picture
    track beside 12 s of sound is not short)."""
    formats = set(container.format.name.split(","))
    if not formats & STORED_LENGTH and not ("mp3" in formats and _mp3_length_header(content)):
        return None
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if (tag := _tag_seconds(stream.metadata.get("DURATION"))) is not None:
        return tag
    return container.duration / 1e6 if container.duration and len(container.streams) == 1 else None


def _tag_seconds(tag: str | None) -> float | None:
    """``HH:MM:SS.fraction`` in seconds, or None."""
    try:
        hours, minutes, seconds = (tag or "").split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


def ended_early(kind: str, decoded_s: float, declared_s: float | None) -> str | None:
    """A note when a stream stopped well short of its declared length, or None."""
    if declared_s is None or decoded_s >= declared_s * (1 - SHORT_BY) or declared_s - decoded_s <= SHORT_BY_S:
        return None
    return f"{kind} ends at {decoded_s:.1f} s of the {declared_s:.1f} s its header declares (a truncated file?)"


def _mp3_length_header(content: Content) -> bool:
    """Whether an MP3's first frame carries a frame count (Xing, Info or VBRI), past any ID3 tag (which
    album art can make large)."""
    head = _read(content, 0, 10)
    start = 0
    if head[:3] == b"ID3" and len(head) == 10:
        start = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10])) + (10 if head[5] & 0x10 else 0)
    first = _read(content, start, 4096)
    return any(tag in first for tag in MP3_LENGTH_TAGS)


def _read(content: Content, start: int, size: int) -> bytes:
    if content.data is not None:
        return content.data[start : start + size]
    assert content.path is not None
    with content.path.open("rb") as fh:
        fh.seek(start)
        return fh.read(size)
