"""Output sweep: find registered works among past outputs, quarantine them reversibly, take down.

Every step is an event appended to the quarantine's ledger (``moving`` before a file moves,
``quarantined`` after, then ``restored`` or ``purged``), so a killed sweep resumes without
losing or double-moving a file, ``restore`` puts files back byte for byte (every file, sidecars
included, checked against the SHA-256 recorded before it moved, and never over a file that has
since appeared at the original path nor through a symbolic link), and ``purge`` deletes for good
while appending a takedown record per file to the audit log — the record a rights holder asks for;
it checks the same checksums first, so no record claims the takedown of bytes that were changed or
are gone. A file that cannot be read gets an audited error verdict and stays where it is; the sweep
goes on. So does a symbolic link (or a file reached through one): moving the link would leave its
content where it was, and a purge would then record a takedown that never happened. Files are screened
in chunks of ``CHUNK`` by ``--workers`` processes (``batch/engines``, as scrub's shards are), each
chunk several files at a time (``Screener.screen_items``); the sweeping process alone moves files
and writes the ledger, chunk by chunk as chunks finish. A file that kills every worker process
screening it is found and left in place, unscreened and reported (``batch/flight``).

The sweep's own files (ledger, lock, notes) live in one folder of the quarantine, ``STATE``, which
no swept file is moved into: quarantined files keep their relative paths, so any other name could
be a swept file's ("flight/a.jpg", "scanned.txt").
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from clearance.audit import AuditLog, audited_error
from clearance.batch import engines, flight
from clearance.batch.empty_registry import warn_if_empty
from clearance.batch.flight import FlightLog
from clearance.batch.formats import folder
from clearance.batch.items import Shard
from clearance.batch.joblock import held
from clearance.db.engine import session_factory
from clearance.folders import cannot_write, writable_folder
from clearance.home import Home
from clearance.registry.media_store import sha256_file
from clearance.registry.store import Registry
from clearance.safe_text import json_text, printable
from clearance.verdict import Action, Subject, Verdict

STATE = ".clearance-sweep"
"""The quarantine's folder of the sweep's own files; a swept file under a folder of that name is
refused (``_refuse_reserved``), not moved over them."""
LEDGER = f"{STATE}/ledger.jsonl"
META = f"{STATE}/sweep.json"
LOCK = f"{STATE}/sweep.lock"
FLIGHT = f"{STATE}/flight"
"""Where workers note the file they are screening on a retry (``batch/flight``)."""
SCANNED = f"{STATE}/scanned.txt"
"""Files screened and left in place, each as its key and what it was then (``_as_screened``), so
``--resume`` does not screen them again unless they changed since."""
CHUNK = 64
"""Files a worker screens per task. A worker's item threads drain at a chunk's end, which costs
under 1% at this size; a kill loses at most the chunks in flight (screened again on ``--resume``)."""


OLD_LAYOUT = {"ledger.jsonl": LEDGER, "sweep.json": META, "scanned.txt": SCANNED}
"""Where quarantines made before ``STATE`` (2026-12-07) kept these files: at the top, among the
quarantined files."""


class SweepError(RuntimeError):
    pass


def _exclusive(qdir: Path) -> AbstractContextManager[None]:
    """One sweep, restore or purge at a time per quarantine folder (``batch/joblock``)."""
    (qdir / STATE).mkdir(exist_ok=True)
    return held(qdir / LOCK, "sweep, restore or purge")


def _adopt_old_layout(qdir: Path) -> None:
    """Move an older quarantine's own files into ``STATE``, so its files can still be restored or
    purged (its flight logs are cleared at each sweep's start anyway)."""
    if (qdir / "sweep.json").is_file() and not (qdir / META).exists():  # ``_exclusive`` made ``STATE``
        for old, new in OLD_LAYOUT.items():
            if (qdir / old).is_file():
                (qdir / old).rename(qdir / new)


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
        """Append one event, or stop the job with ``SweepError``: a ledger it cannot write is a setup
        error of the whole job, not one file's (a sweep must not move files it cannot note)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:  # keys name files exactly, even non-UTF-8 ones
                fh.write(json_text({**event, "at": time.time()}) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise SweepError(cannot_write(exc)) from exc


def _companions(path: Path) -> list[Path]:
    return [path, *folder.sidecars(path)]


def _moved_with(root: Path, key: str) -> list[str]:
    """The file and the sidecars it alone uses, under ``root``: a caption shared with another media
    file of the same name ("a.jpg" and "a.png" with "a.txt") stays with the one left in place."""
    path = root / key
    captions = folder.sidecars(path)
    if captions and folder.same_name_media(path):
        captions = []
    return [key, *(str(sidecar.relative_to(root)) for sidecar in captions)]


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))


@dataclass
class SweepSummary:
    scanned: int = 0
    quarantined: int = 0
    skipped: int = 0
    errors: int = 0
    held: int = 0
    """Flagged files left in place because the quarantine still holds a file at their path (an
    earlier match there, not yet restored or purged): moving them would destroy that file."""
    gone: int = 0
    """Flagged files that were gone (deleted, moved by another job) by the time they were to be moved."""
    stuck: int = 0
    """Flagged files that could not be moved (permissions, a read-only folder, a full disk): left in
    place and not noted as screened, so the next sweep (or ``--resume``) tries again."""
    registry_changed: bool = False
    """``--resume`` found the registry, or whether reviewed files are moved, changed since the files
    were screened, so it screened them all again."""


@dataclass(frozen=True)
class Screened:
    """One swept file's verdict. ``movable`` is False for a file that could not be opened: it is
    never moved, whatever its verdict says. ``retry`` marks a file no worker could screen: it is kept
    and not noted as screened, so ``--resume`` tries it again."""

    key: str
    verdict: Verdict
    movable: bool
    retry: bool = False


class ChunkScreener:
    """Screens chunks of a sweep's files; one per worker process (its Screener loads models and
    indexes once). It moves nothing: only the sweeping process touches the files and the ledger."""

    def __init__(self, root: Path, flight_dir: Path, home_root: str, database_url: str) -> None:
        from clearance.screening import EmptyRegistryWarning, Screener  # models load in the worker, not the parent

        warnings.filterwarnings("ignore", category=EmptyRegistryWarning)  # the sweep's own process says it

        self.root = root
        self.flight_dir = flight_dir
        self.screener = Screener(Home.resolve(home_root, database_url))

    def __call__(self, chunk: Shard) -> list[Screened]:
        items = list(folder.read(self.root, chunk))  # records name their files; nothing is read whole
        verdicts = FlightLog(self.flight_dir, chunk).screen(self.screener, items)
        return [Screened(item.key, verdict, bool(item.media)) for item, verdict in zip(items, verdicts, strict=True)]


class LostFiles:
    """Records, in the sweeping process, the files of a chunk whose worker processes kept dying on
    it (a file that crashes native code, say): each gets an audited error verdict and stays where it is."""

    def __init__(self, home: Home) -> None:
        self.audit = AuditLog(session_factory(home.database_url))

    def __call__(self, chunk: Shard, reason: str) -> list[Screened]:
        return [Screened(key, audited_error(self.audit, f"not screened: {reason}", key, Subject.RECORD),
                         movable=False, retry=True) for key in json.loads(chunk.source)]


def _through_link(path: Path) -> bool:
    """A path under the (resolved) swept folder that is, or lies under, a symbolic link: its
    content is somewhere else, which a move into quarantine would not take away."""
    return path.resolve() != path


def _split_links(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(linked, direct) paths, in their order; each path is resolved once (a sweep may list millions)."""
    linked: list[Path] = []
    direct: list[Path] = []
    for path in paths:
        (linked if _through_link(path) else direct).append(path)
    return linked, direct


