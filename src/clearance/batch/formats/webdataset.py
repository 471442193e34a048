"""WebDataset ``.tar`` shards: members grouped by ``__key__`` (the name before the first dot).

Each tar is a shard. The clean copy writes the same tar name with the members of kept
samples in their original order, header and data copied as they were.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

from clearance.batch.items import Item, Shard

MEDIA_EXT = ("jpg", "jpeg", "png", "webp", "mp4", "webm", "mp3", "wav", "flac", "ogg")
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


def _samples(tar: tarfile.TarFile) -> Iterator[tuple[str, dict[str, bytes], list[str]]]:
    """(key, {ext: bytes}, errors) per sample, in order; members of one sample are adjacent."""
    key, parts, errors = None, {}, []
    for member in tar:
        if not member.isfile():
            continue
        k, ext = _split(member.name)
        if key is not None and k != key:
            yield key, parts, errors
            parts, errors = {}, []
        key = k
        try:
            handle = tar.extractfile(member)
            parts[ext] = handle.read() if handle else b""
        except (tarfile.TarError, OSError) as exc:
            errors.append(f"unreadable member {member.name}: {exc}")
    if key is not None:
        yield key, parts, errors


def _caption(parts: dict[str, bytes]) -> tuple[str | None, str | None]:
    if "txt" in parts:
        try:
            return parts["txt"].decode("utf-8"), None
        except UnicodeDecodeError as exc:
            return None, f"caption is not UTF-8: {exc}"
    if "json" in parts:
        try:
            data = json.loads(parts["json"])
            return next((data[k] for k in ("caption", "prompt", "text") if isinstance(data.get(k), str)), None), None
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
            return None, f"unreadable json: {exc}"
    return None, None


def read(src: Path, shard: Shard) -> Iterator[Item]:
    try:
        with tarfile.open(shard.source, "r") as tar:
            for key, parts, errors in _samples(tar):
                caption, caption_error = _caption(parts)
                media_ext = next((e for e in MEDIA_EXT if e in parts), None)
                problems = [*errors, *([caption_error] if caption_error else [])]
                yield Item(key=key, media=parts.get(media_ext) if media_ext else None,
                           media_name=f"{key}.{media_ext}" if media_ext else None, caption=caption,
                           error="; ".join(problems) or None)
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
        for member in tar:
            if member.isfile() and _split(member.name)[0] in drop:
                continue
            try:
                out.addfile(member, tar.extractfile(member) if member.isfile() else None)
            except (tarfile.TarError, OSError):
                continue  # an unreadable member was reported with its sample; it cannot be copied
