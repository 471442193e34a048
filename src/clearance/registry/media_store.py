"""Content-addressed store of reference media inside the home.

Registering the same still twice stores it once, a changed file gets a new address, and the
registry keeps working when the rights holder's original folder moves or disappears.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from clearance.atomic import replacing


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, source: Path) -> str:
        """Copy ``source`` in (atomically) and return its SHA-256."""
        sha = sha256_file(source)
        target = self.path_for(sha)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with source.open("rb") as src, replacing(target) as fh:
                shutil.copyfileobj(src, fh)
        return sha

    def restore(self, sha256: str, source: Path) -> None:
        """Put ``source`` back if its file is gone (``Registry.import_specs``, after its commit)."""
        if not self.path_for(sha256).exists():
            self.put(source)

    def drop(self, sha256: str) -> None:
        """Delete a stored file (``Registry``: once no work refers to it)."""
        self.path_for(sha256).unlink(missing_ok=True)
