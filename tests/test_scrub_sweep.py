"""Dataset scrub and output sweep on data built from the dev images, in every format."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from clearance.audit import AuditLog
from clearance.cli import app
from clearance.db.engine import session_factory
from clearance.home import Home
from tests.conftest import DATA

IMAGES = DATA / "images"
runner = CliRunner()


def dataset_items(n_copies: int = 8, n_clean: int = 16) -> list[tuple[str, bytes, str | None, bool]]:
    """(key, image bytes, caption, is_copy): copies of registered stills mixed with distractors."""
    pairs = list(csv.DictReader((IMAGES / "pairs.csv").open()))[:: 214 // n_copies][:n_copies]
    distractors = [line.strip() for line in (IMAGES / "distractors.txt").open() if line.strip()][:n_clean]
    items = [(f"copy{i:03d}", (IMAGES / p["query_path"]).read_bytes(), "a photo", True) for i, p in enumerate(pairs)]
    items += [(f"clean{i:03d}", (IMAGES / d).read_bytes(), f"an ordinary picture number {i}", False)
              for i, d in enumerate(distractors)]
    items.append(("named000", (IMAGES / distractors[0]).read_bytes(), "Hermione Granger casting a spell", True))
    return sorted(items)


def write_webdataset(folder: Path, items: list, per_shard: int = 5) -> None:
    folder.mkdir(parents=True)
    for s in range(0, len(items), per_shard):
        with tarfile.open(folder / f"shard-{s // per_shard:04d}.tar", "w") as tar:
            for key, image, caption, _ in items[s : s + per_shard]:
                for ext, data in (("jpg", image), ("txt", (caption or "").encode())):
                    info = tarfile.TarInfo(f"{key}.{ext}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))


def scrub(home: Home, src: Path, out: Path, manifest: Path, *extra: str) -> dict:
    result = runner.invoke(app, ["scrub", str(src), "--out", str(out), "--manifest", str(manifest), "--json",
                                 "--home", str(home.root), *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def manifest_rows(path: Path) -> list[dict]:
    return sorted(pq.read_table(path).to_pylist(), key=lambda r: r["key"])


def test_folder_scrub_removes_copies_keeps_the_rest(registered_home: Home, tmp_path: Path) -> None:
    items = dataset_items()
    src = tmp_path / "src" / "nested"
    src.mkdir(parents=True)
    for key, image, caption, _ in items:
        (src / f"{key}.jpg").write_bytes(image)
        (src / f"{key}.txt").write_text(caption)
    summary = scrub(registered_home, tmp_path / "src", tmp_path / "clean", tmp_path / "m.parquet")
    kept = {p.name for p in (tmp_path / "clean" / "nested").iterdir()}
    for key, image, _, is_copy in items:
        assert (f"{key}.jpg" in kept) != is_copy, key
        if not is_copy:
            assert (tmp_path / "clean" / "nested" / f"{key}.jpg").read_bytes() == image
    rows = manifest_rows(tmp_path / "m.parquet")
    assert {r["key"] for r in rows} == {f"nested/{k}.jpg" for k, *_, c in items if c}
    assert all(r["audit_id"] and r["work_id"] and r["signal"] for r in rows)
    assert (tmp_path / "m.csv").read_text().startswith("key,action,work_id,signal,score,evidence,audit_id")
    assert summary["removed"] == sum(c for *_, c in items)


def test_parquet_scrub_and_bad_rows(registered_home: Home, tmp_path: Path) -> None:
    items = dataset_items(4, 6)
    keys = [k for k, *_ in items] + ["broken", "nocaption"]
    images = [i for _, i, *_ in items] + [b"\xff\xd8\xff\x00garbage", items[-1][1]]
    captions = [c for _, _, c, _ in items] + ["a photo", None]
    table = pa.table({"key": keys, "image": images, "caption": captions})
    pq.write_table(table, tmp_path / "data.parquet", row_group_size=4)
    scrub(registered_home, tmp_path / "data.parquet", tmp_path / "clean", tmp_path / "m.parquet", "--review", "keep")
    clean = pq.read_table(tmp_path / "clean" / "data.parquet")
    assert clean.schema == table.schema
    kept = set(clean["key"].to_pylist())
    for key, _, _, is_copy in items:
        assert (key in kept) != is_copy
    assert "broken" in kept and "nocaption" in kept  # review kept by --review keep
    rows = {r["key"]: r for r in manifest_rows(tmp_path / "m.parquet")}
    assert rows["broken"]["action"] == "review" and "media" in rows["broken"]["error"]


def test_webdataset_kill_and_resume_gives_identical_output(registered_home: Home, tmp_path: Path) -> None:
    items = dataset_items(10, 30)
    write_webdataset(tmp_path / "wds", items, per_shard=4)
    scrub(registered_home, tmp_path / "wds", tmp_path / "ref_out", tmp_path / "ref.parquet")
    cmd = [sys.executable, "-m", "clearance.cli.main", "scrub", str(tmp_path / "wds"), "--out", str(tmp_path / "out"),
           "--manifest", str(tmp_path / "m.parquet"), "--home", str(registered_home.root), "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = tmp_path / "m.parquet.checkpoints" / "done"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(done.glob("*.json")) if done.exists() else []) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished_before_kill = len(list(done.glob("*.json")))
    assert 3 <= finished_before_kill < 11, "the kill must land mid-run"
    summary = scrub(registered_home, tmp_path / "wds", tmp_path / "out", tmp_path / "m.parquet", "--resume")
    assert summary["shards already done (resumed)"] == finished_before_kill
    for ref_tar in sorted((tmp_path / "ref_out").glob("*.tar")):
        assert ref_tar.read_bytes() == (tmp_path / "out" / ref_tar.name).read_bytes()
    strip = [{k: v for k, v in r.items() if k != "audit_id"} for r in manifest_rows(tmp_path / "ref.parquet")]
    assert strip == [{k: v for k, v in r.items() if k != "audit_id"} for r in manifest_rows(tmp_path / "m.parquet")]
    kept = set()
    for tar_path in (tmp_path / "out").glob("*.tar"):
        with tarfile.open(tar_path) as tar:
            kept |= {m.name.split(".")[0] for m in tar}
    removed = {r["key"] for r in manifest_rows(tmp_path / "m.parquet")}
    assert kept == {k for k, *_ in items} - removed
    assert not removed & {k for k, *_, c in items if not c}, "no clean item lost"
    assert len(removed) >= 0.9 * sum(c for *_, c in items)


def test_workers_and_ray_agree(registered_home: Home, tmp_path: Path) -> None:
    items = dataset_items(4, 8)
    write_webdataset(tmp_path / "wds", items, per_shard=3)
    outputs = {}
    for name, extra in (("one", ()), ("two", ("--workers", "2")), ("ray", ("--engine", "ray", "--workers", "2"))):
        scrub(registered_home, tmp_path / "wds", tmp_path / name, tmp_path / f"{name}.parquet", *extra)
        outputs[name] = ({p.name: p.read_bytes() for p in (tmp_path / name).glob("*.tar")},
                         [(r["key"], r["action"], r["work_id"]) for r in manifest_rows(tmp_path / f"{name}.parquet")])
    assert outputs["one"] == outputs["two"] == outputs["ray"]


def test_unreadable_shard_and_separate_review(registered_home: Home, tmp_path: Path) -> None:
    items = dataset_items(2, 3)
    write_webdataset(tmp_path / "wds", items, per_shard=10)
    (tmp_path / "wds" / "shard-9999.tar").write_bytes(b"this is not a tar file at all" * 20)
    scrub(registered_home, tmp_path / "wds", tmp_path / "clean", tmp_path / "m.parquet", "--review", "separate")
    rows = {r["key"]: r for r in manifest_rows(tmp_path / "m.parquet")}
    assert rows["shard-9999#shard"]["action"] == "review" and "unreadable shard" in rows["shard-9999#shard"]["error"]
    assert (tmp_path / "clean" / "shard-0000.tar").exists()
    assert (tmp_path / "clean.review" / "shard-9999.tar").exists()


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
    runner.invoke(app, ["sweep", str(store), "--quarantine", str(q), *opts])
    purged = runner.invoke(app, ["purge", str(q), "--older-than", "0", "--json", *opts])
    assert json.loads(purged.output.strip().splitlines()[-1])["purged"] == 1
    assert not (q / "2026" / "11" / "gen1.jpg").exists()
    log = AuditLog(session_factory(registered_home.database_url))
    assert log.verify().ok
    events = [json.loads(line) for line in (q / "ledger.jsonl").read_text().splitlines()]
    restored = log.record(next(e["restore_audit_id"] for e in events if e["status"] == "restored"))
    assert restored["action"] == "restored" and restored["key"] == "2026/11/gen1.jpg"
    takedown = log.record(events[-1]["takedown_audit_id"])
    assert takedown["action"] == "purged" and takedown["work_id"] == "kpop-demon-hunters"
