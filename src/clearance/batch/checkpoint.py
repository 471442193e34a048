"""Per-shard checkpoints: a shard's clean copy is staged, moved into place, then marked done.

The done marker (written last, atomically) holds the shard's manifest rows, so a run killed
at any point restarts with ``--resume`` by redoing only unmarked shards: staging is thrown
away, moves are idempotent, and the merged manifest is the same as an uninterrupted run's.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any


class Checkpoints:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.done_dir = state_dir / "done"
        self.staging_dir = state_dir / "staging"

    def prepare(self, resume: bool) -> None:
        if not resume and self.state_dir.exists():
            shutil.rmtree(self.state_dir)
        self.done_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.staging_dir, ignore_errors=True)
        self.staging_dir.mkdir(parents=True)

    def is_done(self, shard_id: str) -> bool:
        return (self.done_dir / f"{shard_id}.json").exists()

    def staging(self, shard_id: str) -> Path:
        path = self.staging_dir / shard_id
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    @staticmethod
    def publish(staging: Path, dst: Path) -> None:
        """Move every staged file to the same relative path under ``dst`` (idempotent on redo)."""
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            target = dst / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        shutil.rmtree(staging, ignore_errors=True)

    def mark_done(self, shard_id: str, record: dict[str, Any]) -> None:
        tmp = self.done_dir / f".{shard_id}.tmp"
        tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.done_dir / f"{shard_id}.json")

    def records(self, shard_ids: list[str]) -> list[dict[str, Any]]:
        return [json.loads((self.done_dir / f"{s}.json").read_text(encoding="utf-8")) for s in shard_ids]
