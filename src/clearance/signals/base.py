"""The signal-type plug-in contract, after python-threatexchange's ``SignalType``.

A signal type knows three things and nothing else needs to know them: how to fingerprint
content of the kinds it handles, how to index the registry's fingerprints (persisting them
under its own folder so a rebuild only fingerprints what changed), and how to compare a
query against that index, returning calibrated ``Match`` evidence. The screener only loops
over registered signal types; it never branches on which one it is.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from clearance.atomic import remove_others
from clearance.content import Content
from clearance.index import persist
from clearance.registry.views import RegistrySnapshot
from clearance.verdict import Match

REVIEW_SCORE = 0.5
"""Calibrated score at which a match means "a human should look"."""
BLOCK_SCORE = 0.8
"""Calibrated score at which a match is confident enough to block."""


def calibrate(raw: float, review_at: float, block_at: float) -> float:
    """Map a raw score onto the shared scale: ``review_at`` -> 0.5, ``block_at`` -> 0.8.

    Piecewise linear and monotonic, so each signal keeps its own raw units (cosine, bits,
    bit-error rate) while one threshold pair means the same across signals. Works for
    "lower is closer" raws too (pass ``review_at > block_at``).
    """
    span = block_at - review_at
    if span == 0:
        raise ValueError("review_at and block_at must differ")
    t = (raw - review_at) / span  # 0 at review, 1 at block
    if t >= 1:
        return min(1.0, BLOCK_SCORE + (1 - BLOCK_SCORE) * min(1.0, (t - 1) / 1.0))
    if t >= 0:
        return REVIEW_SCORE + (BLOCK_SCORE - REVIEW_SCORE) * t
    return max(0.0, REVIEW_SCORE * (1 + t))


class SignalType(ABC):
    """Base class of every signal plug-in (see module docstring)."""

    name: ClassVar[str]
    """Stable id, e.g. ``text.lexical``; appears in every match's evidence."""
    version: ClassVar[str]
    """Bumped when fingerprints, calibration or the persisted index's attributes change; recorded
    in every verdict and part of the index file's name and key."""
    content_kinds: ClassVar[frozenset[str]]
    """Which ``Content.kind`` values this signal screens."""
    bases: ClassVar[frozenset[str]]
    """Which ``Match.basis`` values its matches have (``name``, ``description``, ``media``), so a
    caller that needs one kind of evidence runs only the signals that can give it."""
    persist_index: ClassVar[bool] = False
    """Save the built index per registry fingerprint (``clearance.index.persist``), so a new
    process (a server worker, a CLI call) maps it into memory instead of rebuilding it."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = store_dir
        self.fingerprint: str | None = None
        """The registry state the index in memory stands for."""
        self._index_lock = threading.Lock()

    def ensure_indexed(self, snapshot: RegistrySnapshot) -> None:
        """Load or build the index when the registry content moved on (cheap when it did not).

        A persisted index is found by the snapshot's fingerprint, which needs no registry rows;
        only a rebuild reads the works. It is saved under the fingerprint of the works it was
        built from, so a file never stands for a state other than the one it was built from.
        """
        if self.fingerprint == snapshot.fingerprint:
            return
        with self._index_lock:  # concurrent requests: one builds, the others wait for it
            if self.fingerprint == snapshot.fingerprint:
                return
            self.store_dir.mkdir(parents=True, exist_ok=True)
            if not (self.persist_index and self._load_index(snapshot.fingerprint)):
                self.index(snapshot)
                if self.persist_index:
                    self._save_index(snapshot.works_fingerprint)
            self.fingerprint = snapshot.fingerprint

    def _index_path(self, fingerprint: str) -> Path:
        return self.store_dir / f"index-v{self.version}-{fingerprint[:24]}.idx"

    def _index_key(self, fingerprint: str) -> str:
        """What a file must have been written for: this signal, this version, these models (an index
        of vectors from another model must not load), this registry state."""
        return f"{self.name} v{self.version} {sorted(self.model_versions().items())} {fingerprint}"

    def _state(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k not in ("store_dir", "fingerprint", "_index_lock")}

    def _load_index(self, fingerprint: str) -> bool:
        try:
            state = persist.load(self._index_path(fingerprint), self._index_key(fingerprint))
        except Exception:  # missing, truncated, damaged, for another state or an older layout: rebuild
            return False
        vars(self).update(state)
        return True

    def _save_index(self, fingerprint: str) -> None:
        """Write atomically; drop the indexes of other registry states and of other versions of this
        signal (no longer read: each version bump used to leave its files behind, 50-230 MB per
        signal at 10,000 works), and pickled indexes (a format no longer read). A process of the
        old version that still maps its file keeps reading it: a removed file lives on until it is
        unmapped."""
        path = self._index_path(fingerprint)
        persist.save(path, self._state(), self._index_key(fingerprint))
        remove_others(path, "index-v*-*.idx", "index-v*-*.pkl")

    @abstractmethod
    def index(self, snapshot: RegistrySnapshot) -> None:
        """Build the index from the registry, reusing fingerprints persisted in ``store_dir``."""

    @abstractmethod
    def match(self, content: Content) -> list[Match]:
        """Compare content against the index; return matches with calibrated scores."""

    def preload(self) -> None:
        """Load models ahead of the first query (the screener calls this in a background thread
        at start-up, overlapping model loading with index loading). Default: nothing to load."""
        return

    def model_versions(self) -> dict[str, str]:
        """Versions to record in the verdict and to key the persisted index by (override to add
        model ids)."""
        return {self.name: self.version}

    def query_versions(self) -> dict[str, str]:
        """Versions of what computes the query side only, recorded in the verdict but not keying the
        index: an index built on one machine serves another whose queries run elsewise (SSCD's
        ``media.sscd_runtime``), instead of each rebuilding it and deleting the other's file."""
        return {}
