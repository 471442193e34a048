"""The scrub job: screen every record of a dataset, write a clean copy and a removal manifest.

Shards are processed independently (see ``engines``), each worker with its own ``Screener``;
finished shards are checkpointed, so a killed run resumes where it stopped and ends with the
same clean copy and manifest. A record's verdict is ``Screener.screen_items``: its caption
through prompt screening, its media through media screening, the strictest action and all
matches; removed and review records are audited. A record that kills every worker process
screening it is found and left out alone (``batch/flight``). Anything that goes wrong with a whole
shard fails closed, a worker process that keeps dying on it included: the shard is left out of the
copy and reported, and the job goes on.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from clearance.audit import AuditLog, audited_error
from clearance.batch import engines, manifest
from clearance.batch.checkpoint import Checkpoints
from clearance.batch.empty_registry import warn_if_empty
from clearance.batch.flight import FlightLog
from clearance.batch.formats import check_source, format_for, named
from clearance.batch.items import Item, Shard
from clearance.batch.joblock import held
from clearance.db.engine import session_factory
from clearance.folders import writable_folder
from clearance.home import Home
from clearance.verdict import Action, Subject, Verdict

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

    @property
    def state_dir(self) -> Path:
        return self.manifest.with_name(self.manifest.name + ".checkpoints")


@dataclass
class ShardResult:
    shard_id: str
    items: int
    removed: int
    review: int
    errors: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    failed: bool = False


class ShardWorker:
    """Screens whole shards; one per process (its Screener loads models and indexes once), told the
    job's format by name (``formats.named``) rather than detecting it again."""

    def __init__(self, job: ScrubJob, format_name: str) -> None:
        from clearance.screening import EmptyRegistryWarning, Screener  # models load in the worker, not the parent

        warnings.filterwarnings("ignore", category=EmptyRegistryWarning)  # the job's own process says it
        self.job = job
        self.format = named(format_name)
        self.screener = Screener(Home.resolve(job.home_root, job.database_url))
        self.checkpoints = Checkpoints(job.state_dir)

    def __call__(self, shard: Shard) -> ShardResult:
        try:
            result = self._scrub(shard)
        except Exception as exc:  # fail closed: the shard stays out of the copy, the job goes on
            result = self._failed(shard, exc)
        self.checkpoints.mark_done(shard.id, asdict(result))
        return result

    def _screen(self, shard: Shard) -> list[tuple[str, Verdict]]:
        """(key, verdict) of each record. The key is the record's own, not the verdict's id, which
        spells a key that is not valid Unicode for people (``clearance.safe_text``)."""
        keys: list[str] = []

        def records() -> Iterator[Item]:
            for item in self.format.read(self.job.src, shard):
                keys.append(item.key)
                yield item

        verdicts = list(FlightLog(self.checkpoints.flight_dir, shard).screen(self.screener, records()))
        return list(zip(keys, verdicts, strict=True))

    def _scrub(self, shard: Shard) -> ShardResult:
        screened = self._screen(shard)
        verdicts = [v for _, v in screened]
        blocked = {key for key, v in screened if v.action == Action.BLOCK}
        review = {key for key, v in screened if v.action == Action.REVIEW}
        drop = blocked | (review if self.job.review in ("drop", "separate") else set())
        staging = self.checkpoints.staging(shard.id)
        outputs = [(staging / "clean", self.job.dst, drop)]
        if self.job.review == "separate":
            outputs.append((staging / "review", self.job.review_dst, {key for key, _ in screened} - review))
        for staged, _, dropped in outputs:
            self.format.write(self.job.src, shard, staged, dropped)
        for staged, dst, _ in outputs:
            self.checkpoints.publish(staged, dst)
        rows = [manifest.row(v, shard.id) for v in verdicts if v.action != Action.ALLOW]
        return ShardResult(shard.id, len(verdicts), len(drop), len(review), sum(v.error is not None for v in verdicts),
                           rows)

    def _failed(self, shard: Shard, exc: Exception) -> ShardResult:
        return failed_shard(self.screener.audit, shard, f"{type(exc).__name__}: {exc}")


def failed_shard(audit: AuditLog, shard: Shard, error: str) -> ShardResult:
    """A shard left out of the copy: one audited ``review`` row, ``<shard>#shard``, says why."""
    verdict = audited_error(audit, f"shard failed: {error}", f"{shard.id}#shard", Subject.RECORD)
    return ShardResult(shard.id, 0, 0, 1, 1, [manifest.row(verdict, shard.id)], failed=True)


class LostShards:
    """Records, in the job's own process, a shard whose worker processes kept dying on it (a record
    that crashes native code, say): a failed shard like any other, which ``--resume`` tries again."""

    def __init__(self, job: ScrubJob) -> None:
        self.audit = AuditLog(session_factory(Home.resolve(job.home_root, job.database_url).database_url))
        self.checkpoints = Checkpoints(job.state_dir)

    def __call__(self, shard: Shard, reason: str) -> ShardResult:
        result = failed_shard(self.audit, shard, reason)
        self.checkpoints.mark_done(shard.id, asdict(result))
        return result


@dataclass
class ScrubSummary:
    shards: int = 0
    shards_resumed: int = 0
    items: int = 0
    removed: int = 0
    review: int = 0
    errors: int = 0
    failed_shards: int = 0
    seconds: float = 0.0
    items_this_run: int = 0

    @property
    def items_per_s(self) -> float:
        return self.items_this_run / self.seconds if self.seconds else 0.0


