"""Dataset formats: each module lists shards, reads items and writes a shard's clean copy.

A format module exposes ``detect(src) -> bool``, ``shards(src) -> list[Shard]``,
``read(src, shard) -> Iterator[Item]`` and ``write(src, shard, dst, drop: set[str])``;
``write`` copies every kept record unchanged (byte-identical where the format allows).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from clearance.batch.formats import folder, parquet, webdataset

FORMATS: tuple[ModuleType, ...] = (webdataset, parquet, folder)


def format_for(src: Path) -> ModuleType:
    for module in FORMATS:
        if module.detect(src):
            return module
    raise ValueError(f"{src}: not a folder of media, a Parquet file/folder or WebDataset .tar shards")
