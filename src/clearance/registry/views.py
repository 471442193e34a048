"""What the rest of Clearance sees of the registry: immutable views of works and of one registry state.

Kept apart from the database code (``registry.store``) so that the signals, the policy and the
screener's imports do not pull in SQLAlchemy: a new process starts loading its models while the
database layer is still being imported.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ElementView:
    role: str
    name: str
    aliases: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class ReferenceView:
    kind: str
    sha256: str
    path: Path
    source_name: str
    element: str | None


@dataclass(frozen=True)
class WorkView:
    """Everything the signals need to know about one work."""

    slug: str
    owner: str
    title: str
    kind: str
    policy: str
    aliases: tuple[str, ...]
    elements: tuple[ElementView, ...]
    descriptions: tuple[str, ...]
    references: tuple[ReferenceView, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.owner, self.slug)

    def document(self) -> dict[str, Any]:
        """The work in registry-file shape (used by ``show`` and the service)."""
        return {
            "id": self.slug, "title": self.title, "owner": self.owner, "kind": self.kind, "policy": self.policy,
            "aliases": list(self.aliases),
            "characters": [_element_doc(e) for e in self.elements if e.role == "character"],
            "elements": [_element_doc(e) for e in self.elements if e.role == "element"],
            "descriptions": list(self.descriptions),
            "references": [{"kind": r.kind, "sha256": r.sha256, "source": r.source_name,
                            **({"element": r.element} if r.element else {})} for r in self.references],
        }


def description_texts(work: WorkView) -> list[str]:
    """The free-text look descriptions of a work: its characters', elements' and its own."""
    return [e.description for e in work.elements if e.description] + list(work.descriptions)


def _element_doc(e: ElementView) -> dict[str, Any]:
    return {"name": e.name, "aliases": list(e.aliases), "description": e.description}


def work_content_hash(state: dict[str, Any]) -> str:
    """SHA-256 of one work's content as canonical JSON: title, kind, policy, aliases, descriptions,
    elements and references, in the shape ``content_state`` gives (the registry store writes it with
    every work, from the same shape)."""
    return hashlib.sha256(json.dumps(state, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def content_state(work: Any) -> dict[str, Any]:
    """A work's content, from a ``WorkView`` or a database ``Work`` row (they name their fields alike);
    equal for equal content to ``registry.store``'s ``_spec_state`` of an imported document."""
    return {
        "title": work.title, "kind": work.kind, "policy": work.policy, "aliases": list(work.aliases),
        "descriptions": list(work.descriptions),
        "elements": [(e.role, e.name, list(e.aliases), e.description) for e in work.elements],
        "references": [(r.kind, r.sha256, r.source_name, r.element) for r in work.references],
    }


def registry_fingerprint(works: Iterable[tuple[str, str, str]]) -> str:
    """A registry state's fingerprint from its works in order, each as (owner, id, content hash):
    persisted indexes are valid only for the same content (a revision number alone could repeat
    across databases)."""
    digest = hashlib.sha256()
    for owner, slug, content in works:
        digest.update(f"{owner}\x1f{slug}\x1f{content}\n".encode())
    return digest.hexdigest()


def _fingerprint_of(works: Iterable[WorkView]) -> str:
    return registry_fingerprint((w.owner, w.slug, work_content_hash(content_state(w))) for w in works)


class RegistrySnapshot:
    """One registry state: its revision, its fingerprint, the works' policies and the works.

    ``Registry.snapshot`` reads the first three in one light query (at 10,000 works, a few
    hundredths of a second) and the works (40,000 rows, over a second) only when first asked for:
    a verdict needs only policies, and signals find their persisted index by the fingerprint.
    """

    def __init__(
        self,
        revision: int,
        works: tuple[WorkView, ...] | None = None,
        *,
        fingerprint: str | None = None,
        policies: dict[tuple[str, str], str] | None = None,
        read_works: Callable[[], tuple[WorkView, ...]] | None = None,
    ) -> None:
        if (works is None) == (read_works is None):
            raise ValueError("give either the works or a way to read them")
        self.revision = revision
        self._works = works
        self._read_works = read_works
        self._lock = threading.Lock()
        self._fingerprint = fingerprint
        self._policies = policies

    def __eq__(self, other: object) -> bool:
        """The same registry state: same revision, same content."""
        if not isinstance(other, RegistrySnapshot):
            return NotImplemented
        return (self.revision, self.fingerprint) == (other.revision, other.fingerprint)

    def __hash__(self) -> int:
        return hash((self.revision, self.fingerprint))

    @property
    def works(self) -> tuple[WorkView, ...]:
        """Every work, in registry order (read on first use, once)."""
        if self._works is None:
            with self._lock:
                if self._works is None:
                    assert self._read_works is not None
                    self._works = self._read_works()
        return self._works

    @cached_property
    def fingerprint(self) -> str:
        """The fingerprint of this registry state (see ``registry_fingerprint``)."""
        return self._fingerprint if self._fingerprint is not None else self.works_fingerprint

    @cached_property
    def works_fingerprint(self) -> str:
        """The fingerprint of the works as read. It differs from ``fingerprint`` only when the
        registry changed between the light query and reading the works (a newer state): an index
        built from these works must be saved under this one."""
        return _fingerprint_of(self.works)

    @cached_property
    def policies(self) -> dict[tuple[str, str], str]:
        """Policy of each work by (owner, id): all a verdict needs to know about the works."""
        return self._policies if self._policies is not None else {w.key: w.policy for w in self.works}

    @cached_property
    def by_key(self) -> dict[tuple[str, str], WorkView]:
        """Works by (owner, id), built once per snapshot."""
        return {w.key: w for w in self.works}
