"""Service API keys: created once, shown once, stored only as SHA-256 hashes.

A key is ``clr_<key id>_<secret>``; the key id lets operators list and revoke keys without
ever seeing a secret again. Roles say what a key may do (``ROLES``); tenants say whose data.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clearance.db.tables import TENANT_CHARS, ApiKey
from clearance.safe_text import terminal_safe
from clearance.text.normalize import ZERO_WIDTH, invisible_shown

ROLES = ("admin", "rights_holder", "screener", "auditor")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id, the tenant and the role."""

    key_id: str
    tenant: str
    role: str


class UnknownKeyError(LookupError):
    pass


def key_hash(key: str) -> str:
    """The only form in which a key is stored (and cached)."""
    return hashlib.sha256(key.encode()).hexdigest()


ODD_SPACE = re.compile(r"[^\S ]| {2,}|^ | $")
"""Spaces a reader cannot tell from a plain one ("acme\u00a0video", "acme  video"), or at either end."""
UNCLEAR = "must not hold invisible characters or spaces other than single plain ones between words"


def unclear(name: str) -> bool:
    """Whether a tenant's or owner's name holds what a reader cannot see or tell apart (``UNCLEAR``):
    such names made parties that look the same ("acme" and "acme" with a zero-width space or a
    no-break space; verify passes, 2026-12-08)."""
    return bool(ZERO_WIDTH.search(name) or ODD_SPACE.search(name))


def shown_plainly(name: str) -> str:
    """``name`` with what ``unclear`` objects to written as ``\\u`` escapes, for the refusal."""
    return ODD_SPACE.sub(lambda found: "".join(f"\\u{ord(c):04x}" for c in found[0]), invisible_shown(name))


def party_name(name: str) -> str:
    """A tenant's or an owner's name (one party: a rights holder's tenant is its owner name) in
    Unicode's composed form, NFC, however its accents were typed: "Amélie Films" with a combining
    accent was a second owner that looked the same, and its key saw none of the first's works."""
    return unicodedata.normalize("NFC", name)


def check_tenant(tenant: str) -> str:
    """``tenant`` as stored (``party_name``) if it can name a platform tenant: not blank, no control
    or text-direction characters, which reached the terminal raw in ``keys list``, licence messages
    and audit headers (a black-box pass, 2026-12-07), and none that shows as nothing or spaces
    around it, which made tenants that look alike ("acme" and "acme" with a zero-width space: a
    verify pass, 2026-12-08: ``unclear``). Raises ``ValueError`` otherwise."""
    if not tenant.strip():
        raise ValueError("tenant must not be empty")
    if len(tenant) > TENANT_CHARS:  # PostgreSQL refused it with a traceback, SQLite stored it (a QA pass)
        raise ValueError(f"tenant longer than {TENANT_CHARS} characters")
    if terminal_safe(tenant) != tenant or "\t" in tenant:
        raise ValueError(f"tenant must be printable text, without control or direction characters: "
                         f"{terminal_safe(tenant)!r}")
    if unclear(tenant):
        raise ValueError(f"tenant {UNCLEAR}: '{shown_plainly(tenant)}'")
    return party_name(tenant)


class KeyStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def create(self, tenant: str, role: str) -> tuple[str, str]:
        """(key id, full key). The full key is not stored and cannot be shown again."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        tenant = check_tenant(tenant)
        key_id = secrets.token_hex(6)
        key = f"clr_{key_id}_{secrets.token_urlsafe(24)}"
        with self.sessions.begin() as session:
            session.add(ApiKey(key_id=key_id, key_hash=key_hash(key), tenant=tenant, role=role))
        return key_id, key

    def list(self) -> list[ApiKey]:
        with self.sessions() as session:
            return list(session.scalars(select(ApiKey).order_by(ApiKey.pk)))

    def revoke(self, key_id: str) -> None:
        with self.sessions.begin() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
            if row is None:
                raise UnknownKeyError(f"unknown key id {key_id!r}")
            row.revoked_at = datetime.now(UTC)

    def authenticate(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None otherwise (constant-time hash compare)."""
        parts = key.split("_")
        if len(parts) < 3 or parts[0] != "clr":
            return None
        with self.sessions() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_id == parts[1]))
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, key_hash(key)):
            return None
        return Principal(row.key_id, row.tenant, row.role)
