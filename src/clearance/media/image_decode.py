"""Decode still images safely into a few RGB frames, ready for fingerprinting.

Uploads are hostile: a 50,000 x 50,000 PNG of one colour is a few kilobytes and gigabytes
once decoded, so the pixel count is checked from the header before any decoding, and an
animation is read for a bounded number of frames. Every other oddity (CMYK, 16-bit, palette,
alpha, EXIF rotation, animation) is turned into plain upright RGB frames, and anything
unreadable becomes a ``MediaError`` that the screener reports as a ``review`` verdict.

Fingerprints need little resolution (SSCD looks at 288 px, PDQ at 64 px), so frames are
reduced to ``WORKING_SIZE``; JPEGs are decoded straight at a reduced scale (DCT scaling),
which makes decoding a 1024 px photo ~2.5x cheaper than a full decode.
"""

from __future__ import annotations

import io
import math
import struct
import warnings

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from clearance.content import Content
from clearance.media.probe import MediaError, check_pixels

MAX_PIXELS = 60_000_000
"""Refuse images with more pixels than this (per frame), before decoding them."""
MAX_FRAMES = 32
"""Animated images: at most this many distinct frames are screened; an animation with more is
screened on its first ones and says so (``Content.unscreened``)."""
MAX_SCANNED_FRAMES = 480
"""Animated images: frames after this many are not looked at (bounds decoding time), and the
verdict says so."""
FRAME_CHANGE = 12.0
"""Mean absolute difference (0-255) of 16x16 colour thumbnails from every distinct frame so far
that makes a frame distinct: a slide show's every slide is, a clip's slow pan only now and then,
and a blink between two pictures twice in all."""
FRAME_INDEX = "clearance.frame"
"""Where a decoded frame keeps its position in the animation, which evidence names."""
WORKING_SIZE = 512
"""References (and the shipped background) are reduced to at most this many pixels on the longer
side: their cached fingerprints were computed there."""
QUERY_SIZE = 1024
"""What is screened is reduced to at most this many (``frames_of``). DCT scaling already decodes a
JPEG within 2x of ``WORKING_SIZE``; reducing it to 512 px as well cost ~2.5 ms for each of the 38%
of the scrub benchmark's records taller than 512 px, and its 288 px square is then a second
resample of the same pixels. Decoded frames go to the square in one step (0.6 ms a record less,
2026-12-06, with the same dev and benchmark results)."""

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
TOO_LARGE = f"image too large to decode safely (over {MAX_PIXELS:,} pixels)"
"""Pillow's own messages named twice the limit above 2x it and the limit below (120,000,000 for a
900-megapixel PNG, 60,000,000 for a 119-megapixel one): one limit is said."""
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError)
"""What Pillow raises on truncated or malformed data (varies by format plug-in)."""


def _to_rgb(frame: Image.Image) -> Image.Image:
    """Flatten any mode to RGB; transparent areas become white, as a viewer would show them."""
    if frame.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if frame.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        return frame.point(lambda v: v / 256).convert("L").convert("RGB")
    if frame.mode == "F":
        return frame.convert("L").convert("RGB")
    return frame.convert("RGB")


def open_image(content: Content) -> Image.Image:
    """Open lazily (header only) and refuse what is too large to decode safely."""
    source = io.BytesIO(content.data) if content.data is not None else content.path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError(TOO_LARGE) from None
    except UnidentifiedImageError:
        raise MediaError("not a readable image (corrupt or unsupported format)") from None
    except _DECODE_ERRORS as exc:
        raise MediaError(f"unreadable image header: {exc}") from None
    width, height = image.size
    check_pixels("image", width, height, MAX_PIXELS)
    if width == 0 or height == 0:
        raise MediaError("image has no pixels")
    return image


