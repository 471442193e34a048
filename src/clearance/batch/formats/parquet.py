"""Parquet files (one file or a folder of them, subfolders too) with ``key``, ``image`` bytes or ``path``, ``caption``.

A file is cut into shards at row-group boundaries (about ``CHUNK_ROWS`` rows each), so one big
file is still spread over the workers and checkpointed in pieces, and every shard is read in
small record batches, so memory stays flat however large the file or its row groups. A shard's
kept rows go to a part file; ``finish`` joins the parts of each file, in order, into a file of
the same name and schema (values copied unchanged; Parquet re-encodes the bytes). Media named
by a relative ``path`` inside the source folder are copied to the same relative path beside the
clean file, so the clean copy stands on its own; an absolute ``path`` stays as it is (the clean
row names the same file), and a relative one that leaves the source folder ("../x.jpg") is
screened and its row is at least a ``review`` with an error, since the clean copy's row would name
a file that is not there (unscreened, a copy of a registered still stayed in a ``--review keep``
copy).

``image`` may also be a struct with ``bytes``/``path`` fields (how Hugging Face ``datasets``
stores images). A row without a key (no ``key`` column, or a null) is keyed
``<file stem>#<row number>``, and a key already seen in the shard gets ``#<row number>``
appended: the clean copy drops rows by key, so a copy must not take a clean row that shares
its key out with it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from clearance.batch.items import Item, Shard, unreadable

CHUNK_ROWS = 256
BATCH_ROWS = 64
PARTS = ".parts"


def detect(src: Path) -> bool:
    return src.suffix.lower() == ".parquet" or (src.is_dir() and any(_files(src)))


def names_files(src: Path) -> bool:
    """Whether some Parquet file of ``src`` can name media files (a ``path`` column, or an ``image``
    struct, which may hold one), read from the files' footers alone."""
    for path in _files(src):
        try:
            schema = pq.read_schema(path)
        except (pa.ArrowException, OSError):
            continue  # an unreadable file is reported by the scrub itself
        if "path" in schema.names or ("image" in schema.names and pa.types.is_struct(schema.field("image").type)):
            return True
    return False


def _files(src: Path) -> list[Path]:
    """The Parquet files of the source, those in subfolders too (``data/train-00000.parquet``), named
    in any case (``b.PARQUET`` was skipped without a word)."""
    if src.is_file():
        return [src]
    return sorted(p for p in src.rglob("*") if p.suffix.lower() == ".parquet" and p.is_file())


def _root(src: Path) -> Path:
    """The folder relative ``path`` values resolve against."""
    return src.parent if src.is_file() else src


def _shard(path: Path, name: str, groups: list[int] | None, first_row: int) -> Shard:
    first = groups[0] if groups else 0
    source = json.dumps({"file": str(path), "groups": groups, "first_row": first_row})
    return Shard(id=f"{name}-rg{first:06d}", source=source)


def _file_shards(path: Path, name: str) -> list[Shard]:
    """Shards of one file; ``name`` is its path under the source without ``.parquet``, with ``~`` for
    ``/`` (a shard id names a checkpoint file)."""
    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError):
        return [_shard(path, name, None, 0)]  # read() reports it; write() keeps or drops it whole
    out, groups, rows, first_row = [], [], 0, 0
    for group in range(meta.num_row_groups):
        groups.append(group)
        rows += meta.row_group(group).num_rows
        if rows - first_row >= CHUNK_ROWS:
            out.append(_shard(path, name, groups, first_row))
            groups, first_row = [], rows
    if groups or not out:
        out.append(_shard(path, name, groups, first_row))
    return out


def shards(src: Path) -> list[Shard]:
    root = _root(src)
    return [shard for path in _files(src)
            for shard in _file_shards(path, path.relative_to(root).with_suffix("").as_posix().replace("/", "~"))]


def _spec(shard: Shard) -> tuple[Path, list[int] | None, int]:
    spec = json.loads(shard.source)
    return Path(spec["file"]), spec["groups"], spec["first_row"]


def _batches(path: Path, groups: list[int], first_row: int) -> Iterator[tuple[pa.RecordBatch, list[str]]]:
    """Record batches of the shard's row groups with each row's key."""
    parquet = pq.ParquetFile(path)
    row, seen = first_row, set()
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=groups):
        given = batch.column("key").to_pylist() if "key" in batch.schema.names else [None] * batch.num_rows
        keys = []
        for number, key in enumerate(given, start=row):
            key = f"{path.stem}#{number}" if key is None else str(key)
            while key in seen:
                key = f"{key}#{number}"
            seen.add(key)
            keys.append(key)
        row += batch.num_rows
        yield batch, keys


