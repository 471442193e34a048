"""Where Clearance keeps its state: one home directory plus one database URL.

Every command and the service resolve these the same way (CONTRACT.md): an explicit
argument, else the environment, else ``./.clearance`` with SQLite inside it. Keeping the
rule in one place means the CLI, the service and the tests can never disagree on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from clearance.folders import make_folder


class HomeError(ValueError):
    """A home that cannot be used: a path that is a file, a folder this user may not create."""


@dataclass(frozen=True)
class Home:
    """The resolved home directory and database URL of one Clearance installation."""

    root: Path
    database_url: str

    @classmethod
    def resolve(cls, home: str | Path | None = None, database_url: str | None = None) -> Home:
        root = Path(home or os.environ.get("CLEARANCE_HOME") or ".clearance").expanduser().resolve()
        url = database_url or os.environ.get("CLEARANCE_DATABASE_URL") or f"sqlite:///{root / 'clearance.db'}"
        if problem := make_folder(root):
            raise HomeError(f"cannot use {root} as the home: {problem}")
        return cls(root=root, database_url=url)

    @property
    def media_dir(self) -> Path:
        """Content-addressed copies of reference media."""
        return self.root / "media"

    @property
    def index_dir(self) -> Path:
        """Per-signal persisted fingerprints and indexes."""
        return self.root / "index"
