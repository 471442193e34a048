"""Output sweep: quarantine with checksums, restore byte for byte, audited purge."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from clearance.audit import AuditLog
from clearance.batch import sweep as sweep_module
from clearance.batch.engines import ATTEMPTS
from clearance.batch.flight import LEFT_OUT
from clearance.batch.sweep import LEDGER, LOCK, SCANNED
from clearance.cli import app
from clearance.cli.batch_cmds import STUCK
from clearance.db.engine import session_factory
from clearance.db.tables import AuditEntry
from clearance.home import Home
from tests.conftest import DATA, holding, run_killing_workers, unwritable

IMAGES = DATA / "images"
runner = CliRunner()


def test_sweep_restore_purge(registered_home: Home, tmp_path: Path) -> None:
    store = tmp_path / "outputs"
    (store / "2026" / "11").mkdir(parents=True)
    copy = (IMAGES / "copies" / "ref_003_crop.jpg").read_bytes()
    (store / "2026" / "11" / "gen1.jpg").write_bytes(copy)
    (store / "2026" / "11" / "gen1.txt").write_text("prompt: a city at night")
    (store / "2026" / "gen2.jpg").write_bytes((IMAGES / "distractors" / "dis_004.jpg").read_bytes())
    q = tmp_path / "quarantine"
    opts = ["--home", str(registered_home.root)]
    result = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--json", *opts])
    assert json.loads(result.output.strip().splitlines()[-1])["quarantined"] == 1
    assert not (store / "2026" / "11" / "gen1.jpg").exists()
    assert (q / "2026" / "11" / "gen1.jpg").read_bytes() == copy and (q / "2026" / "11" / "gen1.txt").exists()
    resumed = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--resume", "--json", *opts])
    assert json.loads(resumed.output.strip().splitlines()[-1])["skipped (resumed)"] == 1
    assert runner.invoke(app, ["restore", str(q), "--key", "nope", *opts]).exit_code == 2
    assert runner.invoke(app, ["restore", str(q), "--key", "2026/11/gen1.jpg", *opts]).exit_code == 0
    assert (store / "2026" / "11" / "gen1.jpg").read_bytes() == copy and (store / "2026" / "11" / "gen1.txt").exists()
    assert not (q / "2026").exists()  # no empty folders left behind
    runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), *opts])
    for days in ("-1", "nan", "inf"):
        assert runner.invoke(app, ["purge", str(q), "--older-than", days, *opts]).exit_code == 2, days
    assert (q / "2026" / "11" / "gen1.jpg").exists()
    purged = runner.invoke(app, ["purge", str(q), "--older-than", "0", "--json", *opts])
    assert json.loads(purged.output.strip().splitlines()[-1])["purged"] == 1
    assert not (q / "2026").exists() and (q / LEDGER).exists()
    log = AuditLog(session_factory(registered_home.database_url))
    assert log.verify().ok
    events = [json.loads(line) for line in (q / LEDGER).read_text().splitlines()]
    assert {log.get(e["audit_id"]).kind for e in events if e["status"] == "moving"} == {"record"}
    restored = log.record(next(e["restore_audit_id"] for e in events if e["status"] == "restored"))
    assert restored["action"] == "restored" and restored["key"] == "2026/11/gen1.jpg"
    takedown = log.record(events[-1]["takedown_audit_id"])
    assert takedown["action"] == "purged" and takedown["work_id"] == "kpop-demon-hunters"


def _noted(q: Path) -> list[str]:
    """The files a sweep noted as screened (``scanned.txt`` after its registry line)."""
    return (q / SCANNED).read_text(encoding="utf-8", errors="surrogateescape").splitlines()[1:]


def quarantined_store(home: Home, tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A store with two copies of registered stills (with sidecars) and one unrelated picture, swept."""
    store, q = tmp_path / "outputs", tmp_path / "quarantine"
    (store / "a").mkdir(parents=True)
    for name, source in (("one", "ref_003_crop.jpg"), ("two", "ref_010_crop.jpg")):
        (store / "a" / f"{name}.jpg").write_bytes((IMAGES / "copies" / source).read_bytes())
        (store / "a" / f"{name}.txt").write_text(f"prompt for {name}")
    (store / "a" / "clean.jpg").write_bytes((IMAGES / "distractors" / "dis_004.jpg").read_bytes())
    result = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--json", "--home", str(home.root)])
    assert json.loads(result.output.strip().splitlines()[-1])["quarantined"] == 2
    return store, q, ["a/one.jpg", "a/two.jpg"]


def test_restore_checks_every_file_and_never_overwrites(registered_home: Home, tmp_path: Path) -> None:
    store, q, _ = quarantined_store(registered_home, tmp_path)
    (q / "a" / "one.txt").write_text("tampered sidecar")
    (store / "a" / "two.jpg").write_bytes(b"a new file at the old path")
    result = runner.invoke(app, ["restore", str(q), "--json", "--home", str(registered_home.root)])
    assert result.exit_code == 1
    problems = json.loads(result.output.strip().splitlines()[-1])["problems"]
    assert len(problems) == 2 and "a/one.txt" in problems[0] and "exists again" in problems[1]
    assert (store / "a" / "two.jpg").read_bytes() == b"a new file at the old path"
    assert (q / "a" / "one.jpg").exists() and (q / "a" / "two.jpg").exists()


