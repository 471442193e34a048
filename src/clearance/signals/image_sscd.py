"""``image.sscd``: copy detection with SSCD descriptors (distilled model, ONNX).

Catches crops, re-encodes, colour changes, flips, rotations, captions, borders and pictures
pasted into bigger canvases. References are indexed whole and by their centre; a query is
compared whole and, when its best score is uncertain (between ``CROP_FROM`` and the block
threshold), again by its centre and four corners (see ``media/views.py``).

Thresholds were set on the dev images (``benchmarks/bench_images.py``): distractors score at
most ~0.56 except two drawings from the same clip-art series as a reference (0.71, 0.81);
97.7% of copies score >= 0.57. Review and block sit together (0.56/0.57) because every
non-allow verdict on an unrelated image is a false alarm someone has to clear.
Normalising scores against a background set (the SSCD paper's trick) was measured with the
other works' references as background and lowered recall at <= 1% false positives (96.3%
vs 98.1%), so raw cosines are calibrated directly.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from clearance.content import Content
from clearance.index.fingerprints import fingerprint_references, owners_of
from clearance.index.vectors import VectorIndex
from clearance.media.image_decode import decode_frames, frames_of
from clearance.media.sscd import SIZE, shared_embedder
from clearance.media.views import query_crops, reference_views
from clearance.registry.store import ReferenceView, RegistrySnapshot
from clearance.signals.base import SignalType, calibrate
from clearance.verdict import Match

MODEL = "sscd_distilled"
REVIEW_RAW = 0.56
BLOCK_RAW = 0.57
CROP_FROM = 0.35
REPORT_RAW = 0.45
"""Matches this close are kept as (allowing) evidence: a reviewer sees what nearly matched."""
NEIGHBOURS = 16


def embed_views(images: list[Image.Image]) -> np.ndarray:
    """SSCD descriptors of pictures (resized to the model's square input)."""
    frames = [np.asarray(im.resize((SIZE, SIZE), Image.Resampling.BILINEAR)) for im in images]
    return shared_embedder(MODEL).embed_rgb(frames)


class ImageSscd(SignalType):
    name = "image.sscd"
    version = "1"
    content_kinds = frozenset({"image"})

    def index(self, snapshot: RegistrySnapshot) -> None:
        self.refs, rows = fingerprint_references(snapshot, {"image"}, self.store_dir / f"{MODEL}.npz",
                                                 self._reference_vectors)
        self.owner = owners_of(rows)
        self.search = VectorIndex(np.concatenate(rows) if rows else np.zeros((0, 512), np.float32))

    @staticmethod
    def _reference_vectors(ref: ReferenceView) -> np.ndarray:
        frames = decode_frames(Content(kind="image", path=ref.path))
        return embed_views([view for frame in frames for _, view in reference_views(frame)])

    def preload(self) -> None:
        shared_embedder(MODEL)

    def model_versions(self) -> dict[str, str]:
        return {self.name: self.version, "image.sscd_model": MODEL}

    def match(self, content: Content) -> list[Match]:
        if not len(self.search):
            return []
        best: dict[int, tuple[float, int, str]] = {}
        for number, frame in enumerate(frames_of(content)):
            for score, ref, view in self._frame_scores(frame):
                if score > best.get(ref, (-1.0,))[0]:
                    best[ref] = (score, number, view)
        return [self._match(ref, *hit) for ref, hit in best.items() if hit[0] >= REPORT_RAW]

    def _frame_scores(self, frame: Image.Image) -> list[tuple[float, int, str]]:
        """(cosine, reference, view) of the references nearest to this frame."""
        views = [("full", frame)]
        scores = self._nearest(embed_views([frame]), views)
        top = max((s for s, _, _ in scores), default=0.0)
        if CROP_FROM <= top < BLOCK_RAW:
            crops = query_crops(frame)
            scores += self._nearest(embed_views([im for _, im in crops]), crops)
        return scores

    def _nearest(self, vectors: np.ndarray, views: list[tuple[str, Image.Image]]) -> list[tuple[float, int, str]]:
        sims, rows = self.search.search(vectors, NEIGHBOURS)
        return [(float(s), int(self.owner[r]), views[i][0])
                for i in range(len(views)) for s, r in zip(sims[i], rows[i], strict=True) if r >= 0]

    def _match(self, ref_index: int, raw: float, frame: int, view: str) -> Match:
        work, ref = self.refs[ref_index]
        return Match(
            work_id=work.slug, owner=work.owner, element=ref.element, signal=self.name, basis="media",
            score=round(calibrate(raw, REVIEW_RAW, BLOCK_RAW), 4), raw_score=round(raw, 4),
            evidence=f"SSCD cosine {raw:.2f} to reference {ref.source_name} ({view} view, frame {frame})",
            details={"reference_sha256": ref.sha256, "reference": ref.source_name, "frame": frame,
                     "query_view": view, "model": MODEL},
        )
