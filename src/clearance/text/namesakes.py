"""Which names belong to figures of myth, legend, scripture, folklore or public-domain literature.

Studios name characters after such figures (*Moana*'s Māui, *Avatar*'s Pandora, *Tangled*'s
Rapunzel, *Finding Nemo*'s Nemo), and prompts ask for the figures themselves ("Pandora opening
the jar, Greek vase painting", "Jules Verne's Captain Nemo"). Nobody owns those names; a studio
owns its rendition of the figure. A registered name that is a namesake is therefore ambiguous
like an everyday word or a place's name, and counts only with support (``signals.text_lexical``).
The list (``data/namesakes.md``) is read when a registry is indexed or the lexical signal preloads.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from clearance.text.normalize import normalise


@cache
def _text() -> str:
    return (resources.files("clearance") / "data" / "namesakes.txt").read_text(encoding="utf-8")


@cache
def _namesakes() -> frozenset[str]:
    return frozenset(normalise(line) for line in _text().splitlines() if line.strip() and not line.startswith("#"))


@cache
def digest() -> str:
    """A short SHA-256 of the list: the lexical index is built with it, so it keys the stored index."""
    return hashlib.sha256(_text().encode()).hexdigest()[:12]


def is_namesake(name: str) -> bool:
    """``name`` (normalised as registry names are: ``normalize.normalise``, words joined by single
    spaces) is a public-domain figure's: "maui", "pandora", "captain nemo"."""
    return name in _namesakes()