def test_a_symbolic_link_is_not_swept_but_reported(registered_home: Home, tmp_path: Path) -> None:
    """A link to a copy outside the store, and the same copy reached through a linked folder, stay
    where they are, each with an audited error verdict naming the target: moving the link would leave
    the copy where it was, and a purge would then record a takedown of bytes that still exist. The
    real copy beside them is swept; the links are not noted as screened, so a resumed sweep reports
    them again."""
    store, q, elsewhere = tmp_path / "outputs", tmp_path / "quarantine", tmp_path / "elsewhere"
    copy = (IMAGES / "copies" / "ref_003_crop.jpg").read_bytes()
    target = _store_with({"copy.jpg": IMAGES / "copies" / "ref_003_crop.jpg"}, elsewhere) / "copy.jpg"
    _store_with({"a/real.jpg": IMAGES / "copies" / "ref_010_crop.jpg"}, store)
    (store / "a" / "link.jpg").symlink_to(target)
    (store / "b").symlink_to(elsewhere, target_is_directory=True)
    opts = ["--quarantine", str(q), "--json", "--home", str(registered_home.root)]
    result = runner.invoke(app, ["sweep", str(store), *opts])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert (summary["quarantined"], summary["errors"], summary["screened"]) == (1, 2, 1), summary
    assert (store / "a" / "link.jpg").is_symlink() and target.read_bytes() == copy
    assert not (q / "a" / "link.jpg").exists(follow_symlinks=False) and (q / "a" / "real.jpg").exists()
    assert not (q / "b").exists() and (store / "b" / "copy.jpg").exists()
    errors = _audited_errors(registered_home, str(target))
    assert len(errors) == 2 and all("symbolic link" in error for error in errors)
    assert all("sweep the folder that holds its target" in error for error in errors)
    assert _noted(q) == []
    resumed = runner.invoke(app, ["sweep", str(store), "--resume", *opts])
    assert json.loads(resumed.output.strip().splitlines()[-1])["errors"] == 2
    purged = runner.invoke(app, ["purge", str(q), "--older-than", "0", "--json", "--home", str(registered_home.root)])
    assert json.loads(purged.output.strip().splitlines()[-1])["keys"] == ["a/real.jpg"] and target.exists()


def test_restore_never_writes_through_a_symbolic_link(registered_home: Home, tmp_path: Path) -> None:
    """The swept folder's subfolder is replaced by a link to a folder elsewhere after the sweep:
    restoring would write there, outside the swept folder, so the files stay in quarantine and are
    reported, as a file that exists again at its original path is."""
    store, q, keys = quarantined_store(registered_home, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (store / "a").rename(elsewhere)
    (store / "a").symlink_to(elsewhere, target_is_directory=True)
    result = runner.invoke(app, ["restore", str(q), "--json", "--home", str(registered_home.root)])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["restored"] == 0 and len(report["problems"]) == 2
    assert all("symbolic link" in problem for problem in report["problems"])
    assert sorted(p.name for p in elsewhere.iterdir()) == ["clean.jpg"]
    assert all((q / key).exists() and (q / key).with_suffix(".txt").exists() for key in keys)
    one = runner.invoke(app, ["restore", str(q), "--key", keys[0], "--home", str(registered_home.root)])
    assert one.exit_code == 1 and not (elsewhere / "one.jpg").exists()


def _takedowns(home: Home) -> list[dict[str, object]]:
    """Every takedown record of the home's audit log."""
    with session_factory(home.database_url)() as session:
        kinds = select(AuditEntry.payload).where(AuditEntry.kind == "takedown").order_by(AuditEntry.seq)
        return [json.loads(payload) for payload in session.scalars(kinds)]


def test_purge_checks_checksums_and_keeps_changed_or_missing_files(registered_home: Home, tmp_path: Path) -> None:
    """A quarantined file changed after the sweep is not deleted and gets no takedown record (the
    record would carry the checksum and size of bytes that are not the ones deleted); nor does one
    that has gone. Purge lists them as problems and exits 1, and still purges the unchanged entry."""
    _, q, keys = quarantined_store(registered_home, tmp_path)
    (q / "a" / "one.jpg").write_bytes((q / "a" / "one.jpg").read_bytes() + b"changed")
    opts = ["--older-than", "0", "--json", "--home", str(registered_home.root)]
    result = runner.invoke(app, ["purge", str(q), *opts])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["purged"] == 1 and report["keys"] == [keys[1]] and not (q / keys[1]).exists()
    assert len(report["problems"]) == 1 and "a/one.jpg" in report["problems"][0]
    assert "checksum mismatch" in report["problems"][0] and (q / "a" / "one.jpg").exists()
    (q / "a" / "one.txt").unlink()
    again = runner.invoke(app, ["purge", str(q), *opts])
    assert again.exit_code == 1 and (q / "a" / "one.jpg").exists()
    events = [json.loads(line) for line in (q / LEDGER).read_text().splitlines()]
    assert [e["key"] for e in events if e["status"] == "purged"] == [keys[1]]
    moved = {e["key"]: e["audit_id"] for e in events if e["status"] == "moving"}
    purged_verdicts = [record["verdict_audit_id"] for record in _takedowns(registered_home)]
    assert moved[keys[1]] in purged_verdicts and moved[keys[0]] not in purged_verdicts


def test_a_file_is_no_quarantine_folder(registered_home: Home, tmp_path: Path) -> None:
    """A regular file given as the quarantine folder (or as a folder on its path) is a usage error,
    exit 2 with a message, not a traceback; restore and purge refuse it too, and it is left as it was."""
    store = _store_with({"a/one.jpg": IMAGES / "copies" / "ref_003_crop.jpg"}, tmp_path / "outputs")
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    opts = ["--home", str(registered_home.root)]
    for quarantine in (afile, afile / "q"):
        result = runner.invoke(app, ["sweep", str(store), "--quarantine", str(quarantine), *opts])
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
        assert "quarantine folder" in result.output and str(afile) in result.output
    for command in (["restore", str(afile)], ["purge", str(afile), "--older-than", "0"]):
        result = runner.invoke(app, [*command, *opts])
        assert result.exit_code == 2 and "not a quarantine folder" in result.output, command
    assert afile.read_text() == "not a folder" and (store / "a" / "one.jpg").exists()


def test_a_match_at_a_path_the_quarantine_still_holds_is_held_and_nothing_is_overwritten(registered_home: Home,
                                                                                        tmp_path: Path) -> None:
    """A second match at the path of a file still in quarantine replaced it there: the first file
    was destroyed, with its ledger entry, and restore could give back only the second."""
    first, second = IMAGES / "copies" / "ref_010_crop.jpg", IMAGES / "copies" / "ref_020_crop.jpg"
    store = _store_with({"b/c/img.jpg": first}, tmp_path / "outputs")
    q = tmp_path / "quarantine"
    opts = ["--home", str(registered_home.root)]
    runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), *opts])
    (store / "b" / "c" / "img.jpg").write_bytes(second.read_bytes())
    held = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--json", *opts])
    summary = json.loads(held.output.strip().splitlines()[-1])
    assert held.exit_code == 0 and summary["quarantined"] == 0
    assert summary["held (the quarantine holds a file at that path: restore or purge it, then sweep again)"] == 1
    assert (q / "b" / "c" / "img.jpg").read_bytes() == first.read_bytes()
    assert (store / "b" / "c" / "img.jpg").read_bytes() == second.read_bytes()
    assert runner.invoke(app, ["purge", str(q), "--older-than", "0", *opts]).exit_code == 0
    moved = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--resume", "--json", *opts])
    assert json.loads(moved.output.strip().splitlines()[-1])["quarantined"] == 1  # a held file is not noted done
    assert (q / "b" / "c" / "img.jpg").read_bytes() == second.read_bytes()