def _check_paths(job: ScrubJob, resume: bool) -> None:
    """Refuse, before anything is written, a job whose outputs would mix with its input, with each
    other or with another job's: a half-mixed output is worse than none."""
    if job.review not in REVIEW_POLICIES:
        raise ValueError(f"review policy must be one of {', '.join(REVIEW_POLICIES)}")
    outputs = (job.dst, job.review_dst)
    if job.src.is_dir() and any(p.is_relative_to(job.src) for p in (*outputs, job.state_dir)):
        raise ValueError("the clean copy and the manifest must not be inside the source folder")
    if any(p.is_relative_to(folder) for folder in outputs for p in (job.manifest, job.state_dir)):
        raise ValueError("the manifest must not be inside the clean copy (it would become part of the dataset)")
    if job.manifest.suffix.lower() == ".csv" or job.manifest.is_dir():
        raise ValueError(f"{job.manifest}: the manifest is a .parquet file (its .csv twin is written beside it)")
    for folder in outputs:
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{folder} is a file, not a folder for the clean copy")
    if job.manifest.exists() and not job.state_dir.exists():  # a file no run of ours wrote
        raise ValueError(f"{job.manifest} exists and no scrub wrote it here; give a new --manifest name "
                         "(it would be overwritten)")
    this_job_ran = Checkpoints(job.state_dir).job_file.exists()
    if not (resume and this_job_ran):  # nothing of this job's to continue
        for folder in outputs:
            if folder.exists() and any(folder.iterdir()):
                raise ValueError(f"{folder} is not empty: {_why_not_empty(this_job_ran)}")


def _check_writable(job: ScrubJob) -> None:
    """Make the folders the job writes in, and refuse before any work one it cannot write in."""
    outputs = [job.manifest.parent, *(folder if folder.exists() else folder.parent
                                      for folder in (job.dst, job.review_dst))]
    for folder in dict.fromkeys(outputs):
        if problem := writable_folder(folder):
            raise ValueError(f"cannot write the scrub's output in {folder}: {problem}")


def _why_not_empty(this_job_ran: bool) -> str:
    """What to do about an output folder in the way, which depends on whether this manifest's run wrote it."""
    if this_job_ran:
        return ("a run of this manifest wrote it; add --resume to finish that run (a finished one is "
                "left as it is), or give a new --out and --manifest to start again")
    return "it holds no run of this manifest (give an empty or new --out, or the --manifest of the run that wrote it)"


def _source_files(src: Path) -> str:
    """A digest of every file under the source (path, size, modification time): a resume over a source
    that gained, lost or changed files would mix two datasets in one clean copy."""
    files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(src) if path != src else ''}\0{stat.st_size}\0{stat.st_mtime_ns}\n"
                      .encode("utf-8", "surrogateescape"))
    return f"{len(files)} files, sha256 {digest.hexdigest()}"


def _job_identity(job: ScrubJob, format_name: str) -> dict[str, str]:
    """What must not change between a killed run and its resume."""
    from clearance.registry.store import Registry

    registry = Registry.of(Home.resolve(job.home_root, job.database_url))
    return {"src": str(job.src), "dst": str(job.dst), "review": job.review, "format": format_name,
            "registry": registry.snapshot().fingerprint, "source_files": _source_files(job.src)}


def run_scrub(job: ScrubJob, *, workers: int = 1, resume: bool = False, engine: str = "local",
              on_shard: Callable[[ShardResult, int], None] | None = None) -> ScrubSummary:
    """Run (or resume) a scrub; ``on_shard(result, shards_to_do)`` reports each finished shard."""
    _check_paths(job, resume)
    _check_writable(job)
    with (held(job.manifest.with_name(job.manifest.name + ".lock"), "scrub"),
          held(job.dst.with_name(job.dst.name + ".lock"), "scrub")):
        _check_paths(job, resume)  # again, now that no other job can be writing
        check_source(job.src)
        module = format_for(job.src)
        shards = module.shards(job.src)
        checkpoints = Checkpoints(job.state_dir)
        checkpoints.prepare(resume, _job_identity(job, module.__name__.rsplit(".", 1)[-1]))
        warn_if_empty(Home.resolve(job.home_root, job.database_url))
        todo = [s for s in shards if not checkpoints.is_done(s.id)]
        summary = ScrubSummary(shards=len(shards), shards_resumed=len(shards) - len(todo))
        start = time.perf_counter()
        for result in engines.run(engine, partial(ShardWorker, job, module.__name__), todo, workers, LostShards(job)):
            summary.items_this_run += result.items
            if on_shard:
                on_shard(result, len(todo))
        job.dst.mkdir(exist_ok=True)  # the clean copy exists when nothing is kept too: an empty dataset
        for folder in (job.dst, job.review_dst):
            getattr(module, "finish", lambda _src, _dst: None)(job.src, folder)
        summary.seconds = time.perf_counter() - start
        records = checkpoints.records([s.id for s in shards])
        for name in ("items", "removed", "review", "errors"):
            setattr(summary, name, sum(r[name] for r in records))
        summary.failed_shards = sum(bool(r.get("failed")) for r in records)
        manifest.write(job.manifest, [row for record in records for row in record["rows"]])
        return summary
