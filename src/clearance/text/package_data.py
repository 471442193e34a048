"""The data files the text layers read from the package, and the digests that say which were read.

Persisted indexes are built from these files: which registered names are ordinary words
(``english_words.txt.gz``), places (``place_names.txt.gz``) or namesakes (``namesakes.txt``), and
the vectors of the ordinary prompts. An index built from other files, kept from before an upgrade
that changed one, would go on deciding with the old lists, so each index's key holds the digests
of the files it was built from (``SignalType.model_versions``), as each verdict's ``versions`` does.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources


def read_bytes(name: str) -> bytes:
    """The bytes of ``clearance/data/<name>``."""
    return (resources.files("clearance") / "data" / name).read_bytes()


def short_digest(data: bytes) -> str:
    """The first 12 hex digits of the SHA-256 of ``data``: what keys an index and a verdict cite."""
    return hashlib.sha256(data).hexdigest()[:12]


@cache
def digest(name: str) -> str:
    """``short_digest`` of ``clearance/data/<name>`` as the package ships it (read once: verdicts cite it)."""
    return short_digest(read_bytes(name))