def _media(root: Path, record: dict[str, Any]) -> tuple[bytes | Path | None, str | None]:
    """(media, error) from ``image`` bytes, an image struct, or ``path`` (a file is screened where it
    lies, not read whole)."""
    image = record.get("image")
    path = record.get("path")
    if isinstance(image, dict):
        image, path = image.get("bytes"), path or image.get("path")
    if isinstance(image, bytes):
        return image, None
    if image is not None:  # a URL or base64 text, a number: never silently screened as caption-only
        return None, f"image is {type(image).__name__}, not bytes (files go in a path column)"
    if path is None:
        return None, None
    if not isinstance(path, str) or not path.strip():
        return None, f"path is {path!r}, not a file name"
    if (problem := unreadable(root / path)) is not None:
        return None, f"unreadable path {path}: {problem}"
    if not Path(path).is_absolute() and not (root / path).resolve().is_relative_to(root.resolve()):
        return root / path, f"path {path} leaves the source folder, so the clean copy could not carry its file"
    return root / path, None


def _caption(record: dict[str, Any], has_column: bool) -> tuple[str | None, str | None]:
    caption = record.get("caption")
    if isinstance(caption, str) and caption.strip():
        return caption, None
    if not has_column:
        return None, None  # an image-only dataset, not a missing caption
    if caption is None or isinstance(caption, str):
        return None, "missing caption"
    return None, "caption is not text"


def read(src: Path, shard: Shard) -> Iterator[Item]:
    path, groups, first_row = _spec(shard)
    root = _root(src)
    try:
        if groups is None:
            pq.ParquetFile(path)  # raises the reason the file could not be listed
        for batch, keys in _batches(path, groups or [], first_row):
            has_caption = "caption" in batch.schema.names
            for key, record in zip(keys, batch.to_pylist(), strict=True):
                media, media_error = _media(root, record)
                caption, caption_error = _caption(record, has_caption)
                problems = [p for p in (media_error, caption_error) if p]
                yield Item(key=key, media=((key, media),) if media is not None else (), caption=caption,
                           error="; ".join(problems) or None)
    except (pa.ArrowException, OSError) as exc:
        yield Item(key=f"{shard.id}#shard", error=f"unreadable Parquet {path.name}: {exc}")


def _copy_media(root: Path, dst: Path, record: dict[str, Any]) -> None:
    """Copy a kept row's media file when its ``path`` is relative and inside the source folder."""
    image = record.get("image")
    path = record.get("path") or (image.get("path") if isinstance(image, dict) else None)
    if not isinstance(path, str) or not path or Path(path).is_absolute() or isinstance(image, bytes):
        return
    source = (root / path).resolve()
    if source.is_file() and source.is_relative_to(root.resolve()):
        target = dst / source.relative_to(root.resolve())
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def write(src: Path, shard: Shard, dst: Path, drop: set[str]) -> None:
    path, groups, first_row = _spec(shard)
    root = _root(src)
    clean = dst / path.relative_to(root)
    if groups is None:  # an unreadable file that is kept is kept as it is
        if f"{shard.id}#shard" not in drop:
            clean.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, clean)
        return
    part = clean.with_name(clean.name + PARTS) / f"{groups[0] if groups else 0:06d}.parquet"
    part.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(part, pq.ParquetFile(path).schema_arrow) as writer:
        for batch, keys in _batches(path, groups, first_row):
            keep = [key not in drop for key in keys]
            kept = batch.filter(pa.array(keep, pa.bool_()))
            if kept.num_rows:
                writer.write_batch(kept)
                for record in kept.select([c for c in ("image", "path") if c in kept.schema.names]).to_pylist():
                    _copy_media(root, dst, record)


def finish(_src: Path, dst: Path) -> None:
    """Join each file's parts into ``dst/<file>.parquet`` (idempotent: safe to redo after a kill)."""
    if not dst.is_dir():
        return
    for trash in dst.rglob(f"*{PARTS}.done"):
        shutil.rmtree(trash)
    for parts in sorted(dst.rglob(f"*{PARTS}")):
        target = parts.with_name(parts.name.removesuffix(PARTS))
        tmp = target.with_name(f".{target.name}.tmp")
        files = sorted(parts.glob("*.parquet"))
        with pq.ParquetWriter(tmp, pq.ParquetFile(files[0]).schema_arrow) as writer:
            for part in files:
                table = pq.read_table(part)
                if table.num_rows:
                    writer.write_table(table)
        os.replace(tmp, target)
        done = parts.with_name(parts.name + ".done")
        os.replace(parts, done)  # atomic: a kill after this never re-joins a half-deleted folder
        shutil.rmtree(done)