def test_resume_screens_again_a_file_overwritten_since_it_was_screened(registered_home: Home, tmp_path: Path) -> None:
    """``--resume`` skipped every path screened before, so a clean output regenerated in place as a
    copy stayed in the store."""
    store = _store_with({"a.jpg": IMAGES / "distractors" / "dis_004.jpg",
                         "b.jpg": IMAGES / "distractors" / "dis_005.jpg"}, tmp_path / "outputs")
    q, opts = tmp_path / "quarantine", ["--home", str(registered_home.root)]
    runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), *opts])
    (store / "a.jpg").write_bytes((IMAGES / "copies" / "ref_030_crop.jpg").read_bytes())
    resumed = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--resume", "--json", *opts])
    summary = json.loads(resumed.output.strip().splitlines()[-1])
    assert summary["skipped (resumed)"] == 1 and summary["quarantined"] == 1 and (q / "a.jpg").exists()


CHANGED = "registry or --include-review changed (all screened again)"


def test_resume_screens_every_file_again_after_the_registry_or_the_review_rule_changed(tmp_path: Path) -> None:
    """``--resume`` skipped every file screened before whatever the registry had become, so a copy of
    a work registered since stayed in the store, and so did a reviewed file once ``--include-review``
    was given; a caption rewritten beside an unchanged picture was skipped too. Now a resumed sweep
    screens again what it screened under another registry or review rule, and a file whose sidecar
    changed, and says when it screened everything again."""
    opts = ["--home", str(tmp_path / "home")]
    store = _store_with({"a.jpg": IMAGES / "distractors" / "dis_004.jpg",
                         "b.jpg": IMAGES / "distractors" / "dis_005.jpg",
                         "c.jpg": IMAGES / "distractors" / "dis_006.jpg"}, tmp_path / "outputs")
    (store / "c.txt").write_text("a lighthouse at dusk")
    registry = tmp_path / "works.yaml"
    registry.write_text("version: 1\nworks:\n  - {id: kept, title: Zorblax Quest, owner: Acme, policy: block}\n")
    assert runner.invoke(app, ["registry", "import", str(registry), *opts]).exit_code == 0
    q = tmp_path / "quarantine"

    def swept(*more: str) -> dict:
        run = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--json", *more, *opts])
        assert run.exit_code == 0, run.output
        return json.loads(run.output.strip().splitlines()[-1])

    assert swept()["quarantined"] == 0
    again = swept("--resume")
    assert again["skipped (resumed)"] == 3 and not again[CHANGED]
    (store / "c.txt").write_text("a Zorblax Quest poster")  # the picture is the same
    caption = swept("--resume")
    assert caption["skipped (resumed)"] == 2 and caption["quarantined"] == 1 and (q / "c.txt").exists()
    assert swept("--resume", "--include-review")[CHANGED]
    (tmp_path / "ref.jpg").write_bytes((IMAGES / "distractors" / "dis_004.jpg").read_bytes())
    registry.write_text(registry.read_text() + "  - {id: new, title: Quux Saga, owner: Acme, policy: block,\n"
                        "     references: [{path: ref.jpg, kind: image}]}\n")
    assert runner.invoke(app, ["registry", "import", str(registry), *opts]).exit_code == 0
    summary = swept("--resume", "--include-review")
    assert summary["skipped (resumed)"] == 0 and summary[CHANGED]
    assert summary["quarantined"] == 1 and (q / "a.jpg").exists() and (store / "b.jpg").exists()


def test_a_swept_folder_inside_its_quarantine_is_refused(registered_home: Home, tmp_path: Path) -> None:
    """Either nesting mixes the two: a swept folder inside the quarantine had a clean file of its own
    overwritten by a quarantined one."""
    q = tmp_path / "q2"
    store = _store_with({"out/x.jpg": IMAGES / "copies" / "ref_005_crop.jpg",
                         "x.jpg": IMAGES / "distractors" / "dis_004.jpg"}, q / "out")
    clean = (store / "x.jpg").read_bytes()
    refused = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--home", str(registered_home.root)])
    assert refused.exit_code == 2 and "must not be inside the quarantine folder" in refused.output
    assert (store / "x.jpg").read_bytes() == clean and (store / "out" / "x.jpg").exists()


def test_a_sweep_killed_mid_move_is_completed(registered_home: Home, tmp_path: Path) -> None:
    store, q, keys = quarantined_store(registered_home, tmp_path)
    original = (q / "a" / "one.jpg").read_bytes()
    runner.invoke(app, ["restore", str(q), "--key", keys[0], "--home", str(registered_home.root)])
    # replay a kill between the "moving" record and the second file's move: one file already moved
    events = [json.loads(line) for line in (q / LEDGER).read_text().splitlines()]
    moving = next(e for e in events if e["key"] == keys[0] and e["status"] == "moving")
    with (q / LEDGER).open("a") as fh:
        fh.write(json.dumps(moving) + "\n")
    (q / "a").mkdir(exist_ok=True)
    (store / "a" / "one.jpg").rename(q / "a" / "one.jpg")
    result = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--resume", "--json",
                                 "--home", str(registered_home.root)])
    assert result.exit_code == 0
    assert not (store / "a" / "one.txt").exists() and (q / "a" / "one.txt").exists()
    restored = runner.invoke(app, ["restore", str(q), "--json", "--home", str(registered_home.root)])
    assert json.loads(restored.output.strip().splitlines()[-1])["restored"] == 2
    assert (store / "a" / "one.jpg").read_bytes() == original and (store / "a" / "one.txt").exists()


