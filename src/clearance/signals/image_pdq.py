"""``image.pdq``: PDQ perceptual hashes, the cheap near-exact check.

PDQ (Meta's 256-bit perceptual hash) matches re-encodes, resizes, mild colour changes and,
with its eight dihedral variants computed on the query, flips and 90-degree rotations; it is
weak on crops and canvases, which ``image.sscd`` covers. Distance <= 31 bits is PDQ's own
match threshold (block); up to 45 bits is worth a look (review). Hashes whose quality is
below 50 (flat or tiny images) are not trusted.
"""

from __future__ import annotations

import numpy as np
import pdqhash
from PIL import Image

from clearance.content import Content
from clearance.index.fingerprints import fingerprint_references, owners_of
from clearance.media.image_decode import decode_frames, frames_of
from clearance.registry.store import ReferenceView, RegistrySnapshot
from clearance.signals.base import SignalType, calibrate
from clearance.verdict import Match

HASH_SIZE = 256
"""Frames are reduced to this size before hashing: PDQ works on a 64x64 summary anyway, and
hashing 256 px instead of 768 px is ~3x cheaper (the scrub's per-item budget)."""
BLOCK_BITS = 31
REVIEW_BITS = 45
MIN_QUALITY = 50


def small(frame: Image.Image) -> np.ndarray:
    thumb = frame.copy()
    thumb.thumbnail((HASH_SIZE, HASH_SIZE), Image.Resampling.BILINEAR)
    return np.asarray(thumb)


def pack(bits: np.ndarray) -> np.ndarray:
    """256 0/1 values -> 4 uint64 words, for XOR + popcount distances."""
    return np.packbits(bits.astype(np.uint8)).view(np.uint64)


class ImagePdq(SignalType):
    name = "image.pdq"
    version = "2"
    content_kinds = frozenset({"image"})

    def index(self, snapshot: RegistrySnapshot) -> None:
        self.refs, rows = fingerprint_references(snapshot, {"image"}, self.store_dir / f"pdq-v{self.version}.npz",
                                                 self._reference_hashes)
        trusted = [r[r[:, -1] >= MIN_QUALITY] for r in rows]  # columns: 4 packed words, quality
        self.owner = owners_of(trusted)
        self.hashes = (np.concatenate(trusted)[:, :4].astype(np.uint64) if trusted
                       else np.zeros((0, 4), np.uint64))

    @staticmethod
    def _reference_hashes(ref: ReferenceView) -> np.ndarray:
        """One row per frame: 4 packed words, then the quality."""
        rows = []
        for frame in decode_frames(Content(kind="image", path=ref.path)):
            bits, quality = pdqhash.compute(small(frame))
            rows.append(np.concatenate([pack(bits), np.array([quality], dtype=np.uint64)]))
        return np.stack(rows)

    def match(self, content: Content) -> list[Match]:
        if not len(self.hashes):
            return []
        best: dict[int, tuple[int, int, int]] = {}
        for number, frame in enumerate(frames_of(content)):
            variants, quality = pdqhash.compute_dihedral(small(frame))
            if quality < MIN_QUALITY:
                continue
            query = np.stack([pack(v) for v in variants])  # 8 x 4
            distances = np.bitwise_count(query[:, None, :] ^ self.hashes[None, :, :]).sum(axis=2).min(axis=0)
            for row in np.flatnonzero(distances <= REVIEW_BITS):
                ref = int(self.owner[row])
                if int(distances[row]) < best.get(ref, (REVIEW_BITS + 1,))[0]:
                    best[ref] = (int(distances[row]), number, int(quality))
        return [self._match(ref, *hit) for ref, hit in best.items()]

    def _match(self, ref_index: int, distance: int, frame: int, quality: int) -> Match:
        work, ref = self.refs[ref_index]
        return Match(
            work_id=work.slug, owner=work.owner, element=ref.element, signal=self.name, basis="media",
            score=round(calibrate(distance, REVIEW_BITS, BLOCK_BITS), 4), raw_score=float(distance),
            evidence=f"PDQ distance {distance}/256 bits to reference {ref.source_name} (frame {frame})",
            details={"reference_sha256": ref.sha256, "reference": ref.source_name, "frame": frame,
                     "hamming_bits": distance, "quality": quality},
        )
