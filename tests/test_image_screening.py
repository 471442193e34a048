"""Image screening end to end on the dev images, and every kind of bad image input."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from clearance.batch.items import Item
from clearance.cli import app
from clearance.home import Home
from clearance.media.views import framed_picture, region_boxes
from clearance.screening import PromptRequest, Screener
from clearance.verdict import Action
from tests.conftest import DATA, WORKS_YAML

IMAGES = DATA / "images"
runner = CliRunner()


def reference_works() -> dict[str, str]:
    """The work of each dev reference image, by file name."""
    with (IMAGES / "references.csv").open() as listing:
        return {r["path"].split("/")[-1]: r["work_id"] for r in csv.DictReader(listing)}


@pytest.fixture(scope="module")
def screener(registered_home: Home) -> Screener:
    return Screener(registered_home)


def test_copies_and_distractors_through_cli(registered_home: Home, tmp_path: Path) -> None:
    pairs = list(csv.DictReader((IMAGES / "pairs.csv").open()))[::2]
    distractors = [line.strip() for line in (IMAGES / "distractors.txt").open() if line.strip()][::2]
    works = reference_works()
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(str(IMAGES / p) for p in [q["query_path"] for q in pairs] + distractors))
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["screen", "media", "--from-list", str(listing), "--out", str(out),
                                 "--home", str(registered_home.root)])
    assert result.exit_code == 0, result.output
    verdicts = {Path(v["path"]).name: v for v in map(json.loads, out.read_text().splitlines())}
    found = []
    for p in pairs:
        verdict = verdicts[Path(p["query_path"]).name]
        work = works[Path(p["reference_path"]).name]
        found.append(verdict["action"] == "block" and work in {m["work_id"] for m in verdict["matches"]})
    false_alarms = [d for d in distractors if verdicts[Path(d).name]["action"] != "allow"]
    assert sum(found) / len(found) >= 0.95
    assert len(false_alarms) / len(distractors) <= 0.02
    top = verdicts["ref_000_crop.jpg"]["matches"][0]
    assert top["element"] == "Eleven" and top["details"]["reference"] == "ref_000.jpg"
    assert top["signal"] == "image.sscd" and top["score"] >= 0.8 and len(top["details"]["reference_sha256"]) == 64
    details = top["details"]
    assert top["raw_score"] == pytest.approx(details["cosine"] - details["background_offset"], abs=1e-3)



def test_a_list_file_names_its_files_relative_to_its_own_folder(registered_home: Home, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The dev data's lists name files relative to the list (``distractors.txt``: ``distractors/...``);
    read from the working directory alone, every line of such a list was "file not found" elsewhere.
    A path that exists from the working directory is still read from there, as a shell's would be."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "here.jpg").write_bytes((IMAGES / "copies" / "ref_000_crop.jpg").read_bytes())
    listing = tmp_path / "lists" / "mixed.txt"
    listing.parent.mkdir()
    listing.write_text("distractors/dis_000.jpg\nhere.jpg\nnowhere.jpg\n", encoding="utf-8")
    (listing.parent / "distractors").symlink_to(IMAGES / "distractors")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["screen", "media", "--from-list", str(listing), "--out", str(out),
                                 "--home", str(registered_home.root)])
    assert result.exit_code == 0, result.output
    beside, here, nowhere = map(json.loads, out.read_text().splitlines())
    assert beside["path"] == str(listing.parent / "distractors" / "dis_000.jpg") and "error" not in beside
    assert here["path"] == "here.jpg" and here["action"] == "block"
    assert nowhere["action"] == "review" and "file not found: nowhere.jpg" in nowhere["error"]

def test_a_picture_small_in_a_screenshot_is_found(screener: Screener) -> None:
    """The screenshots whose picture fills 42-61% of the canvas's height: neither the whole, its
    centre nor its corners match the reference (all were allowed before the framed view)."""
    works = reference_works()
    for name in ("ref_034_screenshot.jpg", "ref_037_screenshot.jpg", "ref_039_screenshot.jpg"):
        verdict = screener.screen_media(IMAGES / "copies" / name, audit=False)
        top = max(verdict.matches, key=lambda m: m.score)
        assert verdict.action == Action.BLOCK, name
        assert top.work_id == works[name.replace("_screenshot", "")], name
        assert top.details["query_view"] == "framed", name


def test_the_framed_picture_is_the_picture_not_the_page() -> None:
    """The crop is the video player's picture (its shape, without the page's sidebar of grey
    buttons or its address bar). A drawing alone on white frames nothing (no chrome: no canvas),
    nor do a flat canvas and a 1-pixel image; and few distractors pay for the extra view (16 of
    212 when this was written: textured wallpapers and gradients)."""
    with Image.open(IMAGES / "copies" / "ref_034_screenshot.jpg") as page:
        framed = framed_picture(page.convert("RGB"))
        width, height = page.size
    assert framed is not None
    assert framed.width < 0.5 * width and framed.height < 0.9 * height
    with Image.open(IMAGES / "ref" / "ref_034.jpg") as original:
        assert abs(framed.width / framed.height - original.width / original.height) < 0.05
        assert framed_picture(original.convert("RGB")) is None
    framing = []
    for path in sorted((IMAGES / "distractors").glob("*.jpg")):
        with Image.open(path) as distractor:
            if framed_picture(distractor.convert("RGB")) is not None:
                framing.append(path.name)
    assert len(framing) <= 21, framing
    assert framed_picture(Image.new("RGB", (640, 360), (30, 30, 30))) is None
    assert framed_picture(Image.new("RGB", (1, 1))) is None


def test_regions_are_four_connected() -> None:
    """A U shape is one region (its arms meet through the bottom row, three rows down); cells that
    touch only at a corner are two; a lone cell is one."""
    mask = np.zeros((6, 8), dtype=bool)
    mask[0:3, 0] = mask[0:3, 2] = mask[2, 0:3] = True  # U: arms joined by the bottom row
    mask[4, 5] = mask[5, 6] = True  # diagonal neighbours
    mask[0, 7] = True
    assert sorted(region_boxes(mask)) == [(0, 0, 3, 3), (5, 4, 6, 5), (6, 5, 7, 6), (7, 0, 8, 1)]
    assert region_boxes(np.zeros((3, 3), dtype=bool)) == []


def test_bytes_api_and_prompt_with_reference(screener: Screener, registered_home: Home) -> None:
    data = (IMAGES / "copies" / "ref_000_color.jpg").read_bytes()
    upload = screener.screen_media(data, name="upload.jpg")
    assert upload.action == Action.BLOCK
    reference = str(IMAGES / "copies" / "ref_000_flip.jpg")
    result = runner.invoke(app, ["screen", "prompt", "a girl walking in a park", "--reference", reference, "--json",
                                 "--home", str(registered_home.root)])
    verdict = json.loads(result.output)
    assert verdict["action"] == "block"
    assert {m["signal"] for m in verdict["matches"]} & {"image.sscd", "image.pdq"}
    record = screener.screen_item("r1", "a girl walking in a park", data)
    kinds = {audit_id: screener.audit.get(audit_id).kind for audit_id in (upload.audit_id, verdict["audit_id"],
                                                                         record.audit_id)}
    assert list(kinds.values()) == ["media", "prompt", "record"]  # what each verdict was on


def test_the_python_api_turns_odd_arguments_into_reviews_and_never_drops_a_batch(screener: Screener) -> None:
    """A QA pass of the library found a bytes negative prompt stopping a batch of 20 after 7 verdicts,
    with 8 in the log; a ``str`` path screened but labelled "<upload>"; a ``str`` given for a list
    screened as one file per character; bytes or a number reviewed as an "empty prompt"."""
    copy = str(IMAGES / "copies" / "ref_000_crop.jpg")
    before = screener.audit.count()
    requests: list = [PromptRequest(f"Vecna in the attic {i}", id=str(i)) for i in range(12)]
    requests[3] = PromptRequest("a dog", negative_prompt=b"blurry", id="3")  # type: ignore[arg-type]
    requests[4] = "a plain string"
    verdicts = list(screener.screen_prompts(requests))
    assert [v.id for v in verdicts] == [str(i) if i != 4 else None for i in range(12)]
    assert (verdicts[3].action, verdicts[3].error) == (Action.REVIEW, "negative_prompt is not text: bytes")
    assert (verdicts[4].action, verdicts[4].error) == (Action.REVIEW, "not a PromptRequest: str")
    assert all(v.action == Action.BLOCK for i, v in enumerate(verdicts) if i not in (3, 4))
    assert screener.audit.count() == before + 12  # every verdict handed over is in the log, and no other
    media = list(screener.screen_media_many([copy, Path(copy), None, memoryview(Path(copy).read_bytes())]))
    assert [(v.path, v.action) for v in media] == [(copy, Action.BLOCK), (copy, Action.BLOCK),
                                                   ("<upload>", Action.REVIEW), ("<upload>", Action.BLOCK)]
    assert media[2].error == "not a path or bytes: NoneType"
    for call in (lambda: list(screener.screen_media_many(copy)),
                 lambda: screener.screen_prompt("a cat", references=copy, audit=False)):
        with pytest.raises(TypeError, match="not a single str"):
            call()
    assert screener.screen_prompt(b"Vecna", audit=False).error == "prompt is not text: bytes"
    records = list(screener.screen_items([Item("a", caption="Vecna"), None, Item("b", caption=b"Vecna")]))
    assert [(v.id, v.action, v.error) for v in records] == [
        ("a", Action.BLOCK, None), (None, Action.REVIEW, "not an Item: NoneType"),
        ("b", Action.REVIEW, "caption is not text: bytes")]

    def failing() -> Iterator[PromptRequest]:
        yield from (PromptRequest("Vecna", id="x"), PromptRequest("a cat", id="y"))
        raise ValueError("the caller's source broke")

    handed = []
    with pytest.raises(ValueError, match="source broke"):
        handed.extend(v.id for v in screener.screen_prompts(failing()))
    assert handed == ["x", "y"]  # what was screened before the source failed is handed over first


def test_prompt_references_unrelated_or_broken(registered_home: Home, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes((IMAGES / "ref" / "ref_001.jpg").read_bytes()[:2000])
    unrelated = IMAGES / "distractors" / "dis_000.jpg"
    home = ["--home", str(registered_home.root), "--json"]
    clean = json.loads(runner.invoke(app, ["screen", "prompt", "a quiet harbour at dawn", "--reference",
                                           str(unrelated), *home]).output)
    assert clean["action"] == "allow" and not clean.get("error")
    bad = json.loads(runner.invoke(app, ["screen", "prompt", "a quiet harbour at dawn", "--reference",
                                         str(unrelated), "--reference", str(broken), *home]).output)
    assert bad["action"] == "review" and "broken.png" in bad["error"]


def _encode(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def test_odd_but_valid_images_are_screened(screener: Screener) -> None:
    ref = Image.open(IMAGES / "ref" / "ref_000.jpg")
    variants = {
        "cmyk": _encode(ref.convert("CMYK"), "JPEG"),
        "palette": _encode(ref.convert("P"), "PNG"),
        "alpha": _encode(ref.convert("RGBA"), "PNG"),
        "sixteen_bit": _encode(Image.fromarray(np.asarray(ref.convert("L")).astype(np.uint16) * 256), "PNG"),
        "webp": _encode(ref, "WEBP"),
    }
    rotated = ref.rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 8  # stored rotated; viewers turn it back upright
    variants["exif_rotated"] = _encode(rotated, "JPEG", exif=exif)
    frames = [Image.new("RGB", ref.size, "white"), ref.convert("RGB")]
    variants["animated_gif"] = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    crop = Image.open(IMAGES / "copies" / "ref_005_crop.jpg").convert("RGB").rotate(90, expand=True)
    turned, exif6 = [Image.new("RGB", crop.size, "white"), crop], Image.Exif()
    exif6[0x0112] = 6  # EXIF turns every frame of an animation upright too (it was read as stored)
    variants["animated_exif_rotated"] = _encode(turned[0], "WEBP", save_all=True, append_images=turned[1:],
                                                duration=100, exif=exif6)
    for name, data in variants.items():
        verdict = screener.screen_media(data, name=name, audit=False)
        assert verdict.error is None, (name, verdict.error)
        if name != "sixteen_bit":  # grey copy of a colour still: allowed to be weaker
            assert verdict.action == Action.BLOCK, name


def test_bad_images_give_review_with_error(screener: Screener, tmp_path: Path) -> None:
    good = (IMAGES / "ref" / "ref_001.jpg").read_bytes()
    bomb = _encode(Image.new("1", (12_000, 12_000)), "PNG")  # 144 Mpx in a few kB
    cases = {
        "empty": b"",
        "truncated": good[: len(good) // 3],
        "garbage": b"\xff\xd8\xff" + b"\x00" * 500,
        "bomb": bomb,
        "text": b"just some text, not an image at all",
    }
    for name, data in cases.items():
        verdict = screener.screen_media(data, name=name)
        assert verdict.action == Action.REVIEW and verdict.error, name
        assert verdict.audit_id
        if name == "truncated":  # decoded once: one error, naming every signal it stopped
            assert verdict.error.startswith("image.pdq, image.sscd: truncated or corrupt image"), verdict.error
            assert verdict.error.count("image file is truncated") == 1, verdict.error
    missing = screener.screen_media(tmp_path / "nope.png")
    assert missing.action == Action.REVIEW and "not found" in (missing.error or "")


def test_batch_equals_one_by_one(screener: Screener, tmp_path: Path) -> None:
    """``screen_media_many`` (threads + batched model) gives the one-by-one verdicts, in order,
    with bad files among good ones; ``screen_items`` likewise for dataset records."""
    pairs = list(csv.DictReader((IMAGES / "pairs.csv").open()))[::9]
    distractors = [line.strip() for line in (IMAGES / "distractors.txt").open() if line.strip()][::9]
    sources: list[Path | bytes] = [IMAGES / p for p in [q["query_path"] for q in pairs] + distractors]
    sources[3:3] = [b"", tmp_path / "missing.jpg", (IMAGES / "ref" / "ref_001.jpg").read_bytes()[:900]]
    single = [screener.screen_media(s, audit=False) for s in sources]
    many = list(screener.screen_media_many(sources, audit=False))
    assert len(many) == len(sources) > 2 * 16  # more than two chunks of the pipeline
    assert {v.action for v in single} == {Action.BLOCK, Action.ALLOW, Action.REVIEW}
    for one, batch in zip(single, many, strict=True):
        assert (batch.path, batch.action, batch.error) == (one.path, one.action, one.error)
        assert [(m.work_id, m.signal) for m in batch.matches] == [(m.work_id, m.signal) for m in one.matches]
        assert batch.score == pytest.approx(one.score, abs=0.02)
    records = [Item(key=f"k{i}", media=((f"k{i}", s if isinstance(s, bytes) else s.read_bytes()),)
                    if isinstance(s, bytes) or s.is_file() else (),
                    caption="a photo" if i % 2 else None) for i, s in enumerate(sources)]
    items = list(screener.screen_items(records))
    assert [v.id for v in items] == [r.key for r in records]
    one_by_one = [screener.screen_item(r.key, r.caption, r.media[0][1] if r.media else None) for r in records]
    assert [v.action for v in items] == [v.action for v in one_by_one]


def test_allowed_roots(registered_home: Home, tmp_path: Path) -> None:
    inside = tmp_path / "uploads"
    inside.mkdir()
    (inside / "a.jpg").write_bytes((IMAGES / "copies" / "ref_000_crop.jpg").read_bytes())
    args = ["screen", "media", str(inside / "a.jpg"), str(IMAGES / "ref" / "ref_000.jpg"), "--json",
            "--allow-root", str(inside), "--home", str(registered_home.root)]
    rows = [json.loads(line) for line in runner.invoke(app, args).output.splitlines()]
    assert rows[0]["action"] == "block"
    assert rows[1]["action"] == "review" and "outside the allowed roots" in rows[1]["error"]


def test_removing_a_work_removes_its_images(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home")
    screener = Screener(home)
    screener.registry.import_file(WORKS_YAML)
    copy = IMAGES / "copies" / "ref_000_crop.jpg"
    assert screener.screen_media(copy, audit=False).action == Action.BLOCK
    screener.registry.remove("stranger-things")
    assert screener.screen_media(copy, audit=False).action == Action.ALLOW
    stored = np.load(next((home.index_dir / "image.sscd").glob("sscd_distilled-v*.npz")))
    assert len(stored["keys"]) == 35  # 40 stills, 5 of them Stranger Things'


def test_a_licensed_picture_does_not_stop_the_rest_of_a_record_being_screened(tmp_path: Path) -> None:
    """A record's media are screened until one blocks for this caller: a picture of a work the
    tenant licenses must not end the screening before an unlicensed copy beside it."""
    screener = Screener(Home.resolve(tmp_path / "home"))
    screener.registry.import_file(WORKS_YAML)
    screener.registry.grant_licence("acme", "stranger-things")
    licensed, other = IMAGES / "ref" / "ref_000.jpg", IMAGES / "copies" / "ref_003_crop.jpg"
    record = Item(key="k", media=(("k.jpg", licensed.read_bytes()), ("k.png", other.read_bytes())))
    verdict = next(screener.screen_items([record], tenant="acme"))
    assert verdict.action == Action.BLOCK and "kpop-demon-hunters" in {m.work_id for m in verdict.matches}


def test_a_path_list_with_a_bom_and_names_that_are_not_utf8(registered_home: Home, tmp_path: Path) -> None:
    """Editors write a BOM; file systems hold names that are not UTF-8: both are read as written."""
    odd = tmp_path / os.fsdecode(b"copy\xff.jpg")
    odd.write_bytes((IMAGES / "copies" / "ref_003_crop.jpg").read_bytes())
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"\xef\xbb\xbf" + os.fsencode(IMAGES / "copies" / "ref_000_crop.jpg") + b"\n"
                        + os.fsencode(odd) + b"\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["screen", "media", "--from-list", str(listing), "--out", str(out),
                                 "--home", str(registered_home.root)])
    assert result.exit_code == 0, result.output
    verdicts = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [v["action"] for v in verdicts] == ["block", "block"] and verdicts[1]["path"].endswith("copy\\xff.jpg")