def _under_linked_folders(root: Path) -> list[Path]:
    """Media files in folders reached through a symbolic link under ``root``: ``folder.media_files``
    does not descend into such a folder, and a file left out of the listing unreported would look swept."""
    found: list[Path] = []
    for dirpath, dirnames, _ in os.walk(root):  # walks into no linked folder, but names them
        for link in (Path(dirpath) / name for name in dirnames):
            if link.is_symlink():
                found += folder.media_files(link)
    return found


def _refuse_links(audit: AuditLog, root: Path, paths: list[Path]) -> int:
    """Give every linked file an audited error verdict and leave it where it is; returns how many.
    It is not noted as screened, so each sweep reports it again until its target's folder is swept."""
    for path in paths:
        target = os.fsdecode(path.resolve())
        audited_error(audit, f"not swept: a symbolic link (or under one) to {target}; sweep the folder that "
                             "holds its target instead", str(path.relative_to(root)), Subject.RECORD)
    return len(paths)


def _refuse_reserved(audit: AuditLog, root: Path, paths: list[Path]) -> int:
    """Give every file under a top folder named ``STATE`` an audited error verdict and leave it where
    it is: its place in the quarantine holds the sweep's own files. Returns how many."""
    for path in paths:
        audited_error(audit, f"not swept: its path in the quarantine lies in {STATE}/, which holds the sweep's own "
                             "files; rename its folder to sweep it", str(path.relative_to(root)), Subject.RECORD)
    return len(paths)


