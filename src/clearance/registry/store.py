"""Registry operations on the database: import (idempotent upsert), list, show, remove, licences.

Signals never read tables: they get a ``RegistrySnapshot`` (``registry.views``), an immutable
view of one registry state, so the request path does no ORM work. Each work row stores a hash
of its content, so a state's fingerprint (the key of persisted indexes) comes from one light
query, and the works themselves are read only when something needs them.
"""

from __future__ import annotations

import getpass
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from clearance.db.tables import Element, Licence, Reference, RegistryRevision, Work
from clearance.keys import check_tenant, party_name
from clearance.registry.media_store import MediaStore
from clearance.registry.views import (
    ElementView,
    ReferenceView,
    RegistrySnapshot,
    WorkView,
    content_state,
    registry_fingerprint,
    work_content_hash,
)

if TYPE_CHECKING:
    from clearance.audit import AuditLog
    from clearance.home import Home
    from clearance.registry.document import WorkSpec


def local_user() -> dict[str, str]:
    """Who changes the registry when no API key does: the user and machine running the command."""
    return {"via": "local", "user": getpass.getuser(), "host": socket.gethostname()}


class UnknownWorkError(LookupError):
    """No work with that id (for that owner)."""


class AmbiguousWorkError(LookupError):
    """An id that several owners use, given without its owner to a change that must hit one work."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    repaired: int = 0
    """Works whose stored reference media were damaged and were put back from the file imported."""


class Registry:
    """The registry of one home: a session factory plus the media store."""

    def __init__(self, sessions: sessionmaker[Session], media: MediaStore) -> None:
        self.sessions = sessions
        self.media = media
        self.writes = 0
        """Changes made through this object; readers in the same process use it to skip waiting."""
        self._last_write: dict[int, int] = {}
        self._audit: AuditLog | None = None

    @classmethod
    def of(cls, home: Home) -> Registry:
        """The registry of ``home``: its database and its media store."""
        from clearance.db.engine import session_factory

        return cls(session_factory(home.database_url), MediaStore(home.media_dir))

    def _wrote(self) -> None:
        """Count a change, and remember it as the latest of the calling thread."""
        self.writes += 1
        self._last_write[threading.get_ident()] = self.writes

    def _record(self, action: str, works: list[dict[str, str]], tenant: str | None,
                by: dict[str, str] | None = None, **details: str) -> None:
        """A change as an entry of the audit log (kind ``registry``) naming its ``works`` (each with
        its owner and id), appended once the change is committed: why a match was licensed, or under
        which policy it was judged, is then read from the log as the registry was, not as it is now
        (a black-box pass found neither in the log). The works' owners may read it. ``by`` says who
        made it: the API's key (its id, role and tenant), or else this machine's user (``local_user``):
        an admin's change of a rights holder's policy was logged with no one's name."""
        from clearance.audit import AuditLog  # the log's writer: only a change needs it

        if self._audit is None:
            self._audit = AuditLog(self.sessions)
        record = {"action": action, "revision": self.revision(), **details, "by": by or local_user(), "works": works}
        self._audit.append("registry", record, tenant, [f"{w['owner']}/{w['id']}" for w in works])

    def last_write_of_this_thread(self) -> int:
        """The ``writes`` count just after this thread's latest change (0: none): a reader that sees
        a registry view older than that must wait for a newer one (it reads its own writes)."""
        return self._last_write.get(threading.get_ident(), 0)

    # -- writes -------------------------------------------------------------------------
    def import_file(self, path: Path, owner: str | None = None) -> ImportReport:
        """Validate the whole file, then upsert every work in one transaction (``import_specs``)."""
        from clearance.registry.document import load_registry_file  # YAML: only imports need it

        return self.import_specs(load_registry_file(path), str(path), owner)

    def import_specs(
        self, specs: list[WorkSpec], source: str, owner: str | None = None, *, keep_references: bool = False,
        by: dict[str, str] | None = None,
    ) -> ImportReport:
        """Upsert every work of a validated document (``source`` names it in errors) in one transaction.

        ``owner``, when given (a rights holder's tenant), must own every work in the document.
        ``keep_references``: a work already registered keeps its reference media. A document that
        cannot carry media (the HTTP API's) updates the rest of a work; read as the whole work, it
        would delete every still, clip and track, and copies of them would then pass. A work of a
        file without a ``references`` key keeps its media the same way (one document gives one work
        by either road); ``references: []`` removes them.
        """
        if owner is not None:
            owner = party_name(owner)
            foreign = sorted({s.owner for s in specs if s.owner != owner})
            if foreign:
                raise PermissionError(f"{source}: works owned by {', '.join(foreign)} cannot be imported by {owner}")
        stored = [[self.media.put(ref.path) for ref in spec.references] for spec in specs]
        shas = [[sha for sha, _ in refs] for refs in stored]
        report = ImportReport()
        replaced: set[str] = set()  # the stored media of works this import gives other references
        with self.sessions.begin() as session:
            changed: list[dict[str, str]] = []
            existing = {(w.owner, w.slug): w for w in session.scalars(
                select(Work).options(selectinload(Work.elements), selectinload(Work.references))
            )}
            for i, (spec, ref_shas) in enumerate(zip(specs, shas, strict=True)):
                work = existing.get((spec.owner, spec.slug))
                keep = keep_references or not spec.references_given
                known = {r.sha256 for r in work.references} if work is not None else set()  # before the upsert
                dropped: set[str] = set()
                if keep and work is not None:
                    _check_kept_references(work, spec, f"{source}: works[{i}]")
                elif work is not None:
                    dropped = known - set(ref_shas)
                    replaced |= dropped
                outcome = _upsert(session, work, spec, ref_shas, keep)
                setattr(report, outcome, getattr(report, outcome) + 1)
                # a stored copy replaced, or put back where it had gone, for a reference already registered
                repaired = sum(status == "repaired" or (status == "stored" and sha in known)
                               for sha, status in stored[i])
                report.repaired += bool(repaired)
                if outcome != "unchanged" or repaired:  # a rights holder reads when its media left the registry
                    changed.append({"owner": spec.owner, "id": spec.slug, "outcome": outcome, "policy": spec.policy,
                                    **({"references_dropped": len(dropped)} if dropped else {}),
                                    **({"references_repaired": repaired} if repaired else {})})
            if changed:
                _bump_revision(session)
        self._wrote()
        if changed:
            self._record("import", changed, owner, by, source=source)
        for spec, ref_shas in zip(specs, shas, strict=True):  # one a concurrent removal dropped meanwhile
            for ref, sha in zip(spec.references, ref_shas, strict=True):
                self.media.restore(sha, ref.path)
        self._drop_unused(replaced)
        return report

    def remove(self, slug: str, owner: str | None = None) -> list[tuple[str, str]]:
        """Remove a work; ``owner`` must be given when several owners use that id."""
        with self.sessions.begin() as session:
            works = self._require(session, slug, owner)
            removed = [(w.owner, w.slug) for w in works]
            # the licences go with the work: the log says so, or it would read as if they were still held
            licensees = [_licensees(session, w.pk) for w in works]
            stored = {r.sha256 for w in works for r in w.references}
            for work in works:
                session.delete(work)
            _bump_revision(session)
        self._wrote()
        self._drop_unused(stored)
        self._record("remove", [{"owner": o, "id": w, **({"licences_ended": held} if held else {})}
                                for (o, w), held in zip(removed, licensees, strict=True)], None)
        return removed

    def _drop_unused(self, shas: set[str]) -> None:
        """Delete the stored media among ``shas`` that no work refers to any more: a rights holder
        withdrawing a work, or replacing a still, expects the copies in the home gone too (they
        stayed). Several works may share one file, so only an unreferenced one goes. An import
        running at the same time puts its files back after its commit (``MediaStore.restore``)."""
        if not shas:
            return
        with self.sessions() as session:
            used = set(session.scalars(select(Reference.sha256).where(Reference.sha256.in_(sorted(shas)))))
        for sha in shas - used:
            self.media.drop(sha)

    def grant_licence(self, tenant: str, slug: str, owner: str | None = None) -> bool:
        """Whether a licence was granted (False: the tenant held it already). A tenant no key could be
        issued to (``check_tenant``: blank, or with control characters) is refused."""
        tenant = check_tenant(tenant)
        granted: list[tuple[str, str]] = []
        with self.sessions.begin() as session:
            for work in self._require(session, slug, owner):
                exists = session.scalar(select(Licence).where(Licence.tenant == tenant, Licence.work_pk == work.pk))
                if exists is None:
                    session.add(Licence(tenant=tenant, work_pk=work.pk))
                    granted.append((work.owner, work.slug))
        self._wrote()
        if granted:
            self._record("licence granted", [{"owner": o, "id": w} for o, w in granted], tenant, licensee=tenant)
        return bool(granted)

    def revoke_licence(self, tenant: str, slug: str, owner: str | None = None) -> bool:
        """Whether a licence was revoked (False: the tenant held none)."""
        tenant = check_tenant(tenant)
        with self.sessions.begin() as session:
            works = self._require(session, slug, owner)
            gone = session.execute(delete(Licence).where(Licence.tenant == tenant,
                                                         Licence.work_pk.in_([w.pk for w in works])))
            revoked = [(w.owner, w.slug) for w in works]
        self._wrote()
        if gone.rowcount:
            self._record("licence revoked", [{"owner": o, "id": w} for o, w in revoked], tenant, licensee=tenant)
        return bool(gone.rowcount)

    # -- reads --------------------------------------------------------------------------
    # Reads go through the tables' Core columns rather than the ORM classes: no ORM compilation
    # or mapper set-up (~0.1 s of a new process), and no objects per row.
    def revision(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(_REVISION.revision)) or 0

    def is_empty(self) -> bool:
        """No work registered: every verdict against this registry is ``allow``."""
        with self.sessions() as session:
            return session.scalar(select(_WORK.pk).limit(1)) is None

    def snapshot(self) -> RegistrySnapshot:
        """The current registry state: revision, fingerprint and policies now, works on first use."""
        with self.sessions() as session:
            revision = session.scalar(select(_REVISION.revision)) or 0
            rows = session.execute(select(_WORK.owner, _WORK.slug, _WORK.policy, _WORK.content_hash)
                                   .order_by(_WORK.pk)).all()
        if any(content is None for *_, content in rows):  # rows written before hashes were kept
            return RegistrySnapshot(revision, self._read_works())
        return RegistrySnapshot(
            revision, fingerprint=registry_fingerprint((owner, slug, content) for owner, slug, _, content in rows),
            policies={(owner, slug): policy for owner, slug, policy, _ in rows}, read_works=self._read_works,
        )

    def _read_works(self) -> tuple[WorkView, ...]:
        """Every work as an immutable view (plain column reads: 10k works load in about a second,
        where ORM objects took 1.4 s)."""
        with self.sessions() as session:
            elements: dict[int, list[ElementView]] = {}
            for row in session.execute(select(_ELEMENT.work_pk, _ELEMENT.role, _ELEMENT.name, _ELEMENT.aliases,
                                              _ELEMENT.description).order_by(_ELEMENT.pk)):
                elements.setdefault(row[0], []).append(ElementView(row[1], row[2], tuple(row[3]), row[4]))
            references: dict[int, list[ReferenceView]] = {}
            for row in session.execute(select(_REFERENCE.work_pk, _REFERENCE.kind, _REFERENCE.sha256,
                                              _REFERENCE.source_name, _REFERENCE.element).order_by(_REFERENCE.pk)):
                view = ReferenceView(row[1], row[2], self.media.path_for(row[2]), row[3], row[4])
                references.setdefault(row[0], []).append(view)
            works = session.execute(select(_WORK.pk, _WORK.slug, _WORK.owner, _WORK.title, _WORK.kind, _WORK.policy,
                                           _WORK.aliases, _WORK.descriptions).order_by(_WORK.pk)).all()
        return tuple(
            WorkView(slug=w[1], owner=w[2], title=w[3], kind=w[4], policy=w[5], aliases=tuple(w[6]),
                     descriptions=tuple(w[7]), elements=tuple(elements.get(w[0], ())),
                     references=tuple(references.get(w[0], ())))
            for w in works
        )

    def works(self, owner: str | None = None) -> list[WorkView]:
        return [w for w in self.snapshot().works if owner is None or w.owner == party_name(owner)]

    def get(self, slug: str, owner: str | None = None) -> list[WorkView]:
        found = [w for w in self.works(owner) if w.slug == slug]
        if not found:
            raise UnknownWorkError(f"unknown work {slug!r}" + (f" for owner {owner!r}" if owner else ""))
        return found

    def licensees(self, slug: str, owner: str) -> list[str]:
        """The tenants licensed for one work (``registry show``)."""
        with self.sessions() as session:
            return _licensees(session, session.scalars(_work_query(slug, owner)).one().pk)

    def licensed_works(self, tenant: str) -> set[tuple[str, str]]:
        with self.sessions() as session:
            rows = session.execute(
                select(Work.owner, Work.slug).join(Licence, Licence.work_pk == Work.pk)
                .where(Licence.tenant == party_name(tenant))
            ).all()
            return {(owner, slug) for owner, slug in rows}

    @staticmethod
    def _require(session: Session, slug: str, owner: str | None) -> list[Work]:
        """The one work a change is about: a removal or a licence from one owner must not reach
        another owner's work that shares its id."""
        works = list(session.scalars(_work_query(slug, owner)).all())
        if not works:
            raise UnknownWorkError(f"unknown work {slug!r}" + (f" for owner {owner!r}" if owner else ""))
        if len(works) > 1:
            owners = ", ".join(sorted(w.owner for w in works))
            raise AmbiguousWorkError(f"work {slug!r} is registered by several owners ({owners}): name the owner")
        return works


