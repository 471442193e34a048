"""Parquet files (one file or a folder of them) with ``key``, ``image`` bytes or ``path``, ``caption``.

Each file is a shard; it is read and written one row group at a time, so memory stays flat
however large the file. The clean copy has the same file names and schema with the removed
rows filtered out (values copied unchanged; Parquet re-encodes the bytes).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from clearance.batch.items import Item, Shard


def detect(src: Path) -> bool:
    return src.suffix == ".parquet" or (src.is_dir() and any(src.glob("*.parquet")))


def shards(src: Path) -> list[Shard]:
    files = [src] if src.is_file() else sorted(src.glob("*.parquet"))
    return [Shard(id=path.stem, source=str(path)) for path in files]


def read(src: Path, shard: Shard) -> Iterator[Item]:
    path = Path(shard.source)
    parquet = pq.ParquetFile(path)
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group)
        has_image = "image" in table.column_names
        for row in table.to_pylist():
            key = str(row.get("key"))
            caption = row.get("caption") if isinstance(row.get("caption"), str) else None
            media, error = (row.get("image") if has_image else None), None
            if media is None and isinstance(row.get("path"), str):
                try:
                    media = (path.parent / row["path"]).read_bytes()
                except OSError as exc:
                    error = f"unreadable path {row['path']}: {exc}"
            yield Item(key=key, media=media, media_name=key, caption=caption, error=error)


def write(src: Path, shard: Shard, dst: Path, drop: set[str]) -> None:
    parquet = pq.ParquetFile(shard.source)
    target = dst / Path(shard.source).name
    target.parent.mkdir(parents=True, exist_ok=True)
    removed = pa.array(sorted(drop), pa.string())
    with pq.ParquetWriter(target, parquet.schema_arrow) as writer:
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group)
            keep = pc.invert(pc.is_in(pc.cast(table["key"], pa.string()), value_set=removed))
            writer.write_table(table.filter(keep))