def _make_quarantine(qdir: Path) -> None:
    """A path that is not a folder (a file given by mistake) is a usage error, not a traceback."""
    if problem := writable_folder(qdir):
        raise SweepError(f"cannot use {qdir} as the quarantine folder: {problem}")


def sweep(root: Path, qdir: Path, home: Home, *, workers: int = 1, include_review: bool = False,
          resume: bool = False, on_chunk: Callable[[list[str], int], None] | None = None) -> SweepSummary:
    """Screen every media file under ``root``; move matches to ``qdir`` (same relative paths).
    Symbolic links are not swept (``_refuse_links``).
    ``on_chunk(statuses, files_to_do)`` reports each finished chunk ("kept" or "quarantined" per file)."""
    root, qdir = root.resolve(), qdir.resolve()
    if qdir.is_relative_to(root):
        raise SweepError("the quarantine folder must not be inside the swept folder")
    if root.is_relative_to(qdir):  # its files would land back under it, over files of its own
        raise SweepError("the swept folder must not be inside the quarantine folder")
    _make_quarantine(qdir)
    with _exclusive(qdir):
        _adopt_old_layout(qdir)
        meta = qdir / META
        if meta.exists() and json.loads(meta.read_text())["root"] != str(root):
            raise SweepError(f"{qdir} already quarantines files of another folder")
        meta.write_text(json.dumps({"root": str(root)}))
        ledger = Ledger(qdir)
        _finish_interrupted_moves(root, qdir, ledger, ledger.state())
        flagged = {Action.BLOCK, Action.REVIEW} if include_review else {Action.BLOCK}
        scanned_path = qdir / SCANNED
        registry_line = f"registry {Registry.of(home).snapshot().fingerprint} include-review {include_review}"
        warn_if_empty(home)
        done = _screened_before(scanned_path, registry_line) if resume else None
        linked, direct = _split_links(folder.media_files(root))
        linked = sorted({*linked, *_under_linked_folders(root)})
        reserved = [path for path in direct if path.relative_to(root).parts[0] == STATE]
        keys = [str(path.relative_to(root)) for path in direct if path not in reserved]
        todo = [key for key in keys if _as_screened(root, key) not in (done or ())]
        lost = LostFiles(home)
        summary = SweepSummary(skipped=len(keys) - len(todo), registry_changed=resume and done is None
                               and scanned_path.exists(), errors=_refuse_links(lost.audit, root, linked)
                               + _refuse_reserved(lost.audit, root, reserved))
        chunks = [Shard(f"chunk-{i // CHUNK:06d}", json.dumps(todo[i : i + CHUNK])) for i in range(0, len(todo), CHUNK)]
        flight_dir = qdir / FLIGHT
        flight.clear(flight_dir)
        screen = partial(ChunkScreener, root, flight_dir, str(home.root), home.database_url)
        with scanned_path.open("w" if done is None else "a", encoding="utf-8", errors="surrogateescape") as scanned:
            if done is None:
                scanned.write(registry_line + "\n")
            for screened in engines.run("local", screen, chunks, workers, lost):
                statuses = [_decide(root, qdir, one, flagged, ledger, scanned) for one in screened]
                summary.scanned += len(screened)
                summary.errors += sum(one.verdict.error is not None for one in screened)
                summary.quarantined += statuses.count("quarantined")
                summary.held += statuses.count("held")
                summary.gone += statuses.count("gone")
                summary.stuck += statuses.count("stuck")
                if on_chunk:
                    on_chunk(statuses, len(todo))
        return summary


def _screened_before(scanned_path: Path, registry_line: str) -> set[str] | None:
    """What ``--resume`` may skip: the files noted as screened against this same registry and with
    the same ``--include-review``; None when there is no such note. A sweep resumed after either
    changed screens every file again: a file kept before may be a copy of a work registered since,
    or a reviewed one now to be moved."""
    if not scanned_path.exists():
        return None
    lines = scanned_path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    return set(lines[1:]) if lines and lines[0] == registry_line else None