def test_a_corrupt_file_is_reported_and_its_neighbours_still_swept(registered_home: Home, tmp_path: Path) -> None:
    store, q = tmp_path / "outputs", tmp_path / "quarantine"
    store.mkdir()
    copy = (IMAGES / "copies" / "ref_003_crop.jpg").read_bytes()
    (store / "a_broken.jpg").write_bytes(copy[: len(copy) // 3])
    (store / "b_copy.jpg").write_bytes(copy)
    (store / "c_empty.png").write_bytes(b"")
    result = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--json",
                                 "--home", str(registered_home.root)])
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["quarantined"] == 1 and summary["errors"] == 2, summary
    assert (q / "b_copy.jpg").exists() and (store / "a_broken.jpg").exists() and (store / "c_empty.png").exists()


def test_file_names_that_are_not_utf8_are_swept_restored_and_purged(registered_home: Home, tmp_path: Path) -> None:
    """The ledger, the resume list and the audit log name such files exactly (JSON escapes), so they
    come back to the same bytes-for-bytes name; people see the name with an escape."""
    store, q = tmp_path / "outputs", tmp_path / "quarantine"
    store.mkdir()
    name, other = os.fsdecode(b"gen\xff.jpg"), os.fsdecode(b"other\xfe.jpg")
    copy = (IMAGES / "copies" / "ref_003_crop.jpg").read_bytes()
    (store / name).write_bytes(copy)
    (store / other).write_bytes((IMAGES / "distractors" / "dis_004.jpg").read_bytes())
    opts = ["--quarantine", str(q), "--json", "--home", str(registered_home.root)]
    swept = runner.invoke(app, ["sweep", str(store), *opts])
    assert swept.exit_code == 0, swept.output
    assert json.loads(swept.output.strip().splitlines()[-1])["quarantined"] == 1 and (q / name).read_bytes() == copy
    resumed = runner.invoke(app, ["sweep", str(store), "--resume", *opts])
    assert json.loads(resumed.output.strip().splitlines()[-1])["skipped (resumed)"] == 1
    restored = runner.invoke(app, ["restore", str(q), "--home", str(registered_home.root)])
    assert restored.exit_code == 0 and "gen\\xff.jpg" in restored.output
    assert (store / name).read_bytes() == copy
    runner.invoke(app, ["sweep", str(store), *opts])
    by_key = runner.invoke(app, ["restore", str(q), "--key", "gen\\xff.jpg", "--json",  # as the manifest spells it
                                 "--home", str(registered_home.root)])
    assert by_key.exit_code == 0 and (store / name).read_bytes() == copy
    assert json.loads(by_key.output)["keys"] == ["gen\\xff.jpg"] and "\\udc" not in by_key.output  # strict JSON
    runner.invoke(app, ["sweep", str(store), *opts])
    purged = runner.invoke(app, ["purge", str(q), "--older-than", "0", "--json", "--home", str(registered_home.root)])
    assert json.loads(purged.output.strip().splitlines()[-1])["purged"] == 1 and not (q / name).exists()
    log = AuditLog(session_factory(registered_home.database_url))
    takedown = [json.loads(line) for line in (q / LEDGER).read_text(encoding="utf-8").splitlines()][-1]
    assert log.verify().ok and log.record(takedown["takedown_audit_id"])["key"] == name


def test_files_are_screened_where_they_lie(registered_home: Home, tmp_path: Path) -> None:
    """A 4 GB output (sparse: no disk) is screened from disk, not read whole into memory; it is not a
    video Clearance can read, so it is reviewed and kept."""
    store = tmp_path / "outputs"
    store.mkdir()
    with (store / "huge.mp4").open("wb") as fh:
        fh.truncate(4 << 30)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = runner.invoke(app, ["sweep", str(store), "--quarantine", str(tmp_path / "q"), "--json",
                                 "--home", str(registered_home.root)])
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert (summary["errors"], summary["quarantined"]) == (1, 0) and (store / "huge.mp4").exists()
    assert grown_mb < 1024


def test_one_sweep_restore_or_purge_at_a_time_per_quarantine(registered_home: Home, tmp_path: Path) -> None:
    """A second job on the same quarantine folder would truncate the first's list of screened files
    and race it to move the same files; it is refused at once and touches nothing."""
    store, q, keys = quarantined_store(registered_home, tmp_path)
    (store / "a" / "three.jpg").write_bytes((IMAGES / "copies" / "ref_003_crop.jpg").read_bytes())
    ledger = (q / LEDGER).read_bytes()
    opts = ["--home", str(registered_home.root)]
    with (q / LOCK).open("a+") as running:
        fcntl.flock(running, fcntl.LOCK_EX)
        for command in (["sweep", str(store), "--quarantine", str(q)], ["restore", str(q)],
                        ["purge", str(q), "--older-than", "0"]):
            refused = runner.invoke(app, [*command, *opts])
            assert refused.exit_code == 2 and "another sweep, restore or purge" in refused.output, command
        assert (store / "a" / "three.jpg").exists() and (q / LEDGER).read_bytes() == ledger
        assert all((q / key).exists() for key in keys)
    assert runner.invoke(app, ["restore", str(q), *opts]).exit_code == 0
    assert all((store / key).exists() for key in keys)


def _store_with(files: dict[str, Path], root: Path) -> Path:
    for key, source in files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(source.read_bytes())
    return root


