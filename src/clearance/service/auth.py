"""Who is calling: bearer API keys, resolved through a short-lived cache, and role checks.

Every request carries a key; looking it up in the database each time cost ~0.3 ms of the
request budget and one connection per request. Lookups (found or not) are cached for
``KEY_CACHE_S`` seconds, so a revoked key stops working within that time in every worker.
"""

# no `from __future__ import annotations`: FastAPI must evaluate `Depends(self.principal)` as written
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clearance.keys import KeyStore, Principal, key_hash
from clearance.service.errors import ApiError
from clearance.service.rate_limit import RateLimiter
from clearance.settings import env_number

KEY_CACHE_S = env_number("CLEARANCE_KEY_CACHE_S", 2)
MAX_CACHED_KEYS = 10_000


class KeyCache:
    """``KeyStore.authenticate`` with a per-process TTL cache keyed by the key's hash."""

    def __init__(self, store: KeyStore, ttl_s: float = KEY_CACHE_S) -> None:
        self.store, self.ttl_s = store, ttl_s
        self.entries: dict[str, tuple[Principal | None, float]] = {}
        self.lock = threading.Lock()

    def authenticate(self, key: str) -> Principal | None:
        digest = key_hash(key)
        now = time.monotonic()
        cached = self.entries.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        found = self.store.authenticate(key)
        with self.lock:
            if len(self.entries) >= MAX_CACHED_KEYS:  # a flood of made-up keys must not grow memory
                self.entries.clear()
            self.entries[digest] = (found, now + self.ttl_s)
        return found


BEARER = HTTPBearer(auto_error=False, scheme_name="api_key",
                    description="A key from `clearance keys create`, sent as `Authorization: Bearer <key>`.")


class Auth:
    """FastAPI dependencies: ``principal`` (any valid key) and ``allow(*roles)``.

    ``keys`` is set when the app starts (it needs the database); until then nobody is let in.
    """

    def __init__(self) -> None:
        self.keys: KeyCache | None = None
        self.rate = RateLimiter()

    async def principal(
        self, bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None
    ) -> Principal:
        """Async on purpose: a sync dependency would cost a thread hop on every request; a cache miss
        blocks the loop for one indexed key lookup at most every ``KEY_CACHE_S``. The key comes from
        ``BEARER``, which also puts the scheme in the OpenAPI document (``/docs`` can then send one)."""
        key = bearer.credentials.strip() if bearer is not None else ""
        if not key:
            raise ApiError(401, "missing bearer API key")
        if self.keys is None:
            raise ApiError(503, "the service is starting")
        found = self.keys.authenticate(key)
        if found is None:
            raise ApiError(401, "invalid or revoked API key")
        self.rate.check(found.key_id)
        return found

    def allow(self, *roles: str) -> Callable[[Principal], Awaitable[Principal]]:
        async def check(who: Annotated[Principal, Depends(self.principal)]) -> Principal:
            if who.role not in roles:
                raise ApiError(403, f"role {who.role!r} may not do this")
            return who

        return check
