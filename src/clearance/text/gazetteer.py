"""Which words are names of places: countries, US states, cities of 100,000 people or more (GeoNames).

Characters are named after places ("Nairobi", "Tokyo" and "Berlin" of a heist series, "Mérida",
"Sydney"), and prompts name the places themselves ("giraffes in Nairobi National Park"). A
registered one-word name that is a place's name is therefore ambiguous like an everyday word.
The list (``data/place_names.md``) is read when a registry is indexed or the lexical signal preloads.
"""

from __future__ import annotations

import gzip
from functools import cache

from clearance.text import package_data

FILE = "place_names.txt.gz"


@cache
def _places() -> frozenset[str]:
    return frozenset(gzip.decompress(package_data.read_bytes(FILE)).decode("utf-8").split())


def is_place(word: str) -> bool:
    """``word`` (normalised as prompt words are: ``clearance.text.normalize``) names a country or a large city."""
    return word in _places()
