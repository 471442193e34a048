"""Index files: a signal's attributes in one file that loads by mapping it into memory.

The file is a pickle (protocol 5) whose numpy arrays are written out of band, each aligned,
after the pickled part; a trailer says where everything is. Loading reads and checks the small
pickled part and turns each array into a read-only view of the memory-mapped file, so a
250 MB index costs a few milliseconds to open instead of seconds to unpickle, and processes
on one machine share its pages. Arrays are the bulk of an index on purpose
(``clearance.index.columns``).

A file that is truncated, not ours, for another key or damaged in its pickled part raises
``IndexFileError``; the caller rebuilds the index. (The arrays are not checksummed: reading
them all would cost what the format saves. Files are written under a temporary name and
renamed, so a crash leaves no half-written index under the real name.)
"""

from __future__ import annotations

import json
import mmap
import os
import pickle
import zlib
from pathlib import Path
from typing import Any

from clearance.atomic import replacing

MAGIC = b"CLRIDX01"
ALIGN = 64
_TRAILER = 16  # header length (8 bytes) + MAGIC


class IndexFileError(ValueError):
    """The index file cannot be used (the caller rebuilds the index)."""


def save(path: Path, state: dict[str, Any], key: str) -> None:
    """Write ``state`` atomically (temporary file, then rename). ``key`` says what it was built for
    (a signal, its version and the registry state): ``load`` must ask for the same."""
    buffers: list[pickle.PickleBuffer] = []
    body = pickle.dumps(state, protocol=5, buffer_callback=buffers.append)
    spans: list[tuple[int, int]] = []
    with replacing(path) as fh:
        fh.write(MAGIC)
        fh.write(body)
        for buffer in buffers:
            raw = buffer.raw()
            fh.write(b"\0" * (-fh.tell() % ALIGN))
            spans.append((fh.tell(), raw.nbytes))
            fh.write(raw)
        header = json.dumps({"key": key, "pickle": [len(MAGIC), len(body), zlib.crc32(body)], "buffers": spans,
                             "size": fh.tell()}).encode()
        fh.write(header)
        fh.write(len(header).to_bytes(8, "little") + MAGIC)


def load(path: Path, key: str) -> dict[str, Any]:
    """The state saved for ``key``; its arrays are read-only views of the mapped file."""
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size < len(MAGIC) + _TRAILER:
            raise IndexFileError(f"{path}: too short")
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapped)
    if view[: len(MAGIC)] != MAGIC or view[size - len(MAGIC) :] != MAGIC:
        raise IndexFileError(f"{path}: not an index file")
    header_len = int.from_bytes(view[size - _TRAILER : size - len(MAGIC)], "little")
    if header_len > size - len(MAGIC) - _TRAILER:
        raise IndexFileError(f"{path}: damaged trailer")
    try:
        header = json.loads(bytes(view[size - _TRAILER - header_len : size - _TRAILER]))
        start, length, crc = header["pickle"]
        spans = header["buffers"]
        expected = (header["key"], header["size"])
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexFileError(f"{path}: unreadable header ({exc})") from None
    if expected != (key, size - header_len - _TRAILER):
        raise IndexFileError(f"{path}: written for another registry state or truncated")
    body = view[start : start + length]
    if zlib.crc32(body) != crc or any(o + n > expected[1] for o, n in spans):
        raise IndexFileError(f"{path}: damaged")
    return pickle.loads(body, buffers=[view[o : o + n] for o, n in spans])
