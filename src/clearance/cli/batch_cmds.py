"""``clearance scrub``, ``sweep``, ``restore`` and ``purge``: the batch jobs, with progress and summaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from clearance.audit import AuditLog
from clearance.batch.engines import ENGINES, WorkerDied
from clearance.batch.joblock import JobBusyError
from clearance.batch.scrub import REVIEW_POLICIES, ScrubJob, ShardResult, run_scrub
from clearance.batch.sweep import SweepError, purge, restore, sweep
from clearance.cli import common
from clearance.cli.common import DatabaseOption, HomeOption, JsonOption, console, fail, open_home, shown, warn_if_empty
from clearance.db.engine import session_factory
from clearance.folders import cannot_write
from clearance.registry.store import Registry
from clearance.safe_text import printable

STUCK = "could not be moved (left in place, not noted as screened: fix the cause, then sweep again)"
HELD = "held (the quarantine holds a file at that path: restore or purge it, then sweep again)"
"""The sweep summary's count of flagged files left in place rather than moved over a quarantined one."""


def _summary_table(title: str, rows: dict[str, object]) -> None:
    """Restored or purged keys are file names: one a line, never read as markup or control codes."""
    table = Table(title=title, show_header=False)
    for key, value in rows.items():
        table.add_row(key, "\n".join(map(shown, value)) if isinstance(value, list) else shown(str(value)))
    console.print(table)


def _emit(title: str, rows: dict[str, object], json_: bool) -> None:
    if json_:  # file names that are not UTF-8 spelled as in manifests (no lone surrogates for strict readers)
        typer.echo(json.dumps({k: [printable(x) for x in v] if isinstance(v, list) else
                               printable(v) if isinstance(v, str) else v for k, v in rows.items()}))
    else:
        _summary_table(title, rows)


def _audit_log(home: Path | None, database_url: str | None) -> AuditLog:
    """The home's audit log alone: restore and purge record takedowns, they screen nothing, so they
    load no models."""
    return AuditLog(session_factory(open_home(home, database_url).database_url))


