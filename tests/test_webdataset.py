"""WebDataset tar shards beyond plain POSIX files: links and special members, compressed shards, and
GNU/PAX headers, which the clean copy must carry byte for byte."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import subprocess
import tarfile
from pathlib import Path

import pytest

from clearance.home import Home
from tests.test_scrub import IMAGES, manifest_rows, scrub

COPY = (IMAGES / "copies" / "ref_003_crop.jpg").read_bytes()
CLEAN = (IMAGES / "distractors" / "dis_004.jpg").read_bytes()
COMPRESSIONS = {"gz": (gzip.compress, gzip.decompress, b"\x1f\x8b"), "bz2": (bz2.compress, bz2.decompress, b"BZh"),
                "xz": (lzma.compress, lzma.decompress, b"\xfd7zXZ\x00")}


def add(tar: tarfile.TarFile, name: str, data: bytes = b"", **fields: object) -> None:
    """Add a member: a regular file with ``data``, or whatever ``fields`` (type, linkname) make it."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for field, value in fields.items():
        setattr(info, field, value)
    tar.addfile(info, io.BytesIO(data) if data else None)


def spans(data: bytes) -> dict[str, bytes]:
    """Each member's raw bytes in a tar: its header blocks (long-name and pax headers included) and
    its data, padded to whole blocks."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: data[m.offset: m.offset_data + -(-m.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE]
                for m in tar}


@pytest.mark.parametrize("review", ["keep", "separate"])
def test_links_go_with_their_samples_and_a_linked_media_member_is_reviewed(registered_home: Home,
                                                                           tmp_path: Path, review: str) -> None:
    """Links were never screened and always copied: a hard link to a removed sample's picture broke
    ``tar xf`` of the clean copy, and a symlink named ``.jpg`` passed as a clean sample. Now links
    go with the sample of their name, a hard link is written only beside its target, and a link
    named as media or caption makes its sample a review row."""
    (tmp_path / "src").mkdir()
    with tarfile.open(tmp_path / "src" / "l-000.tar", "w") as tar:
        add(tar, "ok.jpg", CLEAN)
        add(tar, "ok.txt", b"a calm lake")
        add(tar, "c.jpg", COPY)
        add(tar, "c.txt", b"a photo")
        add(tar, "c.same", type=tarfile.LNKTYPE, linkname="c.jpg")
        add(tar, "c.view", type=tarfile.SYMTYPE, linkname="c.jpg")
        add(tar, "h.jpg", type=tarfile.LNKTYPE, linkname="c.jpg")
        add(tar, "h.txt", b"a photo")
        add(tar, "s.jpg", type=tarfile.SYMTYPE, linkname="ok.jpg")
        add(tar, "s.txt", b"a photo")
    scrub(registered_home, tmp_path / "src", tmp_path / "clean", tmp_path / "m.parquet", "--review", review)
    rows = {r["key"]: (r["action"], r["error"]) for r in manifest_rows(tmp_path / "m.parquet")}
    assert rows == {"c": ("block", None), "h": ("review", "member h.jpg is a hard link, not screened"),
                    "s": ("review", "member s.jpg is a symbolic link, not screened")}
    expected = {"clean": ["ok.jpg", "ok.txt"], "clean.review": ["h.txt", "s.jpg", "s.txt"]}
    if review == "keep":
        expected = {"clean": ["ok.jpg", "ok.txt", "h.txt", "s.jpg", "s.txt"]}
    for folder, names in expected.items():
        with tarfile.open(tmp_path / folder / "l-000.tar") as tar:
            assert tar.getnames() == names, folder  # c.* went with c; h.jpg without the c.jpg it links to
        extract = tmp_path / f"x-{folder}"
        extract.mkdir()
        run = subprocess.run(["tar", "xf", str(tmp_path / folder / "l-000.tar"), "-C", str(extract)],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("compression", sorted(COMPRESSIONS))
def test_compressed_shards_are_read_and_copied_compressed(registered_home: Home, tmp_path: Path,
                                                          compression: str) -> None:
    """``tar czf`` names its output ``.tar`` too. Such a shard was reported truncated (the check
    compared a position in the decompressed tar with the compressed file's size) and its copy
    came out uncompressed. Now the copy is compressed the same way and holds the kept samples;
    one with nothing removed is the source file itself; one cut at a member boundary is still
    reported."""
    compress, decompress, magic = COMPRESSIONS[compression]
    (tmp_path / "src").mkdir()
    members = {"mixed": [("a.jpg", CLEAN), ("a.txt", b"a calm lake"), ("c.jpg", COPY), ("c.txt", b"a photo"),
                         ("b.jpg", CLEAN), ("b.txt", b"a quiet street")],
               "plain": [("d.jpg", CLEAN), ("d.txt", b"a calm lake")],
               "cut": [("e.jpg", CLEAN), ("e.txt", b"a calm lake"), ("f.jpg", CLEAN), ("f.txt", b"a calm lake")]}
    for name, files in members.items():
        with tarfile.open(tmp_path / "src" / f"{name}.tar", f"w:{compression}") as tar:
            for member, data in files:
                add(tar, member, data)
    cut = decompress((tmp_path / "src" / "cut.tar").read_bytes())
    with tarfile.open(fileobj=io.BytesIO(cut)) as tar:
        boundary = tar.getmember("f.jpg").offset
    (tmp_path / "src" / "cut.tar").write_bytes(compress(cut[:boundary]))  # no end-of-archive blocks
    scrub(registered_home, tmp_path / "src", tmp_path / "clean", tmp_path / "m.parquet")
    rows = {r["key"]: r for r in manifest_rows(tmp_path / "m.parquet")}
    assert sorted(rows) == ["c", "cut#shard"] and rows["c"]["error"] is None
    assert "truncated" in rows["cut#shard"]["error"]
    copied = (tmp_path / "clean" / "mixed.tar").read_bytes()
    assert copied.startswith(magic)
    with tarfile.open(fileobj=io.BytesIO(decompress(copied))) as tar:
        assert [(m.name, tar.extractfile(m).read()) for m in tar] == [
            (n, d) for n, d in members["mixed"] if not n.startswith("c.")]
    assert (tmp_path / "clean" / "plain.tar").read_bytes() == (tmp_path / "src" / "plain.tar").read_bytes()


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT], ids=["gnu", "pax"])
def test_kept_members_are_copied_byte_for_byte(registered_home: Home, tmp_path: Path, fmt: int) -> None:
    """The copy rebuilt every header with ``tarfile``: a GNU tar came out POSIX, a pax global header
    was lost, checksums changed. Now a kept member's header blocks (long-name and pax headers too)
    and data are the source's bytes, and a shard with nothing removed is the source file."""
    (tmp_path / "src").mkdir()
    long = "a-sample-whose-key-is-longer-than-the-hundred-characters-a-ustar-name-field-holds-" * 2
    samples = {"mixed": [(long, CLEAN, "a calm lake"), ("c", COPY, "a photo"), ("café", CLEAN, "a quiet street")],
               "plain": [("d", CLEAN, "a calm lake"), (long, CLEAN, "a quiet street")]}
    for name, items in samples.items():
        with tarfile.open(tmp_path / "src" / f"{name}.tar", "w", format=fmt,
                          pax_headers={"comment": "made by a test"} if fmt == tarfile.PAX_FORMAT else None) as tar:
            for key, image, caption in items:
                add(tar, f"{key}.jpg", image, uname="someone", mtime=1_700_000_000)
                add(tar, f"{key}.txt", caption.encode(), uname="someone", mtime=1_700_000_000)
    scrub(registered_home, tmp_path / "src", tmp_path / "clean", tmp_path / "m.parquet")
    assert [r["key"] for r in manifest_rows(tmp_path / "m.parquet")] == ["c"]
    source = spans((tmp_path / "src" / "mixed.tar").read_bytes())
    copied = spans((tmp_path / "clean" / "mixed.tar").read_bytes())
    assert copied == {name: raw for name, raw in source.items() if not name.startswith("c.")}
    assert len(copied[f"{long}.jpg"]) > tarfile.BLOCKSIZE + len(CLEAN)  # its long-name header came along
    assert (tmp_path / "clean" / "plain.tar").read_bytes() == (tmp_path / "src" / "plain.tar").read_bytes()


def test_a_copy_left_with_no_member_is_a_tar_python_reads(registered_home: Home, tmp_path: Path) -> None:
    """A pax global header goes out just before the next member written: copied where it stood, a
    shard whose every sample was removed was a global header and end blocks, which ``tarfile`` (and
    with it WebDataset loaders, and a second scrub) cannot read."""
    (tmp_path / "src").mkdir()
    with tarfile.open(tmp_path / "src" / "gone.tar", "w", format=tarfile.PAX_FORMAT,
                      pax_headers={"comment": "made by a test"}) as tar:
        add(tar, "c.jpg", COPY)
        add(tar, "c.txt", b"a photo")
    scrub(registered_home, tmp_path / "src", tmp_path / "clean", tmp_path / "m.parquet", "--review", "separate")
    for copy in (tmp_path / "clean" / "gone.tar", tmp_path / "clean.review" / "gone.tar"):
        with tarfile.open(copy) as tar:
            assert tar.getnames() == []
