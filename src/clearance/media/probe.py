"""Decide what kind of media a file is from its bytes, not its name.

Uploads arrive with arbitrary or missing names, and a renamed file must not slip past
the screening of its real kind; unknown formats fail loudly (and so become ``review``).
"""

from __future__ import annotations

from pathlib import Path

MAX_MEDIA_BYTES = 2 * 1024**3
"""Refuse files larger than this outright (2 GiB)."""
MEDIA_SUFFIXES = frozenset((
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".avif", ".heic", ".heif",
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts",
    ".mp3", ".wav", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac",
))
"""File names that batch jobs (folder trees, tar shards, output stores) take for media. The kind
is still sniffed from the bytes, so a file that is not what its name says is reviewed, not skipped."""


class MediaError(ValueError):
    """Media that cannot be screened: empty, truncated, corrupt, too large or unsupported."""


def check_pixels(what: str, width: int, height: int, limit: int) -> None:
    """Refuse a picture or frame over ``limit`` pixels before it is decoded (decompression bombs)."""
    if width * height > limit:
        raise MediaError(f"{what} of {width}x{height} pixels is over the limit of {limit:,} pixels")


TS_PACKET = 188
HEAD_BYTES = 3 * TS_PACKET + 1
"""Bytes ``sniff`` reads: three transport-stream packets' sync bytes are the shortest sure sign of one."""
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
_AUDIO_MAGIC = (b"ID3", b"fLaC", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xf1", b"\xff\xf9")


def sniff(head: bytes) -> str:
    """Kind of media from the first bytes: image, video or audio."""
    if not head:
        raise MediaError("empty file (0 bytes)")
    if head.startswith(_IMAGE_MAGIC):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP",):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    if head.startswith(_AUDIO_MAGIC):
        return "audio"
    if head[:4] == b"OggS":
        return "video" if b"theora" in head[:64] else "audio"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis", b"heic", b"heix", b"mif1"):
            return "image"
        return "audio" if brand in (b"M4A ", b"M4B ", b"M4P ") else "video"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):  # MPEG program stream (.mpg, .mpeg)
        return "video"
    if len(head) > 2 * TS_PACKET and all(head[i] == 0x47 for i in (0, TS_PACKET, 2 * TS_PACKET)):
        return "video"  # MPEG transport stream (.ts): a sync byte every 188 bytes
    raise MediaError("unsupported or unrecognised media format")


def detect_kind(*, path: Path | None = None, data: bytes | None = None) -> str:
    if data is not None:
        return sniff(data[:HEAD_BYTES])
    assert path is not None
    size = path.stat().st_size
    if size > MAX_MEDIA_BYTES:
        raise MediaError(f"file of {size} bytes is over the {MAX_MEDIA_BYTES}-byte limit")
    with path.open("rb") as fh:
        return sniff(fh.read(HEAD_BYTES))
