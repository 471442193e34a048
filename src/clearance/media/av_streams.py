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

if TYPE_CHECKING:
    import av

SHORT_BY = 0.1
"""A stream that decodes to less than this share below its declared length ended early..."""
SHORT_BY_S = 1.0
"""...and by more than this many seconds (container durations are rounded, and tracks of one
file differ by a few frames)."""


def other_streams(streams: list[av.stream.Stream], kind: str) -> str | None:
    """A note when there is more than one stream of ``kind`` (cover pictures of audio files are
    not video streams), or None."""
    real = [s for s in streams if not s.disposition & s.disposition.attached_pic]
    return f"{len(real)} {kind} streams: only the first screened" if len(real) > 1 else None


def declared_seconds(stream: av.stream.Stream, container: av.container.InputContainer) -> float | None:
    """The stream's length as its header says: its own duration, else its ``DURATION`` tag (how
    Matroska and WebM give it), else the container's when the stream is the file's only one (the
    container's is its longest stream's: a 6 s picture track beside 12 s of sound is not short)."""
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
