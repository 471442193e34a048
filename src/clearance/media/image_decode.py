"""Decode still images safely into a few RGB frames, ready for fingerprinting.

Uploads are hostile: a 50,000 x 50,000 PNG of one colour is a few kilobytes and gigabytes
once decoded, so the pixel count is checked from the header before any decoding. Every
other oddity (CMYK, 16-bit, palette, alpha, EXIF rotation, animation) is turned into plain
RGB frames, and anything unreadable becomes a ``MediaError`` that the screener reports as
a ``review`` verdict.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from clearance.content import Content
from clearance.media.probe import MediaError

MAX_PIXELS = 60_000_000
"""Refuse images with more pixels than this (per frame), before decoding them."""
MAX_FRAMES = 8
"""Animated images: at most this many frames, spread over the animation."""
WORKING_SIZE = 768
"""Frames are reduced to at most this many pixels on the longer side (JPEG decodes at reduced scale)."""

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def _to_rgb(frame: Image.Image) -> Image.Image:
    """Flatten any mode to RGB; transparent areas become white, as a viewer would show them."""
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if frame.mode in ("I;16", "I;16B", "I;16L", "I"):
        return frame.point(lambda v: v / 256).convert("L").convert("RGB")
    return frame.convert("RGB")


def _open(content: Content) -> Image.Image:
    source = io.BytesIO(content.data) if content.data is not None else content.path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(f"image too large to decode safely: {exc}") from None
    except UnidentifiedImageError:
        raise MediaError("not a readable image (corrupt or unsupported format)") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise MediaError(f"image of {width}x{height} pixels is over the {MAX_PIXELS}-pixel limit")
    if width == 0 or height == 0:
        raise MediaError("image has no pixels")
    return image


def decode_frames(content: Content) -> list[Image.Image]:
    """RGB frames of an image (one for a still), upright and at most ``WORKING_SIZE`` pixels."""
    image = _open(content)
    try:
        n_frames = getattr(image, "n_frames", 1)
        if n_frames > 1:
            step = max(1, n_frames // MAX_FRAMES)
            frames = [f.copy() for i, f in enumerate(ImageSequence.Iterator(image)) if i % step == 0][:MAX_FRAMES]
        else:
            image.draft("RGB", (WORKING_SIZE, WORKING_SIZE))  # JPEG: decode at a reduced scale
            frames = [ImageOps.exif_transpose(image)]
        out = []
        for frame in frames:
            rgb = _to_rgb(frame)
            rgb.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.BILINEAR)
            out.append(rgb)
        return out
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"truncated or corrupt image: {exc}") from None


def frames_of(content: Content) -> list[Image.Image]:
    """Decoded frames, shared by every image signal through ``Content.memo``."""
    return content.memo("image.frames", lambda: decode_frames(content))
