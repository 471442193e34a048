"""Output sweep: find registered works among past outputs, quarantine them reversibly, take down.

Every step is an event appended to ``QDIR/ledger.jsonl`` (``moving`` before a file moves,
``quarantined`` after, then ``restored`` or ``purged``), so a killed sweep resumes without
losing or double-moving a file, ``restore`` puts files back byte for byte (every file, sidecars
included, checked against the SHA-256 recorded before it moved, and never over a file that has
since appeared at the original path), and ``purge`` deletes for good while appending a takedown
record per file to the audit log — the record a rights holder asks for. A file that cannot be
read gets an audited error verdict and stays where it is; the sweep goes on. Files are screened
several at a time (``Screener.screen_items``) and decided on in order.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.audit import AuditLog
from clearance.batch.formats.folder import SIDECARS, file_item
from clearance.batch.items import Item
from clearance.batch.joblock import held
from clearance.media.probe import MEDIA_SUFFIXES
from clearance.registry.media_store import sha256_file
from clearance.safe_text import json_text
from clearance.screening import Screener
from clearance.verdict import Action, Verdict

LEDGER = "ledger.jsonl"
META = "sweep.json"
LOCK = "sweep.lock"
SCANNED = "scanned.txt"
"""Keys screened and left in place, so ``--resume`` does not screen them again."""


class SweepError(RuntimeError):
    pass


def _exclusive(qdir: Path) -> AbstractContextManager[None]:
    """One sweep, restore or purge at a time per quarantine folder (``batch/joblock``)."""
    return held(qdir / LOCK, "sweep, restore or purge")


class Ledger:
    def __init__(self, qdir: Path) -> None:
        self.path = qdir / LEDGER

    def events(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a torn last line from a kill; the state is rebuilt from the rest

    def state(self) -> dict[str, dict[str, Any]]:
        """The latest event per key."""
        latest: dict[str, dict[str, Any]] = {}
        for event in self.events():
            latest[event["key"]] = {**latest.get(event["key"], {}), **event}
        return latest

    def append(self, event: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:  # keys name files exactly, even non-UTF-8 ones
            fh.write(json_text({**event, "at": time.time()}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def _companions(path: Path) -> list[Path]:
    return [path, *(p for p in (path.with_suffix(s) for s in SIDECARS) if p.is_file())]


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))


@dataclass
class SweepSummary:
    scanned: int = 0
    quarantined: int = 0
    skipped: int = 0
    errors: int = 0


def sweep(root: Path, qdir: Path, screener: Screener, *, include_review: bool = False, resume: bool = False,
          on_item: Callable[[str, str], None] | None = None) -> SweepSummary:
    """Screen every media file under ``root``; move matches to ``qdir`` (same relative paths)."""
    root, qdir = root.resolve(), qdir.resolve()
    if qdir.is_relative_to(root):
        raise SweepError("the quarantine folder must not be inside the swept folder")
    qdir.mkdir(parents=True, exist_ok=True)
    with _exclusive(qdir):
        meta = qdir / META
        if meta.exists() and json.loads(meta.read_text())["root"] != str(root):
            raise SweepError(f"{qdir} already quarantines files of another folder")
        meta.write_text(json.dumps({"root": str(root)}))
        ledger = Ledger(qdir)
        state = ledger.state()
        _finish_interrupted_moves(root, qdir, ledger, state)
        summary = SweepSummary()
        flagged = {Action.BLOCK, Action.REVIEW} if include_review else {Action.BLOCK}
        scanned_path = qdir / SCANNED
        done = (set(scanned_path.read_text(encoding="utf-8", errors="surrogateescape").splitlines())
                if resume and scanned_path.exists() else set())
        paths = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)
        todo = [path for path in paths if str(path.relative_to(root)) not in done]
        summary.skipped = len(paths) - len(todo)
        unreadable: set[str] = set()
        with scanned_path.open("a" if resume else "w", encoding="utf-8", errors="surrogateescape") as scanned:
            for path, verdict in zip(todo, screener.screen_items(_items(root, todo, unreadable)), strict=True):
                key = str(path.relative_to(root))  # not verdict.id, which spells odd names for people
                summary.scanned += 1
                summary.errors += verdict.error is not None
                if key not in unreadable and verdict.action in flagged:
                    _quarantine(root, qdir, path, key, verdict, ledger)
                    summary.quarantined += 1
                    status = "quarantined"
                else:
                    scanned.write(key + "\n")
                    scanned.flush()
                    status = "kept"
                if on_item:
                    on_item(key, status)
        return summary


def _items(root: Path, paths: list[Path], unreadable: set[str]) -> Iterator[Item]:
    """Each file as a record (media plus sidecar caption); an unreadable file is noted in
    ``unreadable`` so that it is never moved."""
    for path in paths:
        item = file_item(root, path)
        if not item.media:
            unreadable.add(item.key)
        yield item


def _quarantine(root: Path, qdir: Path, path: Path, key: str, verdict: Verdict, ledger: Ledger) -> None:
    """Move a flagged file and its sidecars, with a ledger entry before and after the move."""
    top = verdict.matches[0] if verdict.matches else None
    files = [str(p.relative_to(root)) for p in _companions(path)]
    ledger.append({"key": key, "status": "moving", "files": files, "sha256": sha256_file(path),
                   "checksums": {rel: sha256_file(root / rel) for rel in files},
                   "size": path.stat().st_size, "action": verdict.action.value, "audit_id": verdict.audit_id,
                   "work_id": top.work_id if top else None, "owner": top.owner if top else None,
                   "signal": top.signal if top else None, "score": verdict.score})
    for rel in files:
        _move(root / rel, qdir / rel)
    ledger.append({"key": key, "status": "quarantined", "quarantined_at": time.time()})


def _finish_interrupted_moves(root: Path, qdir: Path, ledger: Ledger, state: dict[str, dict[str, Any]]) -> None:
    """A kill between ``moving`` and ``quarantined``: complete the move (files may be on either side)."""
    for key, entry in state.items():
        if entry.get("status") != "moving":
            continue
        for rel in entry["files"]:
            if (root / rel).exists():
                _move(root / rel, qdir / rel)
        ledger.append({"key": key, "status": "quarantined", "quarantined_at": time.time()})


def restore(qdir: Path, audit: AuditLog, key: str | None = None) -> tuple[list[str], list[str]]:
    """Move quarantined files back where they were, after checking their SHA-256; each restore
    is recorded in the audit log (the reversal of a takedown is evidence too).

    Returns (restored keys, problems); a file that fails its checks stays in quarantine and
    the others are still restored. A restore killed half-way is completed by the next call."""
    qdir = qdir.resolve()
    if not (qdir / META).is_file():
        raise SweepError(f"not a quarantine folder: {qdir}")
    with _exclusive(qdir):
        root = Path(json.loads((qdir / META).read_text())["root"])
        ledger = Ledger(qdir)
        state = ledger.state()
        if key is not None and state.get(key, {}).get("status") not in ("quarantined", "restoring"):
            raise SweepError(f"no quarantined file with key {key!r}")
        restored, problems = [], []
        for k, entry in sorted(state.items()):
            if key is not None and k != key:
                continue
            if entry.get("status") == "quarantined":
                try:
                    _check_restorable(qdir, root, k, entry)
                except SweepError as exc:
                    problems.append(str(exc))
                    continue
                ledger.append({"key": k, "status": "restoring"})
            elif entry.get("status") != "restoring":
                continue
            for rel in entry["files"]:
                if (qdir / rel).exists():
                    _move(qdir / rel, root / rel)
            audit_id = audit.append("restore", {"key": k, "sha256": entry["sha256"], "work_id": entry.get("work_id"),
                                                "verdict_audit_id": entry.get("audit_id"), "action": "restored"},
                                    None, [f"{entry['owner']}/{entry['work_id']}"] if entry.get("work_id") else [])
            ledger.append({"key": k, "status": "restored", "restore_audit_id": audit_id})
            restored.append(k)
        return restored, problems


def _check_restorable(qdir: Path, root: Path, key: str, entry: dict[str, Any]) -> None:
    """Every quarantined file is unchanged and nothing has taken its place at the original path."""
    for rel, sha in entry.get("checksums", {entry["files"][0]: entry["sha256"]}).items():
        if not (qdir / rel).is_file() or sha256_file(qdir / rel) != sha:
            raise SweepError(f"{key}: quarantined file {rel} is missing or changed (checksum mismatch)")
        if (root / rel).exists():
            raise SweepError(f"{key}: {root / rel} exists again; not overwriting it")


def purge(qdir: Path, screener: Screener, older_than_days: float) -> list[str]:
    """Delete quarantined files older than ``older_than_days`` and audit each takedown."""
    qdir = qdir.resolve()
    with _exclusive(qdir):
        ledger = Ledger(qdir)
        cutoff = time.time() - older_than_days * 86400
        purged = []
        for key, entry in sorted(ledger.state().items()):
            if entry.get("status") != "quarantined" or entry.get("quarantined_at", time.time()) > cutoff:
                continue
            audit_id = screener.audit.append("takedown", {
                "key": key, "sha256": entry["sha256"], "size": entry["size"], "work_id": entry.get("work_id"),
                "owner": entry.get("owner"), "verdict_audit_id": entry.get("audit_id"), "files": entry["files"],
                "action": "purged",
            }, None, [f"{entry['owner']}/{entry['work_id']}"] if entry.get("work_id") else [])
            for rel in entry["files"]:
                (qdir / rel).unlink(missing_ok=True)
            ledger.append({"key": key, "status": "purged", "takedown_audit_id": audit_id})
            purged.append(key)
        return purged
