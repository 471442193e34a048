"""The scrub job: screen every record of a dataset, write a clean copy and a removal manifest.

Shards are processed independently (in this process, in a pool of worker processes, or on
Ray), each worker with its own ``Screener``; finished shards are checkpointed, so a killed
run resumes where it stopped and ends with the same clean copy and manifest.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from clearance.batch.checkpoint import Checkpoints
from clearance.batch.formats import format_for
from clearance.batch.items import Shard
from clearance.home import Home
from clearance.verdict import Action, Verdict

MANIFEST_COLUMNS = ("key", "action", "work_id", "signal", "score", "evidence", "audit_id", "error", "shard")
REVIEW_POLICIES = ("keep", "drop", "separate")


@dataclass(frozen=True)
class ScrubJob:
    src: Path
    dst: Path
    manifest: Path
    home_root: str
    database_url: str
    review: str = "drop"

    @property
    def review_dst(self) -> Path:
        return self.dst.with_name(self.dst.name + ".review")


@dataclass
class ShardResult:
    shard_id: str
    items: int
    removed: int
    review: int
    errors: int
    rows: list[dict[str, Any]] = field(default_factory=list)


def manifest_row(verdict: Verdict, shard_id: str) -> dict[str, Any]:
    top = verdict.matches[0] if verdict.matches else None
    return {"key": verdict.id, "action": verdict.action.value, "work_id": top.work_id if top else None,
            "signal": top.signal if top else None, "score": verdict.score,
            "evidence": top.evidence if top else None, "audit_id": verdict.audit_id,
            "error": verdict.error, "shard": shard_id}


class ShardWorker:
    """Screens whole shards; one per process (its Screener loads models and indexes once)."""

    def __init__(self, job: ScrubJob) -> None:
        from clearance.screening import Screener  # models load in the worker, not the parent

        self.job = job
        self.format = format_for(job.src)
        self.screener = Screener(Home.resolve(job.home_root, job.database_url))
        self.checkpoints = Checkpoints(state_dir(job.manifest))

    def __call__(self, shard: Shard) -> ShardResult:
        verdicts = [self.screener.screen_item(item.key, item.caption, item.media, media_name=item.media_name,
                                              error=item.error)
                    for item in self.format.read(self.job.src, shard)]
        blocked = {v.id for v in verdicts if v.action == Action.BLOCK}
        review = {v.id for v in verdicts if v.action == Action.REVIEW}
        drop = blocked | (review if self.job.review in ("drop", "separate") else set())
        staging = self.checkpoints.staging(shard.id)
        self.format.write(self.job.src, shard, staging / "clean", drop)
        if self.job.review == "separate":
            self.format.write(self.job.src, shard, staging / "review", {v.id for v in verdicts} - review)
        self.checkpoints.publish(staging / "clean", self.job.dst)
        if self.job.review == "separate":
            self.checkpoints.publish(staging / "review", self.job.review_dst)
        rows = [manifest_row(v, shard.id) for v in verdicts if v.action != Action.ALLOW]
        result = ShardResult(shard.id, len(verdicts), len(drop), len(review), sum(1 for v in verdicts if v.error), rows)
        self.checkpoints.mark_done(shard.id, result.__dict__)
        return result


def state_dir(manifest: Path) -> Path:
    return manifest.with_name(manifest.name + ".checkpoints")


_worker: ShardWorker | None = None


def _init_worker(job: ScrubJob) -> None:
    global _worker
    os.environ.setdefault("CLEARANCE_TEXT_THREADS", "1")
    os.environ.setdefault("CLEARANCE_MEDIA_THREADS", "1")
    _worker = ShardWorker(job)


def _run_in_worker(shard: Shard) -> ShardResult:
    assert _worker is not None
    return _worker(shard)


def _local(job: ScrubJob, shards: list[Shard], workers: int) -> Iterator[ShardResult]:
    if workers <= 1:
        worker = ShardWorker(job)
        yield from (worker(shard) for shard in shards)
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(job,)) as pool:
        yield from pool.imap_unordered(_run_in_worker, shards)


def _ray(job: ScrubJob, shards: list[Shard], workers: int) -> Iterator[ShardResult]:
    """Ray Data: shards as rows, mapped by a pool of ``ShardWorker`` actors."""
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"CLEARANCE_TEXT_THREADS": "1", "CLEARANCE_MEDIA_THREADS": "1"}})

    class RayShardWorker:
        def __init__(self) -> None:
            self.worker = ShardWorker(job)

        def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
            result = self.worker(Shard(row["id"], row["source"]))
            return {"result": result.__dict__}

    dataset = ray.data.from_items([{"id": s.id, "source": s.source} for s in shards])
    mapped = dataset.map(RayShardWorker, concurrency=max(1, workers), num_cpus=1)
    for row in mapped.iter_rows():
        yield ShardResult(**row["result"])


def write_manifest(path: Path, rows: list[dict[str, Any]]) -> None:
    """The manifest as Parquet (PATH) and CSV (PATH with .csv), one row per removed/review item."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({c: [r.get(c) for r in rows] for c in MANIFEST_COLUMNS},
                     schema=pa.schema([(c, pa.float64() if c == "score" else pa.string()) for c in MANIFEST_COLUMNS]))
    pq.write_table(table, path)
    with path.with_suffix(".csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


@dataclass
class ScrubSummary:
    shards: int = 0
    shards_resumed: int = 0
    items: int = 0
    removed: int = 0
    review: int = 0
    errors: int = 0
    seconds: float = 0.0

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def run_scrub(job: ScrubJob, *, workers: int = 1, resume: bool = False, engine: str = "local",
              on_shard: Callable[[ShardResult, int], None] | None = None) -> ScrubSummary:
    """Run (or resume) a scrub; ``on_shard(result, shards_total)`` reports progress."""
    if job.review not in REVIEW_POLICIES:
        raise ValueError(f"review policy must be one of {', '.join(REVIEW_POLICIES)}")
    module: ModuleType = format_for(job.src)
    shards = module.shards(job.src)
    checkpoints = Checkpoints(state_dir(job.manifest))
    checkpoints.prepare(resume)
    todo = [s for s in shards if not checkpoints.is_done(s.id)]
    summary = ScrubSummary(shards=len(shards), shards_resumed=len(shards) - len(todo))
    start = time.perf_counter()
    runner = _ray if engine == "ray" else _local
    for result in runner(job, todo, workers) if todo else []:
        if on_shard:
            on_shard(result, len(shards))
    summary.seconds = time.perf_counter() - start
    records = checkpoints.records([s.id for s in shards])
    rows = [row for record in records for row in record["rows"]]
    summary.items = sum(r["items"] for r in records)
    summary.removed = sum(r["removed"] for r in records)
    summary.review = sum(r["review"] for r in records)
    summary.errors = sum(r["errors"] for r in records)
    write_manifest(job.manifest, rows)
    return summary
