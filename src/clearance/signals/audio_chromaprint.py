"""``audio.chromaprint``: theme music and soundtracks found, with the offset, in audio and video.

Chromaprint (``fpcalc``) fingerprints are compared at every offset, so a 5-second excerpt
is found anywhere inside a registered piece, and the bit error rate at the best offset is
the raw score (re-encodes, volume changes, added noise or speech stay well below the ~0.45
of unrelated music). Chromaprint is not robust to speed/pitch changes, so when the plain
fingerprint finds nothing, the query is fingerprinted again as if played 5% slower and 5%
faster (by declaring a different sample rate for the same PCM: the resampling a speed-up
used, undone) — measured on the dev set, this finds the +5% copies that plain Chromaprint
misses. The sound track of a video is screened too, and the sound of registered clips is
registered.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np

from clearance.content import Content
from clearance.index.fingerprints import fingerprint_references
from clearance.media.audio_decode import RATE, Pcm, decode_pcm, pcm_of
from clearance.media.probe import MediaError
from clearance.media.video_decode import video_of
from clearance.registry.views import ReferenceView, RegistrySnapshot, WorkView
from clearance.signals.base import SignalType, calibrate
from clearance.verdict import Match

ITEM_SECONDS = 4096 / 3 / RATE
"""Time covered by one Chromaprint item (about 0.124 s)."""
TAIL_SECONDS = 2.65
"""Audio after the last item's start that the item still describes (a 45 s piece yields items up to 42.35 s)."""
MIN_OVERLAP = 14
"""Items two fingerprints must share at an offset to be compared: a 5 s excerpt yields about 19."""
SHORT_PENALTY = 0.6
"""Bit error rates over few items are noisy (the best of hundreds of offsets of unrelated music
dips low), so the score is the error rate plus ``SHORT_PENALTY / sqrt(overlap)``."""
MIN_SECONDS = (MIN_OVERLAP - 1) * ITEM_SECONDS + TAIL_SECONDS
"""The shortest audio that yields ``MIN_OVERLAP`` items (about 4.3 s): anything shorter cannot be
compared, and below ~2.7 s ``fpcalc`` gives no fingerprint at all."""
REVIEW_BER = 0.33
BLOCK_BER = 0.28
SPEED_VARIANTS = (1 / 1.05, 1.05)
FINGERPRINTS = "chromaprint-v1"
"""Names the references' stored items (``index.fingerprints``): a change to what ``_reference_items``
gives must change it, or homes and the machine's cache keep serving the old items. Chromaprint's
own output is stable across its releases (AcoustID's database relies on it), so ``fpcalc``'s
version is not part of it."""


def fingerprint(pcm: Pcm, speed: float = 1.0) -> np.ndarray:
    """Chromaprint items of PCM played at ``speed`` (1.05 = the original was sped up 5%)."""
    fpcalc = shutil.which("fpcalc")
    if fpcalc is None:
        raise MediaError("fpcalc not found (install libchromaprint-tools)")
    rate = str(round(RATE / speed))
    cmd = [fpcalc, "-format", "s16le", "-rate", rate, "-channels", "1", "-raw", "-json", "-length", "0", "-"]
    run = subprocess.run(cmd, input=pcm.samples.tobytes(), capture_output=True, timeout=120, check=False)
    try:
        items = json.loads(run.stdout.decode().splitlines()[0])["fingerprint"]
    except (IndexError, KeyError, ValueError):
        raise MediaError(f"fpcalc failed: {run.stderr.decode(errors='replace').strip()[:200]}") from None
    return np.array(items, dtype=np.uint32)


def best_offset(query: np.ndarray, ref: np.ndarray) -> tuple[float, int, int]:
    """(penalised bit error rate, offset, overlap) at the offset where ``query`` sits best in ``ref``."""
    m, n = len(query), len(ref)
    best = (1.0, 0, 0)
    for offset in range(-(m - MIN_OVERLAP), n - MIN_OVERLAP + 1):
        q0, r0 = max(0, -offset), max(0, offset)
        length = min(m - q0, n - r0)
        if length < MIN_OVERLAP:
            continue
        errors = int(np.bitwise_count(query[q0 : q0 + length] ^ ref[r0 : r0 + length]).sum())
        ber = errors / (32 * length) + SHORT_PENALTY / length**0.5
        if ber < best[0]:
            best = (ber, offset, length)
    return best


