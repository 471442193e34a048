"""JSON objects read as every reader would read them: a key given twice is an error.

Python's ``json`` keeps the last of two equal keys, other parsers the first: a gateway that reads
``{"prompt": "Eleven from Stranger Things", "prompt": "a cat"}`` the other way would generate the
prompt Clearance never screened. So a request or a line of a batch file with a duplicate key is
refused, as an unknown field is.
"""

from __future__ import annotations

import json
from typing import Any


class DuplicateKeyError(ValueError):
    """A JSON object names one key twice."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKeyError(f"key {key!r} is given twice")
        seen[key] = value
    return seen


def loads(text: str | bytes) -> Any:
    """``json.loads`` that raises ``DuplicateKeyError`` for a key given twice in any object."""
    return json.loads(text, object_pairs_hook=_unique)