_WORK, _ELEMENT, _REFERENCE = Work.__table__.c, Element.__table__.c, Reference.__table__.c
_REVISION = RegistryRevision.__table__.c


def _work_query(slug: str, owner: str | None):
    query = select(Work).where(Work.slug == slug)
    return query if owner is None else query.where(Work.owner == party_name(owner))


def _spec_state(spec: WorkSpec, ref_shas: list[str]) -> dict[str, Any]:
    return {
        "title": spec.title, "kind": spec.kind, "policy": spec.policy, "aliases": spec.aliases,
        "descriptions": spec.descriptions,
        "elements": [(e.role, e.name, e.aliases, e.description) for e in spec.elements],
        "references": [(r.kind, sha, r.path.name, r.element) for r, sha in zip(spec.references, ref_shas, strict=True)],
    }


def _check_kept_references(work: Work, spec: WorkSpec, where: str) -> None:
    """A kept reference must still show a character or element of the work, as the file importer
    requires of every reference: one whose character a document renamed or removed went on naming it
    in every verdict it gave, as evidence of something the registry no longer holds."""
    names = {e.name for e in spec.elements}
    for ref in work.references:
        if ref.element is not None and ref.element not in names:
            from clearance.registry.document import RegistryFileError  # YAML: only imports need it

            raise RegistryFileError(
                f"{where}.characters: the registered reference {ref.source_name!r} shows {ref.element!r}, which this "
                "document no longer has; keep that name, or import the work with its references from a file")


