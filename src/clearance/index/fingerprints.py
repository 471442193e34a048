"""Fingerprints of reference media, persisted by content hash in a signal's folder.

Fingerprinting a reference (decoding, running a model) is the expensive part of indexing;
keying the results by the file's SHA-256 makes re-indexing after any registry change cost
only the new references, and removing a work drops its fingerprints at the next save. A
reference that another home on this machine has fingerprinted is read from the machine's
``array_cache`` instead of being computed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from clearance.array_cache import ArrayCache
from clearance.atomic import remove_others, replacing
from clearance.registry.views import ReferenceView, RegistrySnapshot, WorkView

log = logging.getLogger(__name__)


class FingerprintStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[str, np.ndarray] = {}
        self._changed = not path.exists()
        if path.exists():
            with np.load(path) as data:
                offsets = np.concatenate([[0], np.cumsum(data["counts"])])
                vectors = data["vectors"]
                for i, sha in enumerate(data["keys"].tolist()):
                    self.rows[sha] = vectors[offsets[i] : offsets[i + 1]]

    def add(self, rows: dict[str, np.ndarray]) -> None:
        """Fingerprints found elsewhere (the machine's cache), kept as if computed here."""
        self.rows.update(rows)
        self._changed = self._changed or bool(rows)

    def get(self, sha256: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """Stored fingerprints of one reference, computed (and kept) on first use."""
        if sha256 not in self.rows:
            self.rows[sha256] = np.asarray(compute())
            self._changed = True
        return self.rows[sha256]

    def save(self, live: set[str]) -> None:
        """Keep only references still registered; write atomically, and only if that changed
        anything (every process that opens a home indexes it, and most find nothing new)."""
        kept = {k: v for k, v in self.rows.items() if k in live}
        if not self._changed and len(kept) == len(self.rows):
            return
        self.rows, self._changed = kept, False
        keys = list(self.rows)
        vectors = [self.rows[k] for k in keys]
        with replacing(self.path) as fh:
            np.savez(fh, keys=np.array(keys, dtype=str), counts=np.array([len(v) for v in vectors], dtype=np.int64),
                     vectors=np.concatenate(vectors) if vectors else np.zeros((0, 0)))


def fingerprint_references(
    snapshot: RegistrySnapshot, kinds: set[str], store_dir: Path, name: str,
    compute: Callable[[ReferenceView], np.ndarray],
) -> tuple[list[tuple[WorkView, ReferenceView]], list[np.ndarray]]:
    """Fingerprint every reference of the given kinds: from the home's store ``name``.npz when known,
    else from the machine's cache under ``name`` (which must change whenever ``compute`` would give
    other rows), else computed and kept in both.

    Returns the references in registry order and one array of fingerprint rows for each; the
    store keeps only what the registry still holds. A reference that does not decode is left out
    (``_fingerprints``).
    """
    store = FingerprintStore(store_dir / f"{name}.npz")
    wanted = [(work, ref) for work in snapshot.works for ref in work.references if ref.kind in kinds]
    machine = ArrayCache(f"fingerprints/{name}")
    store.add(machine.get_many(ref.sha256 for _, ref in wanted if ref.sha256 not in store.rows))
    known = set(store.rows)
    refs: list[tuple[WorkView, ReferenceView]] = []
    rows: list[np.ndarray] = []
    for work, ref in wanted:
        if (found := _fingerprints(store, work, ref, compute)) is not None:
            rows.append(found)
            refs.append((work, ref))
    machine.put_many({sha: store.rows[sha] for sha in store.rows.keys() - known})
    store.save({ref.sha256 for _, ref in refs})
    remove_others(store.path, "*.npz")  # other fingerprint versions' stores
    return refs, rows


def _fingerprints(store: FingerprintStore, work: WorkView, ref: ReferenceView,
                  compute: Callable[[ReferenceView], np.ndarray]) -> np.ndarray | None:
    """One reference's fingerprints, or None (and a warning) when its stored file does not decode.

    Imports refuse such files, but a home can still hold one (imported by an older version, or its
    stored copy damaged since); failing the whole index for it made every query of that kind a
    ``review`` blaming the query, and real copies of the other works no longer blocked. A failure
    whose reference decodes (``registry.media_check``) is the tool's, not the reference's (no
    ``fpcalc``, a broken model), and still fails the index, as it fails every query.
    """
    try:
        return store.get(ref.sha256, lambda: compute(ref))
    except (ValueError, OSError):  # MediaError is a ValueError
        from clearance.registry.media_check import media_problem  # decoders: only on this rare path

        problem = media_problem(ref.path, ref.kind)
        if problem is None:
            raise
        log.warning("reference %s (%s, sha256 %s) of %s/%s left out of the index: %s", ref.source_name, ref.kind,
                    ref.sha256, work.owner, work.slug, problem)
        return None


def owners_of(rows: list[np.ndarray]) -> np.ndarray:
    """For stacked fingerprint rows, the index of the reference each row belongs to."""
    return np.repeat(np.arange(len(rows), dtype=np.int64), [len(r) for r in rows])