def _decide(root: Path, qdir: Path, screened: Screened, flagged: set[Action], ledger: Ledger,
            scanned: TextIO) -> str:
    """Quarantine a flagged file, or keep it, noted as screened (what ``--resume`` skips) unless it
    was not screened at all. A flagged file whose place in the quarantine is taken is held where it
    is and not noted, so a sweep after that file's restore or purge moves it. One gone before it could
    be moved (deleted meanwhile, or moved by a sweep into another quarantine) is reported, not noted."""
    if screened.movable and screened.verdict.action in flagged:
        files = _moved_with(root, screened.key)
        if any((qdir / rel).exists() for rel in files):  # an earlier match's, not restored or purged yet
            return "held"
        try:
            _quarantine(root, qdir, files, screened.verdict, ledger)
        except FileNotFoundError:
            return "gone"
        except OSError as exc:  # permissions, an immutable folder, a full disk: the sweep goes on
            with contextlib.suppress(OSError):  # if even that fails, the ledger's "moving" has the next sweep finish it
                _undo_move(root, qdir, files, ledger, exc)
            return "stuck"
        return "quarantined"
    if not screened.retry:
        scanned.write(_as_screened(root, screened.key) + "\n")
        scanned.flush()
    return "kept"


def _as_screened(root: Path, key: str) -> str:
    """A file's key with the size and modification time of it and its sidecars: a file or caption
    overwritten after it was screened (a store whose outputs are regenerated in place) is screened
    again by ``--resume``."""
    try:
        stats = [path.stat() for path in _companions(root / key)]
    except OSError:
        return key
    return key + "".join(f"\0{info.st_size}:{info.st_mtime_ns}" for info in stats)


def _quarantine(root: Path, qdir: Path, files: list[str], verdict: Verdict, ledger: Ledger) -> None:
    """Move a flagged file and its sidecars (``files``, the file first: ``_moved_with``), with a
    ledger entry before and after the move. Each file is hashed once: the file's own checksum is its
    entry among them (a long video was read twice)."""
    top = verdict.matches[0] if verdict.matches else None
    key = files[0]
    path = root / key
    checksums = {rel: sha256_file(root / rel) for rel in files}
    ledger.append({"key": key, "status": "moving", "files": files, "sha256": checksums[key], "checksums": checksums,
                   "size": path.stat().st_size, "action": verdict.action.value, "audit_id": verdict.audit_id,
                   "work_id": top.work_id if top else None, "owner": top.owner if top else None,
                   "signal": top.signal if top else None, "score": verdict.score})
    for rel in files:
        _move(root / rel, qdir / rel)
    ledger.append({"key": key, "status": "quarantined", "quarantined_at": time.time()})


def _undo_move(root: Path, qdir: Path, files: list[str], ledger: Ledger, exc: OSError) -> None:
    """Put back what a failed ``_quarantine`` moved: a file left in place whole is kept there (a move
    across disks copies before it deletes, so a copy that could not delete its source was in both
    places), one already moved goes back. Noted ``not_moved``, not ``moving``, so no later sweep
    completes the move behind the user's back; the next sweep screens the file again and retries.
    Until 2026-12-08 the first such file ended the sweep with a traceback."""
    for rel in files:
        kept, moved = root / rel, qdir / rel
        if moved.exists() and kept.exists():
            moved.unlink()
        elif moved.exists():
            _move(moved, kept)
        _remove_empty_parents(moved, qdir)
    ledger.append({"key": files[0], "status": "not_moved", "error": exc.strerror or str(exc)})


def _finish_interrupted_moves(root: Path, qdir: Path, ledger: Ledger, state: dict[str, dict[str, Any]]) -> None:
    """A kill between ``moving`` and ``quarantined``: complete the move (files may be on either side)."""
    for key, entry in state.items():
        if entry.get("status") != "moving":
            continue
        for rel in entry["files"]:
            if (root / rel).exists():
                _move(root / rel, qdir / rel)
        ledger.append({"key": key, "status": "quarantined", "quarantined_at": time.time()})


def _quarantine_folder(qdir: Path) -> Path:
    """``qdir`` resolved, if a sweep made it (in either layout: ``OLD_LAYOUT``)."""
    qdir = qdir.resolve()
    if not ((qdir / META).is_file() or (qdir / "sweep.json").is_file()):
        raise SweepError(f"not a quarantine folder: {qdir}")
    return qdir


