"""Numbers an operator sets in the environment (limits, timeouts, rates, threads).

Read where they are used, but through one function, so a malformed value stops the command with
the variable's name and what was wrong, not a ``ValueError`` traceback from a module import
(``CLEARANCE_RATE_PER_S=abc clearance serve``), and a value that makes no sense (a negative rate,
zero threads) is refused rather than taken.
"""

from __future__ import annotations

import math
import os


class SettingError(ValueError):
    """An environment setting that cannot be used; the CLI reports it as a setup error (exit 2)."""


def env_number(name: str, default: float, *, minimum: float = 0.0, integer: bool = False) -> float:
    """``$name`` as a number of at least ``minimum`` (a whole one if ``integer``), else ``default``
    when it is unset or empty."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a {'whole ' if integer else ''}number") from None
    if not math.isfinite(value) or value < minimum:
        raise SettingError(f"{name}={raw!r} must be a finite number of at least {minimum:g}")
    return value