def _contents(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every media file under ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*.jpg")}


def test_worker_processes_sweep_as_one_process_does(registered_home: Home, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """``--workers 2`` screens chunks in two processes (chunks of 2 here, so both get work) and
    quarantines, keeps and reports exactly what one process does, with every verdict audited."""
    monkeypatch.setattr(sweep_module, "CHUNK", 2)
    copies, distractors = IMAGES / "copies", IMAGES / "distractors"
    files = {"a/one.jpg": copies / "ref_003_crop.jpg", "a/two.jpg": copies / "ref_010_crop.jpg",
             "b/three.jpg": copies / "ref_003_flip.jpg", "b/clean.jpg": distractors / "dis_004.jpg",
             "c/clean.jpg": distractors / "dis_010.jpg"}
    outcomes = []
    for workers in ("1", "2"):
        store, q = _store_with(files, tmp_path / f"outputs-{workers}"), tmp_path / f"quarantine-{workers}"
        (store / "c" / "broken.jpg").write_bytes(files["a/one.jpg"].read_bytes()[:2000])
        result = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--workers", workers, "--json",
                                     "--home", str(registered_home.root)])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output.strip().splitlines()[-1])
        moved = sorted(str(p.relative_to(q)) for p in q.rglob("*.jpg"))
        events = [json.loads(line) for line in (q / LEDGER).read_text().splitlines()]
        decided = sorted((e["key"], e["action"], e["work_id"], e["score"]) for e in events if e["status"] == "moving")
        kept = sorted(line.split("\0")[0] for line in _noted(q))  # key, stamp
        outcomes.append((summary["quarantined"], summary["errors"], moved, decided, kept))
        log = AuditLog(session_factory(registered_home.database_url))
        assert log.verify().ok and all(log.record(e["audit_id"]) for e in events if e["status"] == "moving")
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][:3] == (3, 1, ["a/one.jpg", "a/two.jpg", "b/three.jpg"])
    assert outcomes[0][4] == ["b/clean.jpg", "c/broken.jpg", "c/clean.jpg"]


def _poisoned_store(root: Path) -> tuple[Path, Path]:
    """A copy, a clean picture and a video (the file a test makes fatal to the workers that open it)."""
    video = sorted((DATA / "video" / "distractors").glob("*.mp4"))[0]
    store = _store_with({"a/copy.jpg": IMAGES / "copies" / "ref_003_crop.jpg",
                         "a/clean.jpg": IMAGES / "distractors" / "dis_004.jpg", f"b/{video.name}": video}, root)
    return store, (store / "b" / video.name).resolve()


def _audited_errors(home: Home, marker: str) -> list[str]:
    """The errors of the audited verdicts that say ``marker`` (the workers also audit the copy's block
    before each death, and other tests of the module audit errors of their own), each a verdict on
    a swept item."""
    with session_factory(home.database_url)() as session:
        entries = [(k, p) for k, p in session.execute(select(AuditEntry.kind, AuditEntry.payload)) if marker in p]
    assert {kind for kind, _ in entries} <= {"record"}
    return sorted(json.loads(p)["error"] for _, p in entries)


def test_a_file_that_kills_every_worker_screening_it_is_left_out_alone(registered_home: Home, tmp_path: Path) -> None:
    """Every worker process that opens one video is killed with ``SIGKILL``, as a crash in native code
    would end it. The retry screens the chunk one file at a time, noting each first, so the next
    try knows the video and leaves it out, kept and reported with an audited error, while the
    other files of its chunk are screened: the copy is quarantined."""
    store, poison = _poisoned_store(tmp_path / "outputs")
    q = tmp_path / "quarantine"
    args = ["sweep", str(store), "--quarantine", str(q), "--workers", "2", "--home", str(registered_home.root),
            "--json"]
    run = run_killing_workers(args, lambda pid: holding(pid, poison))
    assert run.returncode == 0, run.err
    summary = json.loads(run.out.strip().splitlines()[-1])
    assert len(run.killed) == 2 and summary["errors"] == 1 and summary["quarantined"] == 1
    assert sorted(_contents(store)) == ["a/clean.jpg"] and poison.exists() and (q / "a" / "copy.jpg").exists()
    assert _audited_errors(registered_home, "left out unscreened") == [LEFT_OUT]
    assert AuditLog(session_factory(registered_home.database_url)).verify().ok


def test_files_whose_worker_keeps_dying_stay_unscreened_and_resume_screens_them(registered_home: Home,
                                                                               tmp_path: Path) -> None:
    """Every worker process is killed as it appears (one chunk, so one lane): after ``ATTEMPTS`` tries
    the chunk's three files get audited error verdicts and stay where they are, not noted as
    screened, and the sweep ends; ``--resume`` (nothing killed) screens them."""
    store, _ = _poisoned_store(tmp_path / "outputs")
    q = tmp_path / "quarantine"
    args = ["sweep", str(store), "--quarantine", str(q), "--workers", "2", "--home", str(registered_home.root),
            "--json"]
    run = run_killing_workers(args, lambda pid: True)
    assert run.returncode == 0, run.err
    summary = json.loads(run.out.strip().splitlines()[-1])
    assert len(run.killed) == ATTEMPTS and summary["errors"] == 3 and summary["quarantined"] == 0
    assert sorted(_contents(store)) == ["a/clean.jpg", "a/copy.jpg"]
    assert _noted(q) == []
    assert _audited_errors(registered_home, "not screened") == [
        f"not screened: the worker process screening it died {ATTEMPTS} times (a crash in native code, or out of "
        "memory)"] * 3
    assert AuditLog(session_factory(registered_home.database_url)).verify().ok
    resumed = runner.invoke(app, [*args[:-3], "--resume", "--home", str(registered_home.root), "--json"])
    assert json.loads(resumed.output.strip().splitlines()[-1])["quarantined"] == 1
    assert (q / "a" / "copy.jpg").exists() and len(_noted(q)) == 2


