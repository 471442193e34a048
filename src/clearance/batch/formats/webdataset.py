"""WebDataset ``.tar`` shards: adjacent members grouped by ``__key__`` (the name before the first dot).

Each tar is a shard; a gzip, bzip2 or xz compressed one (``tar czf`` names it ``.tar`` too) is
read through and copied compressed the same way. The clean copy writes the same tar name with the
members of kept samples in their original order, each member's header blocks and data copied as
raw bytes; a shard from which nothing is dropped is copied whole. Links and special members
belong to the sample of their name; one named as media or caption is not screened, so its sample
is an error. A sample with media but no ``txt``/``json`` caption is reported as missing its
caption. A member that cannot be read is left out of the copy (and reported with its sample); a
tar that breaks off part way is copied up to the break, and the break is reported as a
``<shard>#shard`` error.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import posixpath
import shutil
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from clearance.batch.captions import caption_of
from clearance.batch.items import Item, Shard
from clearance.media.probe import MEDIA_SUFFIXES

CAPTION_EXT = ("txt", "json")


def detect(src: Path) -> bool:
    return src.suffix.lower() == ".tar" or (src.is_dir() and any(_shard_files(src)))


def _shard_files(folder: Path) -> Iterator[Path]:
    """The ``.tar`` files under ``folder``, in any case (``s0.TAR`` was skipped without a word)."""
    return (p for p in folder.rglob("*") if p.suffix.lower() == ".tar" and p.is_file())


def shards(src: Path) -> list[Shard]:
    """One shard per ``.tar`` file, those in subfolders too (``train/shard-000.tar``), each named by its
    path under ``src`` (subfolders joined by ``~``, as Parquet's are)."""
    if src.is_file():
        return [Shard(id=src.stem, source=str(src))]
    return [Shard(id=path.relative_to(src).with_suffix("").as_posix().replace("/", "~"), source=str(path))
            for path in sorted(_shard_files(src))]


def _split(name: str) -> tuple[str, str]:
    base = name.rsplit("/", 1)[-1]
    stem, _, ext = base.partition(".")
    prefix = name[: len(name) - len(base)]
    return prefix + stem, ext.lower()


def _keyed(tar: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, str | None]]:
    """Each member with the key of its sample (``None`` for directories, which hold no data). A
    sample is a run of adjacent members with one ``__key__``, links and special members included,
    so they are dropped and kept with it; a key that comes back later in the tar starts
    another sample, keyed ``<key>#<its position in the tar>``, because the copy drops samples by
    key and must not drop a clean sample that shares its key with a copy. Reading and writing
    both key members here, so they agree."""
    seen: set[str] = set()
    key = name = None
    for position, member in enumerate(tar):
        if member.isdir():
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
            if not member.isfile():
                errors += [f"member {member.name} is a {_kind(member)}, not screened"] if _screened(ext) else []
                continue
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


def _screened(ext: str) -> bool:
    """Whether a member with this extension would be screened, as media or as a caption."""
    last = ext.rsplit(".", 1)[-1]
    return last in CAPTION_EXT or f".{last}" in MEDIA_SUFFIXES


def _kind(member: tarfile.TarInfo) -> str:
    """What a member that is not a regular file is, for the error saying it was not screened."""
    kinds = ((member.issym, "symbolic link"), (member.islnk, "hard link"), (member.isfifo, "FIFO"),
             (member.ischr, "character device"), (member.isblk, "block device"))
    return next((name for test, name in kinds if test()), f"special member (type {member.type!r})")


def _ends_early(tar: tarfile.TarFile) -> bool:
    """Whether the tar ran out where a header should be, instead of ending with an end-of-archive
    block (a cut at a member boundary, which tarfile stays silent about). Its last look for a
    header left the stream just past what it read there; positions are in the tar stream, so this
    holds for a compressed shard too, whose file size says nothing about them."""
    return tar.fileobj.tell() - tar.offset < tarfile.BLOCKSIZE


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
            if _ends_early(tar):
                raise tarfile.ReadError("the tar ends without its end-of-archive blocks (truncated)")
    except (tarfile.TarError, OSError, EOFError) as exc:
        yield Item(key=f"{shard.id}#shard", error=f"unreadable shard {Path(shard.source).name}: {exc}")


def write(src: Path, shard: Shard, dst: Path, drop: set[str]) -> None:
    source = Path(shard.source)
    target = dst / (source.relative_to(src) if src.is_dir() else source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        tar = tarfile.open(shard.source, "r")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError, EOFError):
        if f"{shard.id}#shard" not in drop:  # an unreadable shard that is kept is kept as it is
            shutil.copyfile(shard.source, target)
        return
    with tar, _tar_stream(tar, shard.source) as stream:
        compressed = stream is not tar.fileobj
        whole = _write_copy(tar, stream, target, drop)
    if whole and compressed:  # nothing left out: the source file itself, compressed bytes and all
        shutil.copyfile(shard.source, target)


