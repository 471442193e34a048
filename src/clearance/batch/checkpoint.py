"""Per-shard checkpoints: a shard's clean copy is staged, moved into place, then marked done.

The done marker (written last, atomically) holds the shard's manifest rows, so a run killed
at any point restarts with ``--resume`` by redoing only unmarked shards: staging is thrown
away, moves are idempotent, and the merged manifest is the same as an uninterrupted run's.
``job.json`` records what the checkpoints belong to (source, destination, review policy,
format, registry content); resuming a different job is refused rather than mixed in. A shard
whose marker says it failed is tried again on resume.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from clearance.batch import flight
from clearance.safe_text import json_text


class CheckpointMismatchError(ValueError):
    pass


class Checkpoints:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.done_dir = state_dir / "done"
        self.staging_dir = state_dir / "staging"
        self.flight_dir = state_dir / "flight"
        self.job_file = state_dir / "job.json"

    def prepare(self, resume: bool, job: dict[str, Any]) -> None:
        """Start afresh, or check that the checkpoints on disk belong to ``job`` and keep them."""
        if resume and self.job_file.exists():
            recorded = json.loads(self.job_file.read_text(encoding="utf-8"))
            changed = sorted(k for k in {*recorded, *job} if recorded.get(k) != job.get(k))
            if changed:
                raise CheckpointMismatchError(
                    f"cannot resume: {', '.join(changed)} changed since the run in {self.state_dir} started "
                    "(start over without --resume, into an empty --out)")
        elif self.state_dir.exists():
            shutil.rmtree(self.state_dir)
        self.done_dir.mkdir(parents=True, exist_ok=True)
        self.job_file.write_text(json.dumps(job, sort_keys=True), encoding="utf-8")
        shutil.rmtree(self.staging_dir, ignore_errors=True)
        self.staging_dir.mkdir(parents=True)
        flight.clear(self.flight_dir)

    def is_done(self, shard_id: str) -> bool:
        path = self.done_dir / f"{shard_id}.json"
        return path.exists() and not json.loads(path.read_text(encoding="utf-8")).get("failed")

    def staging(self, shard_id: str) -> Path:
        path = self.staging_dir / shard_id
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    @staticmethod
    def publish(staging: Path, dst: Path) -> None:
        """Move every staged file (and link: a kept record that is one) to the same relative path under
        ``dst`` (idempotent on redo)."""
        for path in sorted(p for p in staging.rglob("*") if p.is_symlink() or p.is_file()):
            target = dst / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        shutil.rmtree(staging, ignore_errors=True)

    def mark_done(self, shard_id: str, record: dict[str, Any]) -> None:
        tmp = self.done_dir / f".{shard_id}.tmp"
        tmp.write_text(json_text(record), encoding="utf-8")  # shard ids come from file names
        os.replace(tmp, self.done_dir / f"{shard_id}.json")

    def records(self, shard_ids: list[str]) -> list[dict[str, Any]]:
        return [json.loads((self.done_dir / f"{s}.json").read_text(encoding="utf-8")) for s in shard_ids]