def test_a_sweep_killed_with_sigkill_and_resumed_ends_as_an_uninterrupted_sweep(registered_home: Home,
                                                                               tmp_path: Path) -> None:
    """A real sweep process on two workers is killed with SIGKILL once it has decided on some files
    (three chunks of 64 at most); ``--resume`` then ends with exactly the files quarantined and kept
    that an uninterrupted sweep gives, every original file in one place, byte for byte."""
    distractors = sorted((IMAGES / "distractors").glob("dis_*.jpg"))[:130]
    copies = sorted((IMAGES / "copies").glob("ref_0[0-2]?_crop.jpg"))
    files = {f"d/{p.name}": p for p in distractors} | {f"c/{p.name}": p for p in copies}
    original = _contents(_store_with(files, tmp_path / "original"))
    opts = ["--workers", "2", "--home", str(registered_home.root), "--json"]
    whole, whole_q = _store_with(files, tmp_path / "whole"), tmp_path / "whole-q"
    assert runner.invoke(app, ["sweep", str(whole), "--quarantine", str(whole_q), *opts]).exit_code == 0
    killed, killed_q = _store_with(files, tmp_path / "killed"), tmp_path / "killed-q"
    cmd = [sys.executable, "-m", "clearance.cli.main", "sweep", str(killed), "--quarantine", str(killed_q), *opts]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ledger = killed_q / LEDGER

    def decided() -> bool:
        noted = (killed_q / SCANNED).exists() and bool(_noted(killed_q))
        return noted or (ledger.exists() and bool(ledger.stat().st_size))

    deadline = time.time() + 120
    while time.time() < deadline and not decided():
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert decided(), "the sweep decided nothing before the deadline"
    resumed = runner.invoke(app, ["sweep", str(killed), "--quarantine", str(killed_q), "--resume", *opts])
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads(resumed.output.strip().splitlines()[-1])
    assert 0 < summary["screened"] < len(files), summary  # really cut mid-run: some files decided, some not
    assert _contents(killed) == _contents(whole) and _contents(killed_q) == _contents(whole_q)
    assert _contents(killed) | _contents(killed_q) == original and len(_contents(whole_q)) >= 20


def _last_json(result: object) -> dict:
    return json.loads(result.output.strip().splitlines()[-1])  # type: ignore[attr-defined]


def test_swept_files_named_like_the_sweeps_own_are_quarantined_and_kept(registered_home: Home,
                                                                        tmp_path: Path) -> None:
    """The sweep's own files lived at the quarantine's top, where quarantined files keep their
    relative paths: a swept "flight/a.jpg" was deleted by the next sweep (its flight logs were
    cleared there), and "scanned.jpg" with a "scanned.txt" caption, or "sweep.jpg" with
    "sweep.json", was held for ever. They live in ``STATE`` now; a swept file under a folder of
    that name is refused with an audited error and left in place. A quarantine of the old layout
    is taken over as it is: its files are restored."""
    store, q = tmp_path / "outputs", tmp_path / "quarantine"
    copy = (IMAGES / "copies" / "ref_003_crop.jpg").read_bytes()
    for rel in ("flight/a.jpg", "scanned.jpg", "sweep.jpg", "ledger.jpg", f"{sweep_module.STATE}/b.jpg"):
        (store / rel).parent.mkdir(parents=True, exist_ok=True)
        (store / rel).write_bytes(copy)
    (store / "scanned.txt").write_text("a cat")
    (store / "sweep.json").write_text('{"prompt": "a dog"}')
    opts = ["--home", str(registered_home.root), "--json"]
    first = _last_json(runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), *opts]))
    assert (first["quarantined"], first["errors"]) == (4, 1), first
    again = _last_json(runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), *opts]))
    assert again["quarantined"] == 0 and (q / "flight" / "a.jpg").read_bytes() == copy
    assert (store / sweep_module.STATE / "b.jpg").exists()  # refused, left where it was
    restored = _last_json(runner.invoke(app, ["restore", str(q), *opts]))
    assert restored["restored"] == 4 and not restored["problems"], restored
    for rel in ("flight/a.jpg", "scanned.jpg", "sweep.jpg", "ledger.jpg"):
        assert (store / rel).read_bytes() == copy, rel
    assert (store / "scanned.txt").read_text() == "a cat" and (store / "sweep.json").exists()


def test_a_quarantine_of_the_old_layout_is_taken_over(registered_home: Home, tmp_path: Path) -> None:
    """A quarantine made before ``STATE`` kept the sweep's files at its top: restore and purge still
    find its files, and a sweep goes on with it."""
    store, q = tmp_path / "outputs", tmp_path / "quarantine"
    store.mkdir()
    copy = (IMAGES / "copies" / "ref_003_crop.jpg").read_bytes()
    (store / "gen1.jpg").write_bytes(copy)
    (store / "gen2.jpg").write_bytes(copy)
    opts = ["--home", str(registered_home.root), "--json"]
    assert _last_json(runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), *opts]))["quarantined"] == 2
    for old, new in sweep_module.OLD_LAYOUT.items():
        (q / new).rename(q / old)
    restored = _last_json(runner.invoke(app, ["restore", str(q), "--key", "gen1.jpg", *opts]))
    assert restored["restored"] == 1 and (store / "gen1.jpg").read_bytes() == copy
    assert not (q / "ledger.jsonl").exists() and (q / LEDGER).exists()
    assert _last_json(runner.invoke(app, ["purge", str(q), "--older-than", "0", *opts]))["purged"] == 1


def test_restore_reports_a_file_where_a_folder_was_and_restores_the_rest(registered_home: Home,
                                                                         tmp_path: Path) -> None:
    """A file now standing where a quarantined file's folder was stopped restore with a traceback
    (FileExistsError), and every file after it stayed in quarantine, run after run."""
    store, q = tmp_path / "outputs", tmp_path / "quarantine"
    for folder_name, ref in (("a", "ref_000_flip.jpg"), ("b", "ref_001_flip.jpg")):
        (store / folder_name).mkdir(parents=True)
        (store / folder_name / "x.jpg").write_bytes((IMAGES / "copies" / ref).read_bytes())
    opts = ["--home", str(registered_home.root), "--json"]
    assert _last_json(runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), *opts]))["quarantined"] == 2
    (store / "a").rmdir()
    (store / "a").write_text("now a file")
    result = runner.invoke(app, ["restore", str(q), *opts])
    summary = _last_json(result)
    assert summary["restored"] == 1 and (store / "b" / "x.jpg").exists(), result.output
    assert len(summary["problems"]) == 1 and "no longer a folder" in summary["problems"][0]
    assert (q / "a" / "x.jpg").exists()


