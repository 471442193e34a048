"""Safe image decoding on real dev images turned into every awkward encoding, and hostile input."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from clearance.content import Content
from clearance.media.image_decode import (
    MAX_FRAMES,
    MAX_PIXELS,
    QUERY_SIZE,
    WORKING_SIZE,
    decode_frames,
    frame_number,
    frames_of,
)
from clearance.media.probe import MediaError
from tests.conftest import DATA

REF = DATA / "images" / "ref" / "ref_000.jpg"


def encode(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def frames(data: bytes) -> list[Image.Image]:
    return decode_frames(Content(kind="image", data=data))


def test_large_jpeg_is_decoded_reduced_and_upright() -> None:
    big = Image.open(REF).convert("RGB").resize((2048, 1365))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated 90 degrees: viewers show it portrait
    (frame,) = frames(encode(big, "JPEG", exif=exif))
    assert frame.mode == "RGB" and max(frame.size) <= WORKING_SIZE
    assert frame.height > frame.width  # orientation applied


def test_a_screened_image_is_reduced_once_and_a_reference_to_its_working_size() -> None:
    """A screened JPEG is used at its DCT scale (512-1023 px), a PNG is reduced to ``QUERY_SIZE``;
    references go down to ``WORKING_SIZE``, where their cached fingerprints were computed."""
    photo = Image.open(REF).convert("RGB")
    tall_jpeg = encode(photo.resize((512, 900)), "JPEG")
    big_png = encode(photo.resize((2400, 1600)), "PNG")
    assert frames_of(Content(kind="image", data=tall_jpeg))[0].size == (512, 900)
    assert frames_of(Content(kind="image", data=big_png))[0].size == (QUERY_SIZE, 683)
    assert frames(tall_jpeg)[0].size == (291, WORKING_SIZE)
    assert frames(big_png)[0].size == (WORKING_SIZE, 341)


@pytest.mark.parametrize("mode", ["CMYK", "P", "RGBA", "LA", "L", "1"])
def test_every_mode_becomes_rgb(mode: str) -> None:
    source = Image.open(REF).convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    (frame,) = frames(encode(source, fmt))
    assert frame.mode == "RGB"


def test_sixteen_bit_keeps_its_tones() -> None:
    grey = np.asarray(Image.open(REF).convert("L"))
    (frame,) = frames(encode(Image.fromarray(grey.astype(np.uint16) * 257), "PNG"))
    decoded = np.asarray(frame.convert("L").resize(grey.shape[::-1]), dtype=float)
    assert np.corrcoef(decoded.ravel(), grey.ravel().astype(float))[0, 1] > 0.95


def test_transparent_areas_become_white() -> None:
    clear = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    (frame,) = frames(encode(clear, "PNG"))
    assert frame.getpixel((10, 10)) == (255, 255, 255)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_every_distinct_frame_of_an_animation_is_screened(fmt: str) -> None:
    """A slow ramp of 29 frames keeps a few of them; a registered still as one frame of it is always
    among the frames screened, named by its own position (frames at even steps missed frame 7 of 10)."""
    ref = Image.open(REF).convert("RGB").resize((320, 320))
    ramp = [Image.new("RGB", ref.size, (i * 8, 40, 90)) for i in range(29)]
    slides = [*(Image.new("RGB", ref.size, (0, 25 * i, 0)) for i in range(7)), Image.new("RGB", ref.size, (200, 0, 0)),
              Image.new("RGB", ref.size, (0, 0, 200))]
    for frames_in, at, most in ((ramp, 29, 12), (slides, 7, 10)):
        content = Content(kind="image", data=encode(frames_in[0], fmt, save_all=True,
                                                     append_images=[*frames_in[1:at], ref, *frames_in[at:]],
                                                     duration=40))
        decoded = decode_frames(content)
        assert len(decoded) <= most and not content.unscreened
        shown = next(f for f in decoded if frame_number(f) == at)
        assert np.abs(np.asarray(shown, dtype=float) - np.asarray(ref.resize(shown.size), dtype=float)).mean() < 25


def test_a_blink_between_two_pictures_is_two_frames() -> None:
    """A loop shows the same few pictures again and again: each is screened once, and 80 frames of
    two pictures are not "80 distinct frames" (compared with the last kept frame only, they were)."""
    two = [Image.new("RGB", (64, 64), (200, 30, 30)), Image.new("RGB", (64, 64), (30, 30, 200))]
    content = Content(kind="image", data=encode(two[0], "GIF", save_all=True, append_images=[*two[1:], *two * 39]))
    assert [frame_number(f) for f in decode_frames(content)] == [0, 1] and not content.unscreened


def test_an_animation_with_more_than_can_be_screened_says_so() -> None:
    slides = [Image.new("RGB", (64, 64), ((37 * i) % 256, (91 * i) % 256, (53 * i) % 256)) for i in range(40)]
    content = Content(kind="image", data=encode(slides[0], "GIF", save_all=True, append_images=slides[1:]))
    assert len(decode_frames(content)) == MAX_FRAMES
    assert content.unscreened == [f"animation of 40 distinct frames screened on its first {MAX_FRAMES}"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"empty|no pixels|not a readable"),
        (b"\xff\xd8\xff" + b"\x00" * 300, r"corrupt|not a readable"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64, r"corrupt|not a readable|unsupported"),
        (b"8BPS\x00\x01" + b"\x00" * 64, r"corrupt|not a readable|unsupported"),
    ],
)
def test_unreadable_bytes_raise_media_error(data: bytes, message: str) -> None:
    with pytest.raises(MediaError, match=message):
        frames(data)


def test_truncated_file_raises_media_error() -> None:
    data = REF.read_bytes()
    with pytest.raises(MediaError, match="truncated or corrupt"):
        frames(data[: len(data) // 2])


def test_decompression_bomb_is_refused_before_decoding() -> None:
    """Refused from the header, each with the one limit (Pillow's messages named 120,000,000 pixels
    above twice the limit and 60,000,000 below it)."""
    for side in (20_000, 11_000):  # 400 and 121 Mpx in ~50 kB
        bomb = encode(Image.new("1", (side, side)), "PNG")
        assert len(bomb) < 200_000
        start = time.perf_counter()
        with pytest.raises(MediaError) as err:
            frames(bomb)
        assert time.perf_counter() - start < 0.5  # refused from the header, nothing decoded
        assert str(err.value) == f"image too large to decode safely (over {MAX_PIXELS:,} pixels)"


def test_a_large_later_page_is_refused_too() -> None:
    """A TIFF's pages need not share the first page's size: a small first page must not let a
    90 Mpx second one (between the 60 Mpx limit and Pillow's own 120 Mpx) be decoded."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buf, "TIFF", save_all=True, compression="tiff_deflate",
                                           append_images=[Image.new("1", (9_500, 9_500))])
    with pytest.raises(MediaError) as err:
        frames(buf.getvalue())
    assert str(err.value) == f"frame 1 of 9500x9500 pixels is over the limit of {MAX_PIXELS:,} pixels"  # not "corrupt"
