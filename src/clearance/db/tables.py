"""The relational schema. Alembic migrations under ``clearance/migrations`` create it.

Works own their characters/elements and references; names and descriptions are derived
from these rows when signals are indexed, so the registry holds each fact once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class LenientJSON(TypeDecorator):
    """JSON that reads back stored text that is not JSON as that text instead of raising: an audit
    entry's ``work_ids`` edited by hand into something else crashed ``audit verify`` with a
    traceback, where it must report the entry as edited (its hash no longer matches; a verify pass,
    2026-12-08). Only SQLite can hold such text: PostgreSQL refuses it in a json column."""

    impl = JSON
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        parse = self.impl_instance.result_processor(dialect, coltype)
        if parse is None:
            return None

        def lenient(value: Any) -> Any:
            try:
                return parse(value)
            except ValueError:
                return value

        return lenient


class Base(DeclarativeBase):
    pass


OWNER_CHARS = 200
"""Longest owner (a rights holder's name) and tenant: the registry import and ``check_tenant`` refuse
longer ones, which PostgreSQL refused with a traceback (SQLite stores any length; a QA pass)."""
TENANT_CHARS = OWNER_CHARS
TITLE_CHARS = NAME_CHARS = 500
"""Longest title, and name of a character or element."""


class Work(Base):
    __tablename__ = "works"
    __table_args__ = (UniqueConstraint("owner", "slug", name="uq_work_owner_slug"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(OWNER_CHARS), index=True)
    slug: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_CHARS))
    kind: Mapped[str] = mapped_column(String(20))
    policy: Mapped[str] = mapped_column(String(10))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    descriptions: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """SHA-256 of the work's content (``registry.views.work_content_hash``), set on every write: the
    registry's fingerprint is computed from these without reading the works' rows."""
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    elements: Mapped[list[Element]] = relationship(
        back_populates="work", cascade="all, delete-orphan", order_by="Element.pk"
    )
    references: Mapped[list[Reference]] = relationship(
        back_populates="work", cascade="all, delete-orphan", order_by="Reference.pk"
    )


class Element(Base):
    """A character or an iconic element (set, prop, costume, music) of a work."""

    __tablename__ = "elements"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_pk: Mapped[int] = mapped_column(ForeignKey("works.pk", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # character | element
    name: Mapped[str] = mapped_column(String(NAME_CHARS))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    work: Mapped[Work] = relationship(back_populates="elements")


class Reference(Base):
    """A reference medium, stored by content hash in the home's media store."""

    __tablename__ = "references"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_pk: Mapped[int] = mapped_column(ForeignKey("works.pk", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # image | video | audio
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    source_name: Mapped[str] = mapped_column(String(1000))
    element: Mapped[str | None] = mapped_column(String(NAME_CHARS), nullable=True)
    work: Mapped[Work] = relationship(back_populates="references")


class Licence(Base):
    """A platform tenant licensed for a work: its matches on that work become ``allow``."""

    __tablename__ = "licences"
    __table_args__ = (UniqueConstraint("tenant", "work_pk", name="uq_licence_tenant_work"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(TENANT_CHARS), index=True)
    work_pk: Mapped[int] = mapped_column(ForeignKey("works.pk", ondelete="CASCADE"), index=True)


class RegistryRevision(Base):
    """A single counter bumped by every registry change, so indexes know when they are stale."""

    __tablename__ = "registry_revision"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """One link of the hash chain: the verdict (or takedown record) and the previous hash."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    audit_id: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[str] = mapped_column(String(40))
    tenant: Mapped[str | None] = mapped_column(String(TENANT_CHARS), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    work_ids: Mapped[list[str]] = mapped_column(LenientJSON, default=list)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The newest entry's sequence number and hash, moved in the same transaction as each append,
    so deleting the newest entries (which leaves a shorter but valid chain) is still detected."""

    __tablename__ = "audit_head"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    entry_hash: Mapped[str] = mapped_column(String(64))


class ApiKey(Base):
    """A service API key, stored only as its SHA-256."""

    __tablename__ = "api_keys"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(40), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant: Mapped[str] = mapped_column(String(TENANT_CHARS))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