def _upsert(session: Session, work: Work | None, spec: WorkSpec, ref_shas: list[str], keep_references: bool) -> str:
    state = _spec_state(spec, ref_shas)
    if keep_references and work is not None:
        state["references"] = content_state(work)["references"]
    if work is not None and content_state(work) == state:
        work.content_hash = work.content_hash or work_content_hash(state)
        return "unchanged"
    outcome = "updated" if work is not None else "created"
    if work is None:
        work = Work(owner=spec.owner, slug=spec.slug)
        session.add(work)
    work.title, work.kind, work.policy = spec.title, spec.kind, spec.policy
    work.aliases, work.descriptions = list(spec.aliases), list(spec.descriptions)
    work.elements = [Element(role=r, name=n, aliases=list(a), description=d) for r, n, a, d in state["elements"]]
    work.references = [Reference(kind=k, sha256=s, source_name=n, element=e) for k, s, n, e in state["references"]]
    work.content_hash = work_content_hash(state)
    return outcome


def _bump_revision(session: Session) -> None:
    row = session.scalar(select(RegistryRevision).with_for_update())
    if row is None:
        session.add(RegistryRevision(pk=1, revision=1))
    else:
        row.revision += 1


def _licensees(session: Session, work_pk: int) -> list[str]:
    return sorted(session.scalars(select(Licence.tenant).where(Licence.work_pk == work_pk)))
