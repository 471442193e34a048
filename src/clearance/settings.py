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


NUMBERS: dict[str, tuple[float, float, bool]] = {
    "CLEARANCE_MAX_JSON_BYTES": (1, math.inf, True),
    "CLEARANCE_MAX_UPLOAD_BYTES": (1, math.inf, True),
    "CLEARANCE_KEY_CACHE_S": (0, math.inf, False),
    "CLEARANCE_SCREEN_TIMEOUT_S": (0.001, math.inf, False),
    "CLEARANCE_RATE_PER_S": (0.001, math.inf, False),
    "CLEARANCE_RATE_BURST": (1, math.inf, False),
    "CLEARANCE_TEXT_THREADS": (1, 64, True),
    "CLEARANCE_MEDIA_THREADS": (1, 64, True),
    "CLEARANCE_ARRAY_CACHE_MB": (0, math.inf, False),
}
"""Every numeric setting: its least and greatest values, and whether it is a whole number. Every
command checks them all as it starts (``check_environment``): a setting read only by the server or
by one layer was otherwise taken silently by the commands that never read it, or met in the middle
of a batch. Thread counts stop at 64: 5,000 model threads kept one prompt's screening from ending
in two minutes, where 2 take 1.5 s."""


def env_number(name: str, default: float) -> float:
    """``$name`` (one of ``NUMBERS``) as a number within its bounds (a whole one where it must be),
    else ``default`` when it is unset or empty."""
    minimum, maximum, integer = NUMBERS[name]
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a {'whole ' if integer else ''}number") from None
    if not math.isfinite(value) or not minimum <= value <= maximum:
        most = f" and at most {maximum:g}" if math.isfinite(maximum) else ""
        raise SettingError(f"{name}={raw!r} must be a finite number of at least {minimum:g}{most}")
    return value


def check_environment() -> None:
    """Raise ``SettingError`` for the first malformed or out-of-range setting of ``NUMBERS``."""
    for name in NUMBERS:
        env_number(name, 0)
