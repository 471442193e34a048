"""Which names belong to figures of myth, legend, scripture, folklore or public-domain literature.

Studios name characters after such figures (*Moana*'s Māui, *Avatar*'s Pandora, *Tangled*'s
Rapunzel, *Finding Nemo*'s Nemo), and prompts ask for the figures themselves ("Pandora opening
the jar, Greek vase painting", "Jules Verne's Captain Nemo"). Nobody owns those names; a studio
owns its rendition of the figure. A registered name that is a namesake is therefore ambiguous
like an everyday word or a place's name, and counts only with support (``signals.text_lexical``).
The list (``data/namesakes.md``) is read when a registry is indexed or the lexical signal preloads.
"""

from __future__ import annotations

from functools import cache

from clearance.text import package_data
from clearance.text.normalize import normalise

FILE = "namesakes.txt"


@cache
def _namesakes() -> frozenset[str]:
    lines = package_data.read_bytes(FILE).decode("utf-8").splitlines()
    return frozenset(normalise(line) for line in lines if line.strip() and not line.startswith("#"))


def is_namesake(name: str) -> bool:
    """``name`` (normalised as registry names are: ``normalize.normalise``, words joined by single
    spaces) is a public-domain figure's: "maui", "pandora", "captain nemo"."""
    return name in _namesakes()
