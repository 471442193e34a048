"""``video.frames``: copied scenes found in video, with the matching segment.

Frames sampled at 2 per second (plus scene cuts) are described with SSCD and compared with
frames sampled the same way from registered clips and with registered stills (a generated
clip can show a protected still). Matches of one reference clip are aligned in time: the
median offset between query and reference times is taken and only frame pairs near it are
kept, which drops stray look-alike frames and tolerates small speed changes; the kept pairs
give the query segment and the reference segment reported in the evidence.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from clearance.content import Content
from clearance.index.fingerprints import fingerprint_references, owners_of
from clearance.index.vectors import VectorIndex
from clearance.media import sscd_runtime
from clearance.media.audio_decode import pcm_of
from clearance.media.image_decode import decode_frames
from clearance.media.probe import MediaError
from clearance.media.video_decode import SAMPLE_FPS, sample_video, video_of
from clearance.media.views import reference_views
from clearance.registry.views import ReferenceView, RegistrySnapshot
from clearance.signals.base import SignalType, calibrate
from clearance.signals.image_sscd import BLOCK_RAW, MODEL, REPORT_RAW, REVIEW_RAW, embed_views
from clearance.verdict import Match

NEIGHBOURS = 8
PAIR_MIN = 0.35
"""Frame pairs below this cosine are not evidence of anything."""
ALIGN_WINDOW_S = 1.5
"""Pairs whose time offset is this far from the likeliest offset (``_likeliest_offset``) are dropped as strays."""
STILL = -1.0
FINGERPRINTS = f"{MODEL}-frames-v2"  # v2: times from the file's start (2026-12-07)
"""Names the references' stored rows (``index.fingerprints``): a change to what ``_reference_rows``
gives must change it, or homes and the machine's cache keep serving the old rows."""


def _likeliest_offset(offsets: np.ndarray) -> float:
    """The reference-minus-query time most frame pairs agree on (within ``ALIGN_WINDOW_S``), the
    earliest where several tie. Not the median: a clip that repeats a registered clip four times has
    four offsets, and their median fell between two of them, where no pair lay (an ``IndexError``,
    so the copy was only reviewed)."""
    support = (np.abs(offsets[:, None] - offsets[None, :]) <= ALIGN_WINDOW_S).sum(axis=1)
    return float(offsets[int(np.argmax(support))])


class VideoFrames(SignalType):
    name = "video.frames"
    version = "2"
    content_kinds = frozenset({"video"})
    bases = frozenset({"media"})

    def index(self, snapshot: RegistrySnapshot) -> None:
        self.refs, rows = fingerprint_references(snapshot, {"video", "image"}, self.store_dir, FINGERPRINTS,
                                                 self._reference_rows)
        table = np.concatenate(rows) if rows else np.zeros((0, 513), np.float32)
        self.owner = owners_of(rows)
        self.ref_time = table[:, 0]
        self.search = VectorIndex(table[:, 1:])

    @staticmethod
    def _reference_rows(ref: ReferenceView) -> np.ndarray:
        """Rows of [time, 512-d descriptor]; stills get time -1 and whole + centre views."""
        content = Content(kind=ref.kind, path=ref.path)
        if ref.kind == "image":
            pictures = [view for frame in decode_frames(content) for _, view in reference_views(frame)]
            times = [STILL] * len(pictures)
        else:
            video = sample_video(content)
            if video is None:
                return np.zeros((0, 513), np.float32)
            pictures, times = video.frames, video.times
        return np.hstack([np.array(times, np.float32)[:, None], embed_views(pictures, exact=True)])

    def model_versions(self) -> dict[str, str]:
        return {self.name: self.version, "video.sscd_model": MODEL}

    def query_versions(self) -> dict[str, str]:
        return {"video.sscd_runtime": sscd_runtime.query_label()}

    def match(self, content: Content) -> list[Match]:
        video = video_of(content)
        if video is None:
            if content.kind == "video" and pcm_of(content) is not None:
                return []  # sound alone in a video container (an .mp4 of music): audio.chromaprint screens it
            raise MediaError("no video stream")
        if not len(self.search):
            return []
        vectors = np.concatenate([embed_views(video.frames[i : i + 16]) for i in range(0, len(video.frames), 16)])
        sims, rows = self.search.search(vectors, NEIGHBOURS)
        pairs: dict[int, dict[float, tuple[float, float]]] = defaultdict(dict)  # ref -> query t -> (ref t, sim)
        for qi, q_time in enumerate(video.times):
            for sim, row in zip(sims[qi], rows[qi], strict=True):
                ref = int(self.owner[row]) if row >= 0 else -1
                if ref >= 0 and sim >= PAIR_MIN and sim > pairs[ref].get(q_time, (0.0, 0.0))[1]:
                    pairs[ref][q_time] = (float(self.ref_time[row]), float(sim))
        out = []
        for ref, found in pairs.items():
            match = self._match(ref, found, video.truncated, video.duration)
            if match is not None:
                out.append(match)
        return out

    def _match(self, ref_index: int, pairs: dict[float, tuple[float, float]], truncated: bool,
               duration: float) -> Match | None:
        """Each query frame's best frame of this reference, aligned in time, as one match."""
        work, ref = self.refs[ref_index]
        if ref.kind == "video":
            offset = _likeliest_offset(np.array([r - q for q, (r, _) in pairs.items()]))
            pairs = {q: (r, s) for q, (r, s) in pairs.items() if abs((r - q) - offset) <= ALIGN_WINDOW_S}
        sims = sorted((s for _, s in pairs.values()), reverse=True)
        raw = float(np.mean(sims[:3]))
        if raw < REPORT_RAW:
            return None
        q_times = sorted(pairs)
        step = 1 / SAMPLE_FPS
        segment = {"query_start_s": round(q_times[0], 2), "query_end_s": round(min(duration, q_times[-1] + step), 2)}
        if ref.kind == "video":
            r_times = sorted(r for r, _ in pairs.values())
            segment |= {"ref_start_s": round(r_times[0], 2), "ref_end_s": round(r_times[-1] + step, 2)}
        where = (f"reference {segment['ref_start_s']}-{segment['ref_end_s']} s" if ref.kind == "video"
                 else "the registered still")
        note = " [screened first part only]" if truncated else ""
        return Match(
            work_id=work.slug, owner=work.owner, element=ref.element, signal=self.name, basis="media",
            score=round(calibrate(raw, REVIEW_RAW, BLOCK_RAW), 4), raw_score=round(raw, 4),
            evidence=f"{len(pairs)} frame(s) at {segment['query_start_s']}-{segment['query_end_s']} s match "
                     f"{where} of {ref.source_name} (SSCD {raw:.2f}){note}",
            details={"reference_sha256": ref.sha256, "reference": ref.source_name, "reference_kind": ref.kind,
                     "matched_frame_times_s": q_times[:50], **segment},
        )
