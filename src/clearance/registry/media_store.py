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


class MediaStoreError(OSError):
    """The home's media store cannot take a file (``MediaStore.put``)."""


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, source: Path) -> tuple[str, str]:
        """Copy ``source`` in (atomically): its SHA-256, and ``stored`` (it was not there),
        ``present`` or ``repaired`` (a damaged copy was replaced).

        A stored file that no longer holds what its name says (cut short, overwritten) is replaced:
        importing the intact original again used to leave it as it was ("1 unchanged"), and the
        reference stayed out of the index. That costs a second read of each stored file an import
        names; imports are rare, and the import decodes each source as well. Something else where
        the file belongs (a folder) is not ours to delete: ``MediaStoreError`` says where."""
        sha = sha256_file(source)
        target = self.path_for(sha)
        if target.exists() and not target.is_file():
            raise MediaStoreError(f"the home's media store holds something that is not a file where {source.name} "
                                  f"belongs: {target}; remove it and import again")
        status = "stored" if not target.exists() else "present" if _holds(target, sha, source.stat().st_size) \
            else "repaired"
        if status != "present":
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with source.open("rb") as src, replacing(target) as fh:
                    shutil.copyfileobj(src, fh)
            except (FileExistsError, NotADirectoryError) as exc:  # a file where a folder of the store belongs
                raise MediaStoreError(f"the home's media store cannot take {source.name} ({exc.strerror}: "
                                      f"{exc.filename}); remove what is there and import again") from None
        return sha, status

    def restore(self, sha256: str, source: Path) -> None:
        """Put ``source`` back if its file is gone (``Registry.import_specs``, after its commit)."""
        if not self.path_for(sha256).exists():
            self.put(source)

    def drop(self, sha256: str) -> None:
        """Delete a stored file (``Registry``: once no work refers to it)."""
        self.path_for(sha256).unlink(missing_ok=True)


def _holds(stored: Path, sha256: str, size: int) -> bool:
    """Whether ``stored`` still holds the ``size`` bytes that hash to ``sha256`` (size first: cheap)."""
    return stored.stat().st_size == size and sha256_file(stored) == sha256
