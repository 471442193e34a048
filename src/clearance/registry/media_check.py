"""Whether a reference file can serve as a reference of the kind its registry entry declares.

A reference nothing can decode used to be imported all the same, and then failed the index build
of every signal that fingerprints its kind: every image screened in that home became a ``review``
blaming the query. The import now asks this question of each reference (and refuses the file
where a rights holder can fix it); the index build asks it of a reference that fails there, to
tell a bad reference (left out) from a broken tool (still an error). The decoding is the
screening's own, with its limits: file size, pixels before decoding, frame pixels, frames.
"""

from __future__ import annotations

from pathlib import Path

from clearance.content import Content
from clearance.media.image_decode import decode_frames
from clearance.media.probe import MediaError, check_pixels, detect_kind
from clearance.media.video_decode import MAX_FRAME_PIXELS


def media_problem(path: Path, declared: str) -> str | None:
    """Why ``path`` is no usable ``declared`` (image | video | audio) reference, or None when it is."""
    try:
        sniffed = detect_kind(path=path)
    except MediaError as exc:
        return f"not a readable {declared}: {exc}"
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    try:
        if "image" in (sniffed, declared):
            if sniffed != declared:
                return _mismatch(sniffed, declared)
            return _frames_left_out(path)
        else:
            _probe_stream(path, sniffed, declared)
    except MediaError as exc:
        return str(exc)
    return None


def _frames_left_out(path: Path) -> str | None:
    """Decode the image as image.pdq and image.sscd will; an animation they would index only in part
    is refused. A 40-frame GIF was imported without a word and its last frames were never indexed:
    copies of them were allowed (a QA pass, 2026-12-08)."""
    content = Content(kind="image", path=path)
    frames = decode_frames(content)
    if not content.unscreened:
        return None
    return (f"only {len(frames)} of its frames would be indexed ({'; '.join(content.unscreened)}): "
            "register the others as stills of their own")


_AS_NOUN = {"image": "an image", "video": "a video", "audio": "audio"}


def _mismatch(actual: str, declared: str) -> str:
    return f"the file is {_AS_NOUN[actual]}, but the reference says kind: {declared}"


def _probe_stream(path: Path, sniffed: str, declared: str) -> None:
    """Open a video or audio file and decode the first frame of the declared kind's stream.

    Only the first frame: the signals decode the rest (up to their time limits) when they index,
    and an import of a catalogue must not cost a full decode of every clip. A general container
    (MP4, WebM, Matroska) sniffs as video; holding sound alone, it is audio.
    """
    import av  # PyAV takes ~0.4 s to import; only imports with video or audio references need it

    try:
        with av.open(str(path)) as container:
            videos, audios = container.streams.video, container.streams.audio
            actual = "audio" if sniffed == "video" and not videos and audios else sniffed
            if actual != declared:
                raise MediaError(_mismatch(actual, declared))
            streams = videos if declared == "video" else audios
            if not streams:
                raise MediaError(f"no {declared} stream")
            if declared == "video":
                context = streams[0].codec_context
                check_pixels("video frame", context.width, context.height, MAX_FRAME_PIXELS)
            frame = next(iter(container.decode(streams[0])), None)
    except MediaError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise MediaError(f"cannot decode {declared}: {exc}") from None
    if frame is None:
        raise MediaError(f"the {declared} stream has no decodable frame")
    if declared == "video":
        check_pixels("video frame", frame.width, frame.height, MAX_FRAME_PIXELS)