def register(app: typer.Typer) -> None:
    @app.command("scrub")
    def scrub_cmd(
        src: Annotated[Path, typer.Argument(help="Folder tree, Parquet file/folder, or WebDataset .tar shard(s).")],
        out: Annotated[Path, typer.Option("--out", help="Folder for the clean copy (same format and layout).")],
        manifest: Annotated[Path, typer.Option("--manifest", help="Removal manifest (.parquet; a .csv beside it).")],
        workers: Annotated[int, typer.Option(help="Worker processes (or Ray actors).")] = 1,
        resume: Annotated[bool, typer.Option("--resume", help="Continue a killed run from its checkpoints.")] = False,
        review: Annotated[str, typer.Option(help="Review items: keep, drop, or separate (into OUT.review).")] = "drop",
        engine: Annotated[str, typer.Option(help="local (processes) or ray (Ray Data).")] = "local",
        home: HomeOption = None,
        database_url: DatabaseOption = None,
        json_: JsonOption = False,
    ) -> None:
        """Write a clean copy of a dataset without registered works, plus a manifest of what went and why."""
        if not src.exists():
            fail(f"source not found: {src}")
        wrong = [rule for rule, broken in (
            (f"--review must be one of {', '.join(REVIEW_POLICIES)}, not {review!r}", review not in REVIEW_POLICIES),
            (f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}", engine not in ENGINES),
            (f"--workers must be at least 1, not {workers}", workers < 1)) if broken]
        if wrong:  # only the options that are wrong (one message listed every rule, whatever was wrong)
            fail("; ".join(wrong))
        h = open_home(home, database_url)
        warn_if_empty(Registry.of(h), h)
        job = ScrubJob(src.resolve(), out.resolve(), manifest.resolve(), str(h.root), h.database_url, review)
        columns = (TextColumn("[bold]scrub[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("shards to do"),
                   TextColumn("{task.fields[items]} items, {task.fields[rate]:.0f} items/s, "
                              "{task.fields[removed]} removed, {task.fields[errors]} errors"),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, disable=json_, transient=False) as progress:
            task = progress.add_task("scrub", total=None, items=0, rate=0.0, removed=0, errors=0)
            seen = {"items": 0, "removed": 0, "errors": 0}

            def on_shard(result: ShardResult, total: int) -> None:
                for name in seen:
                    seen[name] += getattr(result, name)
                elapsed = progress.tasks[0].elapsed or 1e-9
                progress.update(task, total=total, advance=1, rate=seen["items"] / elapsed, **seen)

            try:
                summary = run_scrub(job, workers=workers, resume=resume, engine=engine, on_shard=on_shard)
            except (ValueError, JobBusyError, WorkerDied) as exc:
                fail(str(exc))
            except OSError as exc:
                fail(cannot_write(exc))  # a job's own file: a setup error, not a traceback
        if not summary.items:
            common.warn(f"{src} holds no records to scrub (no media, Parquet rows or .tar shards)")
        _emit("scrub summary", {
            "shards": summary.shards, "shards already done (resumed)": summary.shards_resumed,
            "items": summary.items, "removed": summary.removed, "review": summary.review,
            "errors": summary.errors, "failed shards": summary.failed_shards,
            "items/s (this run)": round(summary.items_per_s, 1),
            "clean copy": str(job.dst), "manifest": str(job.manifest),
        }, json_)

    @app.command("sweep")
    def sweep_cmd(
        directory: Annotated[Path, typer.Argument(help="Store of past outputs to sweep.")],
        quarantine: Annotated[Path, typer.Option("--quarantine", help="Where matches are moved (reversibly).")],
        resume: Annotated[bool, typer.Option("--resume", help="Skip files a killed run already screened.")] = False,
        include_review: Annotated[bool, typer.Option(help="Quarantine review verdicts too.")] = False,
        workers: Annotated[int, typer.Option(help="Worker processes screening the files.")] = 1,
        home: HomeOption = None,
        database_url: DatabaseOption = None,
        json_: JsonOption = False,
    ) -> None:
        """Move outputs that match registered works into quarantine, keeping relative paths."""
        if not directory.is_dir():
            fail(f"not a folder: {directory}")
        if workers < 1:
            fail("--workers must be at least 1")
        h = open_home(home, database_url)
        warn_if_empty(Registry.of(h), h)
        columns = (TextColumn("[bold]sweep[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("files to do"),
                   TextColumn("{task.fields[rate]:.0f} files/s, {task.fields[quarantined]} quarantined"),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, disable=json_) as progress:
            task = progress.add_task("sweep", total=None, rate=0.0, quarantined=0)

            def on_chunk(statuses: list[str], total: int) -> None:
                done = progress.tasks[0].completed + len(statuses)
                progress.update(task, total=total, completed=done, rate=done / (progress.tasks[0].elapsed or 1e-9),
                                quarantined=progress.tasks[0].fields["quarantined"] + statuses.count("quarantined"))

            try:
                summary = sweep(directory, quarantine, h, workers=workers, include_review=include_review,
                                resume=resume, on_chunk=on_chunk)
            except (SweepError, JobBusyError, WorkerDied) as exc:
                fail(str(exc))
            except OSError as exc:
                fail(cannot_write(exc))  # a job's own file: a setup error, not a traceback
        _emit("sweep summary", {"screened": summary.scanned, "skipped (resumed)": summary.skipped,
                                "quarantined": summary.quarantined, "errors": summary.errors,
                                HELD: summary.held, "gone before they could be moved": summary.gone,
                                STUCK: summary.stuck,
                                "registry or --include-review changed (all screened again)": summary.registry_changed,
                                "quarantine": str(quarantine)}, json_)

    @app.command("restore")
    def restore_cmd(
        quarantine: Annotated[Path, typer.Argument(help="A quarantine folder made by sweep.")],
        key: Annotated[str | None, typer.Option("--key", help="Restore only this file (relative path).")] = None,
        home: HomeOption = None,
        database_url: DatabaseOption = None,
        json_: JsonOption = False,
    ) -> None:
        """Put quarantined files back where they were, byte for byte (each restore is audited)."""
        try:
            restored, problems = restore(quarantine, _audit_log(home, database_url), key)
        except (SweepError, JobBusyError) as exc:
            fail(str(exc))
        except OSError as exc:
            fail(cannot_write(exc))  # a job's own file: a setup error, not a traceback
        _emit("restore", {"restored": len(restored), "keys": restored, "problems": problems}, json_)
        if problems:
            raise typer.Exit(1)

    @app.command("purge")
    def purge_cmd(
        quarantine: Annotated[Path, typer.Argument(help="A quarantine folder made by sweep.")],
        older_than: Annotated[float, typer.Option("--older-than", help="Days in quarantine before deletion.")],
        home: HomeOption = None,
        database_url: DatabaseOption = None,
        json_: JsonOption = False,
    ) -> None:
        """Delete quarantined files for good; each deletion is a takedown record in the audit log.
        Files that fail their checksums are kept and listed under problems (exit 1)."""
        if not 0 <= older_than < float("inf"):  # a negative age would delete what was quarantined a moment ago
            fail(f"--older-than must be a number of days, 0 or more, not {older_than}")
        try:
            purged, problems = purge(quarantine, _audit_log(home, database_url), older_than)
        except (SweepError, JobBusyError) as exc:
            fail(str(exc))
        except OSError as exc:
            fail(cannot_write(exc))  # a job's own file: a setup error, not a traceback
        _emit("purge", {"purged": len(purged), "keys": purged, "problems": problems}, json_)
        if problems:
            raise typer.Exit(1)
