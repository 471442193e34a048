"""``image.sscd``: copy detection with SSCD descriptors (distilled model, ONNX).

Catches crops, re-encodes, colour changes, flips, rotations, captions, borders and pictures
pasted into bigger canvases. References are indexed whole and by their centre; a query is
compared whole and, unless that blocks, by the picture its canvas frames when it has one
(a screenshot's video player); when its best score is then uncertain (between ``CROP_FROM`` and
the block threshold), again by its centre, then by its four corners if still uncertain above
``CORNERS_FROM`` (see ``media/views.py``).

Scores are normalised against a background of unrelated pictures (``index/background.py``):
each query view's cosine to a reference minus its cosine to its 10th nearest background
picture. Review/block thresholds on that normalised score were set on the dev images
(``benchmarks/bench_image.py``): unrelated images score at most ~0.42 except two drawings
from the same clip-art series as a reference; 97% of copies score >= 0.47.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from clearance.content import Content
from clearance.index.background import BackgroundNormaliser, load_background
from clearance.index.fingerprints import fingerprint_references, owners_of
from clearance.index.vectors import VectorIndex
from clearance.media import sscd_runtime
from clearance.media.image_decode import decode_frames, frame_number, frames_of
from clearance.media.sscd import SscdEmbedder, shared_embedder, squares_of
from clearance.media.views import framed_picture, query_crops, reference_views
from clearance.registry.views import ReferenceView, RegistrySnapshot
from clearance.signals.base import SignalType, calibrate
from clearance.verdict import Match

MODEL = "sscd_distilled"
REVIEW_RAW = 0.56
BLOCK_RAW = 0.57
REPORT_RAW = 0.45
"""Thresholds on *raw* cosines, for signals that compare SSCD frames without a background
(``video.frames`` aligns frames in time instead)."""
REVIEW_AT = 0.45
BLOCK_AT = 0.47
"""Thresholds on the background-normalised cosine (this signal's ``raw_score``)."""
CROP_FROM = 0.25
"""A whole-picture score between this and ``BLOCK_AT`` sends the query's centre through too."""
CORNERS_FROM = 0.35
"""A best score (whole or centre) between this and ``BLOCK_AT`` sends the four corners through."""
REPORT_FROM = 0.35
"""Matches this close are kept as (allowing) evidence: a reviewer sees what nearly matched."""
NEIGHBOURS = 16
FINGERPRINTS = f"{MODEL}-v3"
"""Names the references' fingerprints (what is cached, ``index.fingerprints``), versioned apart from
the signal: a change on the query side alone (``version`` 4: the framed picture) leaves them as they
were."""


def embed_views(images: list[Image.Image], exact: bool = False) -> np.ndarray:
    """SSCD descriptors of pictures (resized to the model's square input): ``exact`` for references,
    fast for queries (``media.sscd_runtime``)."""
    return shared_embedder(MODEL, exact).embed_rgb([SscdEmbedder.prepare(im) for im in images])


class ImageSscd(SignalType):
    name = "image.sscd"
    version = "4"
    content_kinds = frozenset({"image"})
    bases = frozenset({"media"})

    def index(self, snapshot: RegistrySnapshot) -> None:
        self.refs, rows = fingerprint_references(snapshot, {"image"}, self.store_dir, FINGERPRINTS,
                                                 self._reference_vectors)
        vectors = np.concatenate(rows) if rows else np.zeros((0, 512), np.float32)
        self.owner = owners_of(rows)
        self.search = VectorIndex(vectors, cache_dir=self.store_dir)
        self.normaliser = BackgroundNormaliser(load_background(MODEL), vectors)

    @staticmethod
    def _reference_vectors(ref: ReferenceView) -> np.ndarray:
        frames = decode_frames(Content(kind="image", path=ref.path))
        return embed_views([view for frame in frames for _, view in reference_views(frame)], exact=True)

    def preload(self) -> None:
        shared_embedder(MODEL)

    def model_versions(self) -> dict[str, str]:
        return {self.name: self.version, "image.sscd_model": MODEL}

    def query_versions(self) -> dict[str, str]:
        return {"image.sscd_runtime": sscd_runtime.query_label()}

    def match(self, content: Content) -> list[Match]:
        if not len(self.search):
            return []
        whole = shared_embedder(MODEL).embed_rgb(squares_of(content))  # every frame in one batch
        best: dict[int, tuple[float, float, int, str]] = {}
        for frame, vector in zip(frames_of(content), whole, strict=True):
            for score, cosine, ref, view in self._frame_scores(frame, vector):
                if score > best.get(ref, (-2.0,))[0]:
                    best[ref] = (score, cosine, frame_number(frame), view)
        return [self._match(ref, *hit) for ref, hit in best.items() if hit[0] >= REPORT_FROM]

    def _frame_scores(self, frame: Image.Image, whole: np.ndarray) -> list[tuple[float, float, int, str]]:
        """(normalised score, cosine, reference, view) of the references nearest to this frame.

        A whole picture that does not block is looked at again by the picture its canvas frames,
        if any, whatever its score: a small picture in a screenshot leaves the whole too unlike
        the reference to look uncertain. An uncertain one is then looked at by its centre, and
        by its four corners only when the picture or its centre looks like something
        (``CORNERS_FROM``): on the dev set the centre alone finds 23 of the 24 copies that need a
        crop, and the corners then cost a quarter of the work they cost when every uncertain
        picture paid for them."""
        scores = self._nearest(["full"], whole[None, :])
        if _top(scores) < BLOCK_AT and (framed := framed_picture(frame)) is not None:
            scores += self._nearest(["framed"], embed_views([framed]))
        if CROP_FROM <= _top(scores) < BLOCK_AT:
            (name, centre), *corners = query_crops(frame)
            scores += self._nearest([name], embed_views([centre]))
            if CORNERS_FROM <= _top(scores) < BLOCK_AT:
                scores += self._nearest([name for name, _ in corners], embed_views([im for _, im in corners]))
        return scores

    def _nearest(self, views: list[str], vectors: np.ndarray) -> list[tuple[float, float, int, str]]:
        offsets = self.normaliser.offsets(vectors)
        sims, rows = self.search.search(vectors, NEIGHBOURS)
        return [(float(s - offsets[i]), float(s), int(self.owner[r]), views[i])
                for i in range(len(views)) for s, r in zip(sims[i], rows[i], strict=True) if r >= 0]

    def _match(self, ref_index: int, score: float, cosine: float, frame: int, view: str) -> Match:
        work, ref = self.refs[ref_index]
        return Match(
            work_id=work.slug, owner=work.owner, element=ref.element, signal=self.name, basis="media",
            score=round(calibrate(score, REVIEW_AT, BLOCK_AT), 4), raw_score=round(score, 4),
            evidence=f"SSCD {score:.2f} above background (cosine {cosine:.2f}) to reference {ref.source_name} "
                     f"({view} view, frame {frame})",
            details={"reference_sha256": ref.sha256, "reference": ref.source_name, "frame": frame,
                     "query_view": view, "model": MODEL, "cosine": round(cosine, 4),
                     "background_offset": round(cosine - score, 4)},
        )


def _top(scores: list[tuple[float, float, int, str]]) -> float:
    return max((score for score, *_ in scores), default=-1.0)
