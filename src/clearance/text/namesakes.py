"""Which names belong to figures of myth, legend, scripture, folklore or public-domain literature,
or to real people and things of history and the world.

Studios name characters after such figures (*Moana*'s Māui, *Avatar*'s Pandora, *Tangled*'s
Rapunzel, *Finding Nemo*'s Nemo) and after real ones (the *Ninja Turtles*' Michelangelo, *Street
Fighter*'s Vega, *Star Trek*'s USS Enterprise), and prompts ask for those themselves ("Pandora
opening the jar, Greek vase painting", "Michelangelo's David", "Vega and Altair above a lake").
Nobody owns those names; a studio owns its rendition. A registered name that is a namesake is
therefore ambiguous like an everyday word or a place's name, and counts only with support
(``signals.text_lexical``). So does a registered name said inside a longer listed one ("Shaun" in
"shaun white", "Nemo" in "captain nemo"): that one is meant. The lists (``data/namesakes.md``: myth
and literature; ``data/real_namesakes.md``: history and the real world; ``data/modern_namesakes.md``:
living people, companies, teams, events and city places of today; ``data/things_namesakes.md``:
brands and products, things named after people, dishes of other languages;
``data/district_namesakes.md``: neighbourhoods, districts, suburbs and towns below the gazetteer's
cities; ``data/geography_namesakes.md``: regions, mountains, rivers, lakes, islands and parks) are
read when a registry is indexed or the lexical signal preloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from clearance.model_cache import cached_model
from clearance.text import package_data
from clearance.text.normalize import VERSION, normalise

FILES = ("namesakes.txt", "real_namesakes.txt", "modern_namesakes.txt", "things_namesakes.txt",
         "district_namesakes.txt", "geography_namesakes.txt")
LONGEST_AROUND = 8
"""Most words of a listed name looked for around a registered one ("Leonardo da Vinci")."""


@cache
def _namesakes() -> frozenset[str]:
    """The names of every list, normalised. Normalising ~26,000 lines takes ~0.6 s, more than half a
    cold start, so the result is kept in the model cache under the lists' digests and the
    normalisation's version (read back in a few milliseconds); editing a list still needs no
    build step."""
    key = package_data.short_digest(" ".join([VERSION, *map(package_data.digest, FILES)]).encode())
    path = cached_model(f"namesakes-{key}.txt", _write_normalised)
    return frozenset(path.read_text(encoding="utf-8").splitlines())


def _write_normalised(target: Path) -> None:
    lines = [line for name in FILES for line in package_data.read_bytes(name).decode("utf-8").splitlines()]
    names = {normalise(line) for line in lines if line.strip() and not line.startswith("#")}
    target.write_text("\n".join(sorted(n for n in names if n)), encoding="utf-8")


def is_namesake(name: str) -> bool:
    """``name`` (normalised as registry names are: ``normalize.normalise``, words joined by single
    spaces) is a public-domain figure's or a real one's: "maui", "captain nemo", "michelangelo", "vega"."""
    return name in _namesakes()


@cache
def _phrases() -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(name.split()) for name in _namesakes() if " " in name)


def load() -> None:
    """Read the lists and index their names of several words now (~20 ms), so that neither the first
    name looked up (``is_namesake``) nor the first name found inside a longer one (``around``) pays
    for it in a request."""
    _phrases()


def around(words: Sequence[str], start: int, end: int) -> tuple[int, int] | None:
    """Where ``words[start:end]`` (a registered name found in a prompt's normalised words) lie
    inside a longer listed name said there, the longest: "leonardo" in "leonardo da vinci", "nemo"
    in "captain nemo". The prompt names the figure or thing, whose name merely contains the
    work's; the work needs saying some other way then, outside that name (``signals.text_lexical``)."""
    phrases = _phrases()
    found = None
    for i in range(max(0, end - LONGEST_AROUND), start + 1):
        for j in range(max(end, i + 2), min(len(words), i + LONGEST_AROUND) + 1):
            if j - i > end - start and tuple(words[i:j]) in phrases and (found is None or j - i > found[1] - found[0]):
                found = (i, j)
    return found