class AudioChromaprint(SignalType):
    name = "audio.chromaprint"
    version = "2"
    content_kinds = frozenset({"audio", "video"})
    bases = frozenset({"media"})

    def index(self, snapshot: RegistrySnapshot) -> None:
        refs, rows = fingerprint_references(snapshot, {"audio", "video"}, self.store_dir, FINGERPRINTS,
                                            self._reference_items)
        self.refs: list[tuple[WorkView, ReferenceView, np.ndarray]] = [
            (work, ref, items.astype(np.uint32)) for (work, ref), items in zip(refs, rows, strict=True)
            if len(items) >= MIN_OVERLAP
        ]

    @staticmethod
    def _reference_items(ref: ReferenceView) -> np.ndarray:
        pcm = decode_pcm(Content(kind=ref.kind, path=ref.path))
        return fingerprint(pcm) if pcm is not None else np.zeros(0, np.uint32)

    def match(self, content: Content) -> list[Match]:
        if not self.refs:
            return []
        pcm = pcm_of(content)
        if pcm is None:
            if content.kind == "audio":
                raise MediaError("no audio stream")
            return []  # a silent video: nothing to listen to
        if pcm.seconds < MIN_SECONDS:
            if content.kind == "audio" or video_of(content) is None:  # nothing else of it is checked
                raise MediaError(f"audio too short to compare with registered music ({pcm.seconds:.1f} s; "
                                 f"{MIN_SECONDS:.1f} s needed)")
            return []  # a video's frames are screened; a sound this short is compared with nothing
        found = self._search(fingerprint(pcm), 1.0)
        if not any(ber <= BLOCK_BER for ber, *_ in found.values()):
            for speed in SPEED_VARIANTS:
                for ref, hit in self._search(fingerprint(pcm, speed), speed).items():
                    if hit[0] < found.get(ref, (1.0,))[0]:
                        found[ref] = hit
        return [self._match(i, *hit, pcm) for i, hit in found.items() if hit[0] <= REVIEW_BER]

    def _search(self, query: np.ndarray, speed: float) -> dict[int, tuple[float, int, int, float]]:
        if len(query) < MIN_OVERLAP:
            return {}
        return {i: (*best_offset(query, items), speed) for i, (_, _, items) in enumerate(self.refs)}

    def _match(self, index: int, ber: float, offset: int, overlap: int, speed: float, pcm: Pcm) -> Match:
        work, ref, _ = self.refs[index]
        q_start = max(0, -offset) * ITEM_SECONDS * speed
        r_start = max(0, offset) * ITEM_SECONDS
        segment = {
            "query_start_s": round(q_start, 2),
            "query_end_s": round(min(pcm.seconds, q_start + (overlap * ITEM_SECONDS + TAIL_SECONDS) * speed), 2),
            "ref_start_s": round(r_start, 2), "ref_end_s": round(r_start + overlap * ITEM_SECONDS + TAIL_SECONDS, 2),
        }
        note = f" (first {pcm.seconds:.0f} s screened)" if pcm.truncated else ""
        return Match(
            work_id=work.slug, owner=work.owner, element=ref.element, signal=self.name, basis="media",
            score=round(calibrate(ber, REVIEW_BER, BLOCK_BER), 4), raw_score=round(ber, 4),
            evidence=f"audio matches {ref.source_name} {segment['ref_start_s']}-{segment['ref_end_s']} s "
                     f"at query {segment['query_start_s']}-{segment['query_end_s']} s, score {ber:.2f}"
                     + (f", speed x{speed:.2f}" if speed != 1.0 else "") + note,
            details={"reference_sha256": ref.sha256, "reference": ref.source_name, "speed": round(speed, 4),
                     "penalised_bit_error_rate": round(ber, 4), "overlap_items": overlap, **segment},
        )
