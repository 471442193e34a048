"""A batch job run against a registry with no works allows everything: say so once, from the job's
own process, to the program that runs it (its workers keep quiet: a spawned worker's stderr names no
caller)."""

from __future__ import annotations

from clearance.home import Home
from clearance.registry.store import Registry


def warn_if_empty(home: Home) -> None:
    """``screening.warn_empty_registry`` if the home's registry has no works. Screening is imported
    only then: a job's own process loads no models."""
    if Registry.of(home).is_empty():
        from clearance.screening import warn_empty_registry

        warn_empty_registry(home)