def test_a_caption_shared_with_a_file_left_in_place_stays_with_it(registered_home: Home, tmp_path: Path) -> None:
    """"a.jpg" (a copy) and "a.png" (clean) share the caption "a.txt": the sweep moved the caption
    into quarantine with a.jpg, so the clean file lost it (and a purge deleted it for good)."""
    store, q = tmp_path / "outputs", tmp_path / "quarantine"
    store.mkdir()
    (store / "a.jpg").write_bytes((IMAGES / "copies" / "ref_000_flip.jpg").read_bytes())
    (store / "a.png").write_bytes((IMAGES / "distractors" / "dis_005.jpg").read_bytes())
    (store / "a.txt").write_text("shared")
    opts = ["--home", str(registered_home.root), "--json"]
    assert _last_json(runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), *opts]))["quarantined"] == 1
    assert (store / "a.txt").read_text() == "shared" and (store / "a.png").exists() and (q / "a.jpg").exists()
    assert not (q / "a.txt").exists()
    assert _last_json(runner.invoke(app, ["restore", str(q), *opts]))["restored"] == 1
    assert (store / "a.jpg").exists()


def test_a_flagged_file_gone_before_it_is_moved_is_reported(registered_home: Home, tmp_path: Path) -> None:
    """A store cleaned up while a sweep ran (or two sweeps of one store into two quarantines): a
    flagged file deleted between its screening and its move crashed the sweep (FileNotFoundError)
    and left the rest of the store unswept. It is counted as gone, not noted as screened."""
    from clearance.screening import Screener

    store, q = tmp_path / "outputs", tmp_path / "quarantine"
    store.mkdir()
    (store / "a.jpg").write_bytes((IMAGES / "copies" / "ref_000_flip.jpg").read_bytes())
    q.mkdir()
    verdict = Screener(registered_home).screen_media(store / "a.jpg", audit=False)
    assert verdict.action.value == "block"
    (store / "a.jpg").unlink()
    noted = tmp_path / "noted.txt"
    with noted.open("w") as scanned:
        status = sweep_module._decide(store, q, sweep_module.Screened("a.jpg", verdict, True),
                                      {verdict.action}, sweep_module.Ledger(q), scanned)
    assert status == "gone" and noted.read_text() == "" and not (q / LEDGER).exists()
    from clearance.batch.items import unreadable  # deleted before its screening: said so, not "not a regular file"

    assert unreadable(store / "a.jpg").startswith("not found")


def _summary(result: object) -> dict:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_a_file_that_cannot_be_deleted_gets_no_takedown_and_the_others_are_purged(registered_home: Home,
                                                                                  tmp_path: Path) -> None:
    """Black-box QA, 2026-12-08: purge recorded the takedown of a file in a folder it could not
    delete from, then stopped with a traceback before the other files, and a second purge recorded
    it again. Now the file is listed under problems with no record, the rest are purged, and the
    purge that can delete it records it once."""
    _, q, keys = quarantined_store(registered_home, tmp_path)
    (q / "b").mkdir()
    (q / "b" / "keep.txt").write_text("so the folder stays")
    opts = ["--older-than", "0", "--json", "--home", str(registered_home.root)]
    before = len(_takedowns(registered_home))  # the home is shared with other tests
    with unwritable(q / "a"):
        stuck = runner.invoke(app, ["purge", str(q), *opts])
    assert stuck.exit_code == 1, stuck.output
    report = _summary(stuck)
    assert report["purged"] == 0 and len(report["problems"]) == 2
    assert all("could not delete" in problem for problem in report["problems"])
    assert (q / keys[0]).exists() and (q / keys[1]).exists() and len(_takedowns(registered_home)) == before
    done = runner.invoke(app, ["purge", str(q), *opts])
    assert done.exit_code == 0 and _summary(done)["keys"] == keys and not (q / keys[0]).exists()
    records = _takedowns(registered_home)[before:]
    assert sorted(r["key"] for r in records) == keys and all(r["size"] and r["owner"] for r in records)


def test_a_file_that_cannot_be_moved_is_left_in_place_and_the_sweep_goes_on(registered_home: Home,
                                                                            tmp_path: Path) -> None:
    """Black-box QA, 2026-12-08: the first match in a folder the sweep could not move it from ended
    the sweep with a traceback, the file in both places and the rest of the store unswept."""
    store, q = tmp_path / "outputs", tmp_path / "quarantine"
    (store / "locked").mkdir(parents=True)
    for rel, source in (("locked/one.jpg", "ref_003_crop.jpg"), ("locked/two.jpg", "ref_010_crop.jpg"),
                        ("free.jpg", "ref_001_crop.jpg")):
        (store / rel).write_bytes((IMAGES / "copies" / source).read_bytes())
    opts = ["--quarantine", str(q), "--json", "--home", str(registered_home.root)]
    with unwritable(store / "locked"):
        first = _summary(runner.invoke(app, ["sweep", str(store), *opts]))
    assert (first["quarantined"], first[STUCK]) == (1, 2)
    assert (q / "free.jpg").exists() and not (q / "locked").exists()
    assert (store / "locked" / "one.jpg").exists() and (store / "locked" / "two.jpg").exists()
    again = _summary(runner.invoke(app, ["sweep", str(store), "--resume", *opts]))
    assert (again["quarantined"], again[STUCK]) == (2, 0) and not (store / "locked" / "one.jpg").exists()


