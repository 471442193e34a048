"""WebDataset ``.tar`` shards: adjacent members grouped by ``__key__`` (the name before the first dot).

Each tar is a shard. The clean copy writes the same tar name with the members of kept
samples in their original order, header and data copied as they were. A sample with media but
no ``txt``/``json`` caption is reported as missing its caption. A member that cannot be read is
left out of the copy (and reported with its sample); a tar that breaks off part way is copied up
to the break, and the break is reported as a ``<shard>#shard`` error.
"""

from __future__ import annotations

import io
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

from clearance.batch.captions import caption_of
from clearance.batch.items import Item, Shard
from clearance.media.probe import MEDIA_SUFFIXES

CAPTION_EXT = ("txt", "json")


def detect(src: Path) -> bool:
    return src.suffix == ".tar" or (src.is_dir() and any(src.glob("*.tar")))


def shards(src: Path) -> list[Shard]:
    files = [src] if src.is_file() else sorted(src.glob("*.tar"))
    return [Shard(id=path.stem, source=str(path)) for path in files]


def _split(name: str) -> tuple[str, str]:
    base = name.rsplit("/", 1)[-1]
    stem, _, ext = base.partition(".")
    prefix = name[: len(name) - len(base)]
    return prefix + stem, ext.lower()


def _keyed(tar: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, str | None]]:
    """Each member with the key of its sample (``None`` for directories and links). A sample is a
    run of adjacent files with one ``__key__``; a key that comes back later in the tar starts
    another sample, keyed ``<key>#<its position in the tar>``, because the copy drops samples by
    key and must not drop a clean sample that shares its key with a copy. Reading and writing
    both key members here, so they agree."""
    seen: set[str] = set()
    key = name = None
    for position, member in enumerate(tar):
        if not member.isfile():
            yield member, None
            continue
        stem = _split(member.name)[0]
        if stem != name:
            name, key = stem, stem
            while key in seen:
                key = f"{key}#{position}"
            seen.add(key)
        yield member, key


def _samples(tar: tarfile.TarFile) -> Iterator[tuple[str, dict[str, bytes], list[str]]]:
    """(key, {ext: bytes}, errors) per sample, in order.

    When the tar breaks off, the sample in progress is still yielded (with the error) before
    the error is raised, so no partly read sample slips into the copy unscreened."""
    key, parts, errors = None, {}, []
    try:
        for member, k in _keyed(tar):
            if k is None:
                continue
            ext = _split(member.name)[1]
            if key is not None and k != key:
                yield key, parts, errors
                parts, errors = {}, []
            key = k
            try:
                handle = tar.extractfile(member)
                parts[ext] = handle.read() if handle else b""
            except (tarfile.TarError, OSError) as exc:
                errors.append(f"unreadable member {member.name}: {exc}")
    except (tarfile.TarError, OSError, EOFError) as exc:
        if key is not None:
            yield key, parts, [*errors, f"the tar breaks off in this sample: {exc}"]
        raise
    if key is not None:
        yield key, parts, errors


def read(src: Path, shard: Shard) -> Iterator[Item]:
    try:
        with tarfile.open(shard.source, "r") as tar:
            for key, parts, errors in _samples(tar):
                caption, caption_error = caption_of([(f"{key}.{ext}", data) for ext, data in parts.items()
                                                     if ext in CAPTION_EXT])
                media = tuple((f"{key}.{ext}", data) for ext, data in parts.items()
                              if f".{ext.rsplit('.', 1)[-1]}" in MEDIA_SUFFIXES)
                if media and not caption_error and not (caption and caption.strip()):
                    caption_error = "missing caption"
                problems = [*errors, *([caption_error] if caption_error else [])]
                yield Item(key=key, media=media, caption=caption, error="; ".join(problems) or None)
            if tar.offset >= Path(shard.source).stat().st_size:  # cut at a member boundary: tarfile stays silent
                raise tarfile.ReadError("the tar ends without its end-of-archive blocks (truncated)")
    except (tarfile.TarError, OSError, EOFError) as exc:
        yield Item(key=f"{shard.id}#shard", error=f"unreadable shard {Path(shard.source).name}: {exc}")


def write(src: Path, shard: Shard, dst: Path, drop: set[str]) -> None:
    target = dst / Path(shard.source).name
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        tar = tarfile.open(shard.source, "r")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError, EOFError):
        if f"{shard.id}#shard" not in drop:  # an unreadable shard that is kept is kept as it is
            shutil.copyfile(shard.source, target)
        return
    with tar, tarfile.open(target, "w", format=tar.format) as out:
        try:
            for member, key in _keyed(tar):
                if key in drop:
                    continue
                _copy_member(tar, out, member)
        except (tarfile.TarError, OSError, EOFError):
            pass  # the tar breaks off here: read() reported it; what came before is kept


def _copy_member(tar: tarfile.TarFile, out: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    """Copy one member unchanged; its data is read in full first, so a bad member never leaves
    a half-written entry in the output."""
    if not member.isfile():
        out.addfile(member)
        return
    try:
        handle = tar.extractfile(member)
        data = handle.read() if handle else b""
    except (tarfile.TarError, OSError):
        return  # an unreadable member was reported with its sample; it cannot be copied
    if len(data) == member.size:
        out.addfile(member, io.BytesIO(data))