def restore(qdir: Path, audit: AuditLog, key: str | None = None) -> tuple[list[str], list[str]]:
    """Move quarantined files back where they were, after checking their SHA-256; each restore
    is recorded in the audit log (the reversal of a takedown is evidence too).

    Returns (restored keys, problems); a file that fails its checks stays in quarantine and
    the others are still restored. A restore killed half-way is completed by the next call."""
    qdir = _quarantine_folder(qdir)
    with _exclusive(qdir):
        _adopt_old_layout(qdir)
        root = Path(json.loads((qdir / META).read_text())["root"])
        ledger = Ledger(qdir)
        state = ledger.state()
        if key is not None and key not in state:  # a name that is not UTF-8, as manifests and tables spell it
            key = next((k for k in state if printable(k) == key), key)
        if key is not None and state.get(key, {}).get("status") not in RESTORABLE:
            raise SweepError(f"no quarantined file with key {printable(key)!r}")
        restored, problems = [], []
        for k, entry in sorted(state.items()):
            if (key is not None and k != key) or entry.get("status") not in RESTORABLE:
                continue
            try:
                _check_restorable(qdir, root, k, entry)
            except SweepError as exc:
                problems.append(str(exc))
                continue
            if entry.get("status") != "restoring":  # a purge's noted takedown id is void once restored
                entry = {**entry, "restore_audit_id": audit.new_id()}
                ledger.append({"key": k, "status": "restoring", "takedown_audit_id": None,
                               "restore_audit_id": entry["restore_audit_id"]})
            try:
                for rel in entry["files"]:
                    if (qdir / rel).exists():
                        _move(qdir / rel, root / rel)
                        _remove_empty_parents(qdir / rel, qdir)
            except OSError as exc:  # the disk, permissions, a race: left "restoring", finished by the next restore
                problems.append(f"{printable(k)}: could not put it back: {exc.strerror or exc}")
                continue
            audit_id = _record_once(audit, "restore", entry, entry.get("restore_audit_id"))
            ledger.append({"key": k, "status": "restored", "restore_audit_id": audit_id})
            restored.append(k)
        return restored, problems


RESTORABLE = ("quarantined", "restoring", "purging")
"""Ledger states restore takes: a file a purge failed to delete (or was killed before deleting)
is restored like any quarantined one if its files are all there and unchanged, and listed under
problems if not; until 2026-12-08 restore passed over it without a word."""


def _checksums(entry: dict[str, Any]) -> dict[str, str]:
    """Each quarantined file's SHA-256 (a ledger of the first layout noted the media file's only)."""
    return entry.get("checksums", {entry["files"][0]: entry["sha256"]})


def _check_unchanged(qdir: Path, key: str, entry: dict[str, Any]) -> None:
    """Every quarantined file of an entry is still the file that was moved (its recorded SHA-256):
    restore must put back those bytes, and purge must not record the takedown of bytes it does not delete."""
    for rel, sha in _checksums(entry).items():
        path = qdir / rel
        if path.is_symlink():
            raise SweepError(f"{key}: quarantined file {rel} has been replaced by a symbolic link")
        if not path.is_file() or sha256_file(path) != sha:
            raise SweepError(f"{key}: quarantined file {rel} is missing or changed (checksum mismatch)")


def _outside(root: Path, rel: str) -> bool:
    """Whether putting a file back at ``root / rel`` would write somewhere else: a folder (or the
    file's own name) on the way has become a symbolic link, or the parent now resolves outside ``root``."""
    path = root
    for part in Path(rel).parts:
        path = path / part
        if path.is_symlink():
            return True
    return not (root / rel).parent.resolve().is_relative_to(root.resolve())


def _not_a_folder(root: Path, rel: str) -> Path | None:
    """A folder on the way to ``root / rel`` that something else (a file) has taken the place of."""
    path = root
    for part in Path(rel).parts[:-1]:
        path = path / part
        if path.exists() and not path.is_dir():
            return path
    return None