def _reduced_still(image: Image.Image) -> Image.Image:
    """The single frame of a still, decoded at the smallest scale that keeps ``WORKING_SIZE``."""
    scale = WORKING_SIZE / max(image.size)
    if scale < 1:  # JPEG only: pick the DCT scale giving at least this size
        image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    ImageOps.exif_transpose(image, in_place=True)  # a copy would cost ~0.5 ms; _to_rgb makes the one we need
    return image


_ORIENTATION = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
                5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                8: Image.Transpose.ROTATE_90}
"""EXIF orientation -> the turn that makes the picture upright (``ImageOps.exif_transpose``'s table)."""


def _animation_frames(image: Image.Image, n_frames: int) -> tuple[list[Image.Image], list[str]]:
    """The distinct frames (``FRAME_CHANGE``) of the first ``MAX_SCANNED_FRAMES``, at most
    ``MAX_FRAMES`` of them, and what was left out. Frames sampled at even steps missed a registered
    still shown as one frame of ten (a slide show), and said nothing: every frame is looked at, and
    each one unlike every frame kept so far is screened."""
    scanned = min(n_frames, MAX_SCANNED_FRAMES)
    upright = _ORIENTATION.get(image.getexif().get(ExifTags.Base.Orientation, 1))  # as viewers turn them all
    frames: list[Image.Image] = []
    seen = np.empty((scanned, 16 * 16 * 3), np.float32)  # the distinct frames' thumbnails, filled in order
    distinct = 0
    for index in range(scanned):
        image.seek(index)
        check_pixels(f"frame {index}", image.width, image.height, MAX_PIXELS)  # TIFF pages differ in size
        thumb = np.asarray(image.convert("RGB").resize((16, 16), Image.Resampling.BOX), dtype=np.float32).ravel()
        if distinct and float(np.abs(seen[:distinct] - thumb).mean(axis=1).min()) <= FRAME_CHANGE:
            continue  # like a frame already kept (a blink or a loop shows the same few again and again)
        seen[distinct] = thumb
        distinct += 1
        if len(frames) < MAX_FRAMES:
            frame = _to_rgb(image) if upright is None else _to_rgb(image).transpose(upright)
            frame.info[FRAME_INDEX] = index
            frames.append(frame)
    left_out = []
    if distinct > MAX_FRAMES:
        left_out.append(f"animation of {distinct} distinct frames screened on its first {MAX_FRAMES}")
    if n_frames > MAX_SCANNED_FRAMES:
        left_out.append(f"animation screened on its first {MAX_SCANNED_FRAMES} of {n_frames} frames only")
    return frames, left_out


def decode_frames(content: Content, size: int = WORKING_SIZE) -> list[Image.Image]:
    """RGB frames of an image (one for a still), upright and at most ``size`` pixels. Frames of an
    animation left unscreened are noted in ``content.unscreened``."""
    image = open_image(content)
    try:
        n_frames = getattr(image, "n_frames", 1)
        frames, left_out = (_animation_frames(image, n_frames) if n_frames > 1
                            else ([_to_rgb(_reduced_still(image))], []))
        content.unscreened.extend(left_out)
        for frame in frames:
            frame.thumbnail((size, size), Image.Resampling.BILINEAR)
        return frames
    except Image.DecompressionBombError:
        raise MediaError(TOO_LARGE) from None
    except MediaError:  # a page over the limit (``check_pixels``) says so, not "truncated or corrupt"
        raise
    except _DECODE_ERRORS as exc:
        raise MediaError(f"truncated or corrupt image: {exc}") from None
    finally:
        image.close()


def frame_number(frame: Image.Image) -> int:
    """The frame's position in its animation (0 for a still), for evidence."""
    return int(frame.info.get(FRAME_INDEX, 0))


def frames_of(content: Content) -> list[Image.Image]:
    """The frames of what is being screened (at most ``QUERY_SIZE``), shared by every image signal
    through ``Content.memo``. References are decoded with ``decode_frames`` at ``WORKING_SIZE``."""
    return content.memo("image.frames", lambda: decode_frames(content, QUERY_SIZE))
