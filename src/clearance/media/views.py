"""Crops of a picture that copy detection compares, on the query and the reference side.

Copies are often crops of the original, or the original sitting inside a bigger canvas (a
screenshot, a poster). A global descriptor of the whole picture misses both, so references
are also indexed by their centre, and an uncertain query is looked at again by its centre and
its four corners: on the dev set this lifts recall at <= 1% false positives from 87% to 98%.

A picture small inside its canvas (a video player in a browser screenshot at 40-60% of the
height) is in none of those crops, so ``framed_picture`` finds it: the largest textured region
that stands out from the canvas's own colour and does not touch the canvas's edge.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

REFERENCE_CENTRE = 0.7
QUERY_CENTRE = 0.7
QUERY_CORNER = 0.6
FRAME_GRID = 96
"""``framed_picture`` looks at the canvas reduced to this many pixels on its longer side (~1.0 ms
for a 512 px frame): a video player in a screenshot is still ~15 px across."""
FRAME_TOLERANCE = 24
"""A grid pixel differs from the canvas when one of its channels is this far (0-255) from the
median colour of the canvas's edge pixels (JPEG noise on a flat canvas stays under ~10)."""
FRAME_MIN_AREA = 0.04
"""Regions smaller than this share of the canvas are captions, buttons or icons, not pictures."""


def centre(image: Image.Image, fraction: float) -> Image.Image:
    w, h = image.size
    cw, ch = max(1, int(w * fraction)), max(1, int(h * fraction))
    x, y = (w - cw) // 2, (h - ch) // 2
    return image.crop((x, y, x + cw, y + ch))


def corners(image: Image.Image, fraction: float) -> list[Image.Image]:
    w, h = image.size
    cw, ch = max(1, int(w * fraction)), max(1, int(h * fraction))
    return [image.crop((x, y, x + cw, y + ch)) for x, y in ((0, 0), (w - cw, 0), (0, h - ch), (w - cw, h - ch))]


def reference_views(image: Image.Image) -> list[tuple[str, Image.Image]]:
    return [("full", image), ("centre", centre(image, REFERENCE_CENTRE))]


def query_crops(image: Image.Image) -> list[tuple[str, Image.Image]]:
    names = ("top-left", "top-right", "bottom-left", "bottom-right")
    return [("centre", centre(image, QUERY_CENTRE)), *zip(names, corners(image, QUERY_CORNER), strict=True)]


def framed_picture(image: Image.Image) -> Image.Image | None:
    """The picture a canvas frames, cropped from ``image``; None when nothing looks framed.

    A canvas is the colour of most of its edge, and has chrome of its own there: an address bar,
    a status bar, a toolbar (regions that differ from the canvas and reach its edge). Without
    chrome there is no canvas: a lone drawing on a plain background is the picture itself, and
    its whole view sees it (this keeps the extra model pass to 16 of the 212 dev distractors,
    where every drawing on white would otherwise pay for one: 92). Among the regions that do
    not reach the edge, the one whose box is largest times its colour spread is the picture,
    so a flat panel of grey buttons loses to the picture beside it. On the dev images this finds
    the picture in 39 of the 40 screenshot copies (three of which no other view matched), and no
    distractor's framed picture matches a reference by more than 0.31
    (``benchmarks/bench_image.py``). The rules were set on those screenshots, which all come
    from one browser-page template: a picture framed without chrome (a bare poster) is missed."""
    scale = FRAME_GRID / max(image.size)
    grid = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    small = image.resize(grid, Image.Resampling.BILINEAR, reducing_gap=2.0)  # as ``thumbnail`` would
    pixels = np.asarray(small.convert("RGB"), dtype=np.int16)
    h, w = pixels.shape[:2]
    edge = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    differs = (np.abs(pixels - np.median(edge, axis=0)) > FRAME_TOLERANCE).any(axis=2)
    if not (differs[0].any() or differs[-1].any() or differs[:, 0].any() or differs[:, -1].any()):
        return None  # no chrome: no region can reach the edge
    boxes = region_boxes(differs)
    at_edge = [x0 == 0 or y0 == 0 or x1 == w or y1 == h for x0, y0, x1, y1 in boxes]
    best, box = 0.0, None
    for (x0, y0, x1, y1), chrome in zip(boxes, at_edge, strict=True):
        area = (x1 - x0) * (y1 - y0)
        if chrome or area < FRAME_MIN_AREA * h * w:
            continue
        spread = float(pixels[y0:y1, x0:x1].std(axis=(0, 1)).mean()) * area
        if spread > best:
            best, box = spread, (x0, y0, x1, y1)
    if box is None:
        return None
    sx, sy = image.width / w, image.height / h
    return image.crop((int(box[0] * sx), int(box[1] * sy), int(np.ceil(box[2] * sx)), int(np.ceil(box[3] * sy))))


def region_boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x0, y0, x1, y1; ends exclusive) of the 4-connected regions of ``mask``:
    its horizontal runs of True, joined where runs on neighbouring rows overlap (union-find over
    runs, so the Python loop is over a few hundred runs, not thousands of pixels)."""
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)
    ends = np.nonzero(edges == -1)[1]
    if not len(rows):
        return []
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first = np.searchsorted(rows, np.arange(mask.shape[0] + 1)).tolist()
    start, end = starts.tolist(), ends.tolist()
    for row in range(mask.shape[0] - 1):
        a, b = first[row], first[row + 1]
        a_end, b_end = b, first[row + 2]
        while a < a_end and b < b_end:
            if start[a] < end[b] and start[b] < end[a]:
                parent[root(a)] = root(b)
            if end[a] < end[b]:
                a += 1
            else:
                b += 1
    label = np.array([root(i) for i in range(len(rows))])
    regions = np.unique(label)
    at = np.searchsorted(regions, label)
    x0, y0 = np.full(len(regions), mask.shape[1]), np.full(len(regions), mask.shape[0])
    x1, y1 = np.zeros(len(regions), np.int64), np.zeros(len(regions), np.int64)
    np.minimum.at(x0, at, starts)
    np.minimum.at(y0, at, rows)
    np.maximum.at(x1, at, ends)
    np.maximum.at(y1, at, rows + 1)
    return list(zip(x0.tolist(), y0.tolist(), x1.tolist(), y1.tolist(), strict=True))
