"""Dataset formats: each module lists shards, reads items and writes a shard's clean copy.

A format module exposes ``detect(src) -> bool``, ``shards(src) -> list[Shard]``,
``read(src, shard) -> Iterator[Item]`` and ``write(src, shard, dst, drop: set[str])``;
``write`` copies every kept record unchanged (byte-identical where the format allows).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

from clearance.batch.formats import folder, parquet, webdataset
from clearance.media.probe import MEDIA_SUFFIXES

FORMATS: tuple[ModuleType, ...] = (webdataset, parquet, folder)


COMPRESSED_SHARDS = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar.zst")


def check_source(src: Path) -> None:
    """Refuse a source folder whose records one format would leave unread, unreported: shards of
    both kinds, loose media beside shards or beside Parquet files whose rows name no file (with a
    ``path`` column, they are the rows' media), or compressed shards, which no format reads (a
    folder of only ``.tar.gz`` shards was scrubbed as an empty folder, exit 0). One walk of the tree."""
    if not src.is_dir():
        return
    tars = parquets = media = 0
    compressed: list[str] = []
    for _, _, names in os.walk(src):
        for name in names:
            lower = name.lower()
            if lower.endswith(COMPRESSED_SHARDS):
                compressed.append(name)
            tars += lower.endswith(".tar")
            parquets += lower.endswith(".parquet")
            media += Path(lower).suffix in MEDIA_SUFFIXES
    if compressed:
        raise ValueError(f"{src}: compressed shards are not read ({len(compressed)}, e.g. {compressed[0]}): "
                         "decompress them to .tar first")
    loose = media if tars or (parquets and not parquet.names_files(src)) else 0
    kinds = [f"{n} {what}" for n, what in ((tars, ".tar shard(s)"), (parquets, "Parquet file(s)"),
                                             (loose, "media file(s) no record names")) if n]
    if len(kinds) > 1:
        hint = ("; a Parquet file's rows name their media in a `path` column (Hugging Face's `file_name` is not read)"
                if loose and not tars else "")
        raise ValueError(f"{src} holds {' and '.join(kinds)}: one run reads one format; give each its own folder{hint}")


def named(name: str) -> ModuleType:
    """The format module of that ``__name__``: a worker is told the job's format rather than
    detecting it again (detection walks the whole source tree)."""
    return next(module for module in FORMATS if module.__name__ == name)


def format_for(src: Path) -> ModuleType:
    for module in FORMATS:
        if module.detect(src):
            return module
    raise ValueError(f"{src}: not a folder of media, a Parquet file/folder or WebDataset .tar shards")
