"""Which names belong to figures of myth, legend, scripture, folklore or public-domain literature,
or to real people and things of history and the world.

Studios name characters after such figures (*Moana*'s Māui, *Avatar*'s Pandora, *Tangled*'s
Rapunzel, *Finding Nemo*'s Nemo) and after real ones (the *Ninja Turtles*' Michelangelo, *Street
Fighter*'s Vega, *Star Trek*'s USS Enterprise), and prompts ask for those themselves ("Pandora
opening the jar, Greek vase painting", "Michelangelo's David", "Vega and Altair above a lake").
Nobody owns those names; a studio owns its rendition. A registered name that is a namesake is
therefore ambiguous like an everyday word or a place's name, and counts only with support
(``signals.text_lexical``). The lists (``data/namesakes.md``: myth and literature;
``data/real_namesakes.md``: history and the real world) are read when a registry is indexed or the
lexical signal preloads.
"""

from __future__ import annotations

from functools import cache

from clearance.text import package_data
from clearance.text.normalize import normalise

FILES = ("namesakes.txt", "real_namesakes.txt")


@cache
def _namesakes() -> frozenset[str]:
    lines = [line for name in FILES for line in package_data.read_bytes(name).decode("utf-8").splitlines()]
    return frozenset(normalise(line) for line in lines if line.strip() and not line.startswith("#"))


def is_namesake(name: str) -> bool:
    """``name`` (normalised as registry names are: ``normalize.normalise``, words joined by single
    spaces) is a public-domain figure's or a real one's: "maui", "captain nemo", "michelangelo", "vega"."""
    return name in _namesakes()