_COMPRESSORS: dict[type, Callable[[BinaryIO], BinaryIO]] = {
    gzip.GzipFile: lambda raw: gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0),
    bz2.BZ2File: lambda raw: bz2.BZ2File(raw, "wb"),
    lzma.LZMAFile: lambda raw: lzma.LZMAFile(raw, "wb"),  # noqa: SIM115 - closed by _copy_file
}
"""How to write a copy like each decompressing reader ``tarfile.open(..., "r")`` may pick. The gzip
header gets no name and no time, so every run (and every engine) writes the same bytes."""

TAIL_LIMIT = 1 << 20
"""The most zeros after the last member taken over from a source (end-of-archive blocks and padding
to a whole record: 10 KiB with GNU tar's and tarfile's defaults)."""


@contextmanager
def _tar_stream(tar: tarfile.TarFile, source: str) -> Iterator[BinaryIO]:
    """The tar stream the raw bytes are copied from. An uncompressed shard's is tarfile's own file,
    where a seek costs nothing. A compressed shard gets a second reader that only goes forward:
    tarfile has read past a member's header when it hands the member over, and seeking back to it
    in the decompressed stream would often decompress the shard again from its start."""
    kind = type(tar.fileobj)
    if kind not in _COMPRESSORS:
        yield tar.fileobj
        return
    with kind(source, "rb") as stream:  # GzipFile, BZ2File and LZMAFile all open a path so
        yield stream


@contextmanager
def _copy_file(tar: tarfile.TarFile, target: Path) -> Iterator[BinaryIO]:
    """The copy's tar stream, compressed as the source is, so the copy is in the same format."""
    compressor = _COMPRESSORS.get(type(tar.fileobj))
    with target.open("wb") as raw:
        if compressor is None:
            yield raw
            return
        with compressor(raw) as out:
            yield out


def _write_copy(tar: tarfile.TarFile, stream: BinaryIO, target: Path, drop: set[str]) -> bool:
    """Write the kept members and the end of the archive; True when the copy is the source's tar
    stream byte for byte (nothing dropped, left out or cut, and a clean end)."""
    with _copy_file(tar, target) as out:
        whole = _copy_members(tar, stream, out, drop)
        tail = _source_end(stream, tar.offset) if whole else None
        out.write(tail if tail is not None else _end_blocks(out.tell()))
    return tail is not None


def _copy_members(tar: tarfile.TarFile, stream: BinaryIO, out: BinaryIO, drop: set[str]) -> bool:
    """Copy each kept member as the raw bytes it has in the source: its header blocks (GNU long
    names and pax headers too), from ``offset`` to where the next member starts, so nothing is
    re-encoded. Bytes between members (pax global headers) go out just before the next member
    written, and not at all when none follows: a global header with no member after it is a tar
    Python's ``tarfile`` cannot read. A hard link is written only when the member it names was:
    ``tar xf`` fails on a link to a missing file. True when every member was copied and the tar
    did not break off."""
    written: dict[str, bool] = {}
    end, whole, pending = 0, True, b""
    try:
        for member, key in _keyed(tar):
            if member.offset > end:
                gap = _read_raw(stream, end, member.offset)
                whole &= gap is not None
                pending += gap or b""
            end = tar.offset  # tarfile has read past the member's header: the next one starts here
            keep = key not in drop and (not member.islnk() or written.get(posixpath.normpath(member.linkname), False))
            data = _read_raw(stream, member.offset, end) if keep else None
            if data is not None:
                out.write(pending + data)
                pending = b""
            written[posixpath.normpath(member.name)] = data is not None  # a later member of that name decides
            whole &= data is not None
    except (tarfile.TarError, OSError, EOFError):
        return False  # the tar breaks off here: read() reported it; what came before is kept
    return whole and not pending


def _read_raw(source: BinaryIO, start: int, stop: int) -> bytes | None:
    """``source[start:stop]``, or None when it cannot be read in full (reported with its sample), so
    a member is never half written."""
    try:
        if source.tell() != start:
            source.seek(start)
        data = source.read(stop - start)
    except (OSError, EOFError):
        return None
    return data if len(data) == stop - start else None


def _source_end(stream: BinaryIO, offset: int) -> bytes | None:
    """What follows the last member in the source, when it is only end-of-archive blocks and zero
    padding; then a copy that keeps every member is the source file. Anything else (a header
    tarfile could not read) is not copied."""
    try:
        stream.seek(offset)
        tail = stream.read(TAIL_LIMIT + 1)
    except (OSError, EOFError):
        return None
    ok = 2 * tarfile.BLOCKSIZE <= len(tail) <= TAIL_LIMIT and not tail.strip(b"\0")
    return tail if ok else None


def _end_blocks(size: int) -> bytes:
    """Two zero blocks, then zeros to a whole record, as ``tarfile`` and GNU tar end an archive."""
    end = 2 * tarfile.BLOCKSIZE
    return bytes(end + -(size + end) % tarfile.RECORDSIZE)