def _check_restorable(qdir: Path, root: Path, key: str, entry: dict[str, Any]) -> None:
    """Every quarantined file is unchanged, and its original path is still inside the swept folder
    with nothing in its place. Of a restore that stopped half-way (``restoring``), the files still
    in quarantine: until 2026-12-08 those were moved back over whatever had appeared at their paths."""
    files = entry["files"]
    if entry.get("status") == "restoring":
        files = [rel for rel in files if (qdir / rel).exists()]
        entry = {**entry, "checksums": {rel: sha for rel, sha in _checksums(entry).items() if rel in files}}
    elif entry.get("status") == "purging" and not all((qdir / rel).is_file() for rel in files):
        raise SweepError(f"{key}: a purge deleted some of its files; `clearance purge` finishes it")
    _check_unchanged(qdir, key, entry)
    for rel in files:
        if _outside(root, rel):
            raise SweepError(f"{key}: {root / rel} now leads through a symbolic link or outside {root}; "
                             "not writing there")
        if (in_the_way := _not_a_folder(root, rel)) is not None:
            raise SweepError(f"{key}: {in_the_way} is no longer a folder; not writing {root / rel}")
        if (root / rel).exists():
            raise SweepError(f"{key}: {root / rel} exists again; not overwriting it")


def _remove_empty_parents(path: Path, top: Path) -> None:
    """Remove the folders above ``path`` that it leaves empty, up to (not including) ``top``: a
    quarantine kept the empty folders of every file purged or restored from it."""
    folder = path.parent
    while folder != top and folder.is_relative_to(top):
        try:
            folder.rmdir()
        except OSError:  # not empty (or gone): the folders above are not empty either
            return
        folder = folder.parent


ACTIONS = {"restore": "restored", "takedown": "purged"}
"""The action each kind of audit record of a quarantined file names."""


def _record_once(audit: AuditLog, kind: str, entry: dict[str, Any], noted_id: str | None) -> str:
    """Append the ``restore`` or ``takedown`` record of a quarantined file (its SHA-256 and size, the
    sidecars that went with it, its work and owner, the verdict that moved it) under ``noted_id``,
    the id the ledger noted before the work, unless that record is written already: a restore or
    purge killed after its record and before the ledger said so, run again, writes none again."""
    audit_id = noted_id or audit.new_id()
    if not audit.has(audit_id):
        record = {"key": entry["key"], "sha256": entry["sha256"], "size": entry.get("size"),
                  "work_id": entry.get("work_id"), "owner": entry.get("owner"),
                  "verdict_audit_id": entry.get("audit_id"), "files": entry["files"], "action": ACTIONS[kind]}
        works = [f"{entry['owner']}/{entry['work_id']}"] if entry.get("work_id") else []
        audit.append(kind, record, None, works, audit_id)
    return audit_id


def purge(qdir: Path, audit: AuditLog, older_than_days: float) -> tuple[list[str], list[str]]:
    """Delete quarantined files older than ``older_than_days`` and audit each takedown.

    Returns (purged keys, problems). An entry whose files fail their checksums (``_check_unchanged``)
    is neither deleted nor recorded, since its takedown record would name bytes that are not the
    ones deleted; one whose files cannot be deleted is recorded only once they are (a later purge
    finishes it); one whose restore did not finish is named. The others are still purged."""
    qdir = _quarantine_folder(qdir)
    with _exclusive(qdir):
        _adopt_old_layout(qdir)
        ledger = Ledger(qdir)
        cutoff = time.time() - older_than_days * 86400
        purged, problems = [], []
        for key, entry in sorted(ledger.state().items()):
            status = entry.get("status")
            if status == "restoring":
                problems.append(f"{printable(key)}: its restore did not finish; `clearance restore` finishes it")
                continue
            if status == "quarantined" and entry.get("quarantined_at", time.time()) <= cutoff:
                try:
                    _check_unchanged(qdir, key, entry)
                except SweepError as exc:
                    problems.append(str(exc))
                    continue
                entry = {**entry, "takedown_audit_id": audit.new_id()}
                ledger.append({"key": key, "status": "purging", "takedown_audit_id": entry["takedown_audit_id"]})
            elif status != "purging":  # "purging": deleted in part by a purge that failed or was killed
                continue
            try:
                for rel in entry["files"]:
                    (qdir / rel).unlink(missing_ok=True)
                    _remove_empty_parents(qdir / rel, qdir)
            except OSError as exc:
                problems.append(f"{printable(key)}: could not delete it: {exc.strerror or exc}; "
                                "no takedown is recorded until a purge can")
                continue
            audit_id = _record_once(audit, "takedown", entry, entry.get("takedown_audit_id"))
            ledger.append({"key": key, "status": "purged", "takedown_audit_id": audit_id})
            purged.append(key)
        return purged, problems
