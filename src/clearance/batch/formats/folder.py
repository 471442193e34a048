"""A folder tree of media files, each with an optional same-named ``.txt``/``.json`` sidecar caption.

Shards are chunks of 256 files in sorted path order, so checkpoints stay small and a resumed
run sees the same chunks. The clean copy copies kept files (and their sidecars) to the same
relative paths, with their modes and times, and its folders get their source folders' modes once
every shard is written (``finish``: a private 700 folder became 755, listing its names to all).

A symbolic link is never followed: its content lies outside the dataset (a link to ``/etc/passwd``
named ``c.jpg`` would put that file into the clean copy), so a linked file, a broken link and a
linked folder are each a record with an error (``review``), and a kept one is copied as the link it
is. A pipe or device named like media is a record with an error too, as is a caption that is a
link or no regular file: none is left out unreported.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from clearance.batch.captions import caption_of
from clearance.batch.items import Item, Shard, unreadable
from clearance.media.probe import MEDIA_SUFFIXES

SIDECARS = (".txt", ".json")
_SPELLINGS = tuple(dict.fromkeys(v for s in SIDECARS for v in (s, s.upper(), "." + s[1:].capitalize())))
"""How sidecars' suffixes are written: media suffixes are read in any case, and "photo.JPG" with
"photo.TXT" is one record (cameras and Windows tools write upper case)."""
CHUNK = 256


def detect(src: Path) -> bool:
    return src.is_dir()


def media_files(src: Path) -> list[Path]:
    """Everything under ``src`` named like media that is not a folder (links and pipes too, to be
    reported), in sorted path order (the order of shards and of a sweep). Linked folders are not
    walked into."""
    return sorted(p for p in src.rglob("*")
                  if p.suffix.lower() in MEDIA_SUFFIXES and (p.is_symlink() or not p.is_dir()))


def linked_folders(src: Path) -> list[Path]:
    """Folders under ``src`` that are symbolic links (``media_files`` does not walk into them)."""
    return [Path(top) / name for top, names, _ in os.walk(src) for name in names if (Path(top) / name).is_symlink()]


def shards(src: Path) -> list[Shard]:
    files = sorted(str(p.relative_to(src)) for p in {*media_files(src), *linked_folders(src)})
    return [Shard(id=f"chunk-{i // CHUNK:06d}", source=json.dumps(files[i : i + CHUNK]))
            for i in range(0, len(files), CHUNK)]


def _spelled(media: Path) -> list[tuple[Path, os.stat_result]]:
    """What lies at each spelling of the media file's sidecar names (``_SPELLINGS``), as it is: a
    link is not followed (a linked caption is not read, ``read_caption``)."""
    found = []
    for path in (media.with_suffix(suffix) for suffix in _SPELLINGS):
        try:
            found.append((path, path.lstat()))
        except OSError:
            continue
    return found


def sidecars(media: Path, spelled: list[tuple[Path, os.stat_result]] | None = None) -> list[Path]:
    """The media file's sidecars: same name, a ``SIDECARS`` suffix in any of its usual cases, each
    regular file once (a case-insensitive file system answers every spelling with the same file).
    ``spelled``: what ``_spelled`` found already."""
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    for path, info in _spelled(media) if spelled is None else spelled:
        if stat.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) not in seen:
            seen.add((info.st_dev, info.st_ino))
            found.append(path)
    return found


def same_name_media(media: Path) -> list[Path]:
    """Other media files of the same name in the same folder ("a.png" beside "a.jpg"), which share
    its sidecars: each is asked for by name, not by listing a folder that may hold millions."""
    spellings = {media.with_suffix(s) for suffix in MEDIA_SUFFIXES for s in (suffix, suffix.upper())}
    return sorted(p for p in spellings - {media} if p.is_file() and not _same_file(p, media))


def _same_file(a: Path, b: Path) -> bool:
    """One file under two spellings (a case-insensitive file system), or ``b`` gone."""
    try:
        return a.samefile(b)
    except OSError:
        return False


def read_caption(media: Path) -> tuple[str | None, str | None]:
    """(caption, error) from the sidecars, if any (``batch/captions``); a sidecar that is a link or
    no regular file (a pipe) is an error, not a caption left out."""
    spelled = _spelled(media)
    if odd := next((path for path, info in spelled if not stat.S_ISREG(info.st_mode)), None):
        return None, f"caption {odd.name} is a symbolic link or not a regular file: not read"
    files = []
    for sidecar in sidecars(media, spelled):  # regular files only
        try:
            files.append((sidecar.name, sidecar.read_bytes()))
        except OSError as exc:
            return None, f"unreadable caption {sidecar.name}: {exc.strerror or exc}"
    return caption_of(files)


def file_item(root: Path, path: Path) -> Item:
    """A media file and its sidecar caption as one record, keyed by its path under ``root``. The
    media stays on disk and is screened from there, so a long video is never read whole into
    memory; a file that cannot be opened is a record with an error."""
    key = str(path.relative_to(root))
    if (link := linked_on_the_way(root, path)) is not None:
        return Item(key=key, error=f"a symbolic link ({link.relative_to(root)} -> {os.readlink(link)}), not screened: "
                                   "links are not followed (their content may lie outside the dataset)")
    caption, error = read_caption(path)
    if (problem := unreadable(path)) is not None:
        return Item(key=key, caption=caption, error=f"unreadable file: {problem}")
    return Item(key=key, media=((key, path),), caption=caption, error=error)


def finish(src: Path, dst: Path) -> None:
    """Give each folder of the clean copy its source folder's mode, deepest first, once nothing more
    is written into them (a read-only folder would refuse the shards' files)."""
    if not dst.is_dir():
        return
    for top in sorted((top for top, _, _ in os.walk(dst)), key=lambda folder: -len(Path(folder).parts)):
        source = src / Path(top).relative_to(dst)
        if source.is_dir() and not source.is_symlink():
            shutil.copymode(source, top)


def linked_on_the_way(root: Path, path: Path) -> Path | None:
    """The symbolic link that ``path`` is or lies under, below ``root``, if any."""
    here = root
    for part in path.relative_to(root).parts:
        here = here / part
        if here.is_symlink():
            return here
    return None


def read(src: Path, shard: Shard) -> Iterator[Item]:
    for rel in json.loads(shard.source):
        yield file_item(src, src / rel)


def write(src: Path, shard: Shard, dst: Path, drop: set[str]) -> None:
    for rel in json.loads(shard.source):
        if rel in drop:
            continue
        source = src / rel
        if (link := linked_on_the_way(src, source)) is not None:  # kept as is (``--review keep``): the link
            _copy_link(link, dst / link.relative_to(src))
            continue
        spelled = _spelled(source)
        for path in [source, *sidecars(source, spelled)]:
            if path.is_file():
                target = dst / path.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        for path, info in spelled:
            if stat.S_ISLNK(info.st_mode):  # a linked caption, kept as the link it is
                _copy_link(path, dst / path.relative_to(src))


def _copy_link(link: Path, target: Path) -> None:
    """The link itself at ``target`` (idempotent on redo), never what it points to."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_symlink():
        target.symlink_to(os.readlink(link))
