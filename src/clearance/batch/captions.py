"""A record's caption from its caption files (a folder's sidecars, a tar sample's ``txt``/``json``).

Every caption file a record has is read and screened: a record with both a ``.txt`` and a
``.json`` whose ``.json`` names a work must not be kept because its ``.txt`` is harmless, since
the clean copy carries both. A JSON caption file holds an object with caption fields or the
caption as a JSON string; every caption field it has is screened (``{"caption": "a cat", "prompt":
"Eleven from Stranger Things"}`` was kept on its harmless caption). One that holds no text caption
(invalid UTF-8, broken JSON, a key given twice, a number or a list, an object with none of the
caption keys) is an error, so the record is reviewed, never allowed on a caption nobody read.
"""

from __future__ import annotations

import json

from clearance import strict_json

CAPTION_KEYS = ("caption", "prompt", "text")
"""Where a JSON caption file keeps the caption (LAION, generators' logs): each one present is read."""


def caption_of(files: list[tuple[str, bytes]]) -> tuple[str | None, str | None]:
    """(caption, error) of a record from its caption files, ``(name, bytes)`` with names ending
    ``.txt`` or ``.json``. Several captions are joined by a newline, each said once."""
    captions, errors = [], []
    for name, data in files:
        text, error = _json_caption(name, data) if name.lower().endswith(".json") else _text_caption(name, data)
        if error:
            errors.append(error)
        if text and text not in captions:  # a caption read in spite of an error is screened all the same
            captions.append(text)
    return ("\n".join(captions) if captions else None), ("; ".join(errors) or None)


def _text_caption(name: str, data: bytes) -> tuple[str, str | None]:
    try:
        return data.decode("utf-8-sig"), None  # a BOM, as some editors write, is no caption
    except UnicodeDecodeError as exc:
        return "", f"caption {name} is not UTF-8: {exc}"


def _json_caption(name: str, data: bytes) -> tuple[str, str | None]:
    """The caption fields of a JSON caption file, joined by a newline (each said once). A key given
    twice anywhere is an error (``strict_json``): Python's json kept the last, a training loader may
    read the first, so ``{"caption": "Eleven from Stranger Things", "caption": "a cat"}`` was kept as a
    cat. Every caption field is screened all the same (``_every_caption``): a throwaway repeated key
    must not turn a caption that blocks into a review a ``--review keep`` scrub keeps."""
    try:
        record = strict_json.loads(data.decode("utf-8-sig"))
    except strict_json.DuplicateKeyError as exc:
        return _every_caption(data), f"unreadable caption {name}: {exc}"
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return "", f"unreadable caption {name}: {exc}"
    if isinstance(record, str):  # a caption written as a JSON string
        return record, None
    if not isinstance(record, dict):
        return "", f"caption {name} is neither a JSON object nor a string"
    keys = [k for k in CAPTION_KEYS if k in record]
    if not keys:
        return "", f"caption {name} has none of the fields {', '.join(CAPTION_KEYS)}"
    if wrong := [k for k in keys if not isinstance(record[k], str)]:
        return "", f"caption {name}: {', '.join(wrong)} is not text"
    return "\n".join(dict.fromkeys(record[k] for k in keys)), None


def _every_caption(data: bytes) -> str:
    """Every text under a caption key of the top-level object, repeated keys included."""
    pairs = json.loads(data.decode("utf-8-sig"), object_pairs_hook=lambda items: items)
    if not isinstance(pairs, list):
        return ""
    texts = [value for key, value in pairs if key in CAPTION_KEYS and isinstance(value, str)]
    return "\n".join(dict.fromkeys(texts))