def test_purge_names_a_file_whose_restore_did_not_finish(registered_home: Home, tmp_path: Path) -> None:
    """A restore that could not put a file back left it "restoring", which purge skipped without a
    word (black-box QA, 2026-12-08): a scheduled purge looked as if it had emptied the quarantine.
    The restore's audit record names the file's size, owner and sidecars, as the takedown's does."""
    store, q, keys = quarantined_store(registered_home, tmp_path)
    opts = ["--json", "--home", str(registered_home.root)]
    with unwritable(store / "a"):
        assert runner.invoke(app, ["restore", str(q), *opts]).exit_code == 1
    purge = runner.invoke(app, ["purge", str(q), "--older-than", "0", *opts])
    assert purge.exit_code == 1 and all("restore did not finish" in p for p in _summary(purge)["problems"])
    assert runner.invoke(app, ["restore", str(q), *opts]).exit_code == 0 and (store / keys[0]).exists()
    events = [json.loads(line) for line in (q / LEDGER).read_text().splitlines()]
    restored = AuditLog(session_factory(registered_home.database_url)).record(
        next(e["restore_audit_id"] for e in events if e["status"] == "restored"))
    assert restored["size"] > 0 and restored["owner"] and restored["files"] == [keys[0], keys[0][:-4] + ".txt"]


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(registered_home: Home,
                                                                           tmp_path: Path) -> None:
    """A quarantine folder the sweep cannot write in was a traceback (black-box QA, 2026-12-08)."""
    store, q = tmp_path / "outputs", tmp_path / "quarantine"
    store.mkdir()
    (store / "one.jpg").write_bytes((IMAGES / "copies" / "ref_003_crop.jpg").read_bytes())
    q.mkdir()
    with unwritable(q):
        refused = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--home", str(registered_home.root)])
    assert refused.exit_code == 2 and "cannot write there" in refused.output, refused.output
    assert (store / "one.jpg").exists()


def test_a_restore_that_stopped_half_way_never_overwrites_what_appeared_since(registered_home: Home,
                                                                             tmp_path: Path) -> None:
    """Black-box QA, 2026-12-08: a restore that could not put files back left them "restoring", and
    the next restore moved them over files the user had put at those paths since."""
    store, q, keys = quarantined_store(registered_home, tmp_path)
    opts = ["--json", "--home", str(registered_home.root)]
    with unwritable(store / "a"):
        assert runner.invoke(app, ["restore", str(q), *opts]).exit_code == 1
    (store / "a" / "one.txt").write_text("the user's own caption")
    result = runner.invoke(app, ["restore", str(q), *opts])
    assert result.exit_code == 1 and "exists again" in _summary(result)["problems"][0], result.output
    assert (store / "a" / "one.txt").read_text() == "the user's own caption" and (q / "a" / "one.txt").exists()
    assert _summary(result)["keys"] == [keys[1]]


def test_a_file_a_purge_could_not_delete_can_be_restored_and_a_killed_purge_records_once(registered_home: Home,
                                                                                         tmp_path: Path) -> None:
    """A file a purge failed to delete was passed over by restore without a word; and a purge killed
    between its takedown record and the ledger's line recorded the file twice when run again
    (black-box QA, 2026-12-08: 3 of 17 kill timings)."""
    store, q, keys = quarantined_store(registered_home, tmp_path)
    opts = ["--json", "--home", str(registered_home.root)]
    with unwritable(q / "a"):
        assert runner.invoke(app, ["purge", str(q), "--older-than", "0", *opts]).exit_code == 1
    restored = runner.invoke(app, ["restore", str(q), "--key", keys[0], *opts])
    assert restored.exit_code == 0 and (store / keys[0]).exists(), restored.output
    before = len(_takedowns(registered_home))
    assert runner.invoke(app, ["purge", str(q), "--older-than", "0", *opts]).exit_code == 0
    lines = (q / LEDGER).read_text().splitlines()
    assert json.loads(lines[-1])["status"] == "purged"
    (q / LEDGER).write_text("\n".join(lines[:-1]) + "\n")  # killed after the record, before the ledger's line
    assert runner.invoke(app, ["purge", str(q), "--older-than", "0", *opts]).exit_code == 0
    assert [r["key"] for r in _takedowns(registered_home)[before:]] == [keys[1]]


def test_a_restore_killed_after_its_record_records_once(registered_home: Home, tmp_path: Path) -> None:
    """A restore killed between its audit record and the ledger's line, run again, recorded the file
    a second time (black-box QA, 2026-12-08: 5 of 20 kill timings)."""
    store, q, keys = quarantined_store(registered_home, tmp_path)
    opts = ["--json", "--home", str(registered_home.root)]
    assert runner.invoke(app, ["restore", str(q), "--key", keys[0], *opts]).exit_code == 0
    lines = (q / LEDGER).read_text().splitlines()
    restored = json.loads(lines[-1])
    assert restored["status"] == "restored"
    (q / LEDGER).write_text("\n".join(lines[:-1]) + "\n")
    assert runner.invoke(app, ["restore", str(q), "--key", keys[0], *opts]).exit_code == 0
    with session_factory(registered_home.database_url)() as session:
        records = [json.loads(payload) for payload in session.scalars(
            select(AuditEntry.payload).where(AuditEntry.kind == "restore"))]
    moved = next(e["audit_id"] for e in map(json.loads, lines) if e["key"] == keys[0] and e["status"] == "moving")
    assert sum(r["verdict_audit_id"] == moved for r in records) == 1  # the home is shared with other tests
    assert (store / keys[0]).exists()


def test_a_ledger_that_cannot_be_written_is_a_setup_error(registered_home: Home, tmp_path: Path) -> None:
    """A traceback until 2026-12-08 (black-box QA)."""
    store, q, _ = quarantined_store(registered_home, tmp_path)
    (store / "a" / "three.jpg").write_bytes((IMAGES / "copies" / "ref_001_crop.jpg").read_bytes())
    with unwritable(q / LEDGER):
        result = runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), "--home", str(registered_home.root)])
    assert result.exit_code == 2 and "ledger.jsonl" in result.output and "run the same command again" in result.output
    assert (store / "a" / "three.jpg").exists()
