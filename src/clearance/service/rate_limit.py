"""Per-key rate limits (token buckets), kept by the server's one HTTP process.

Every request passes through that process (screening runs in its pool, ``service.pool``), so one
table of buckets sees all of a key's requests, however many screening processes there are. The
table has a fixed number of slots, so its memory does not grow with the number of keys.

A slot is (key digest, tokens, time of last refill), read, refilled and written under a lock
(auth runs on the request threads).
"""

from __future__ import annotations

import hashlib
import math
import struct
import threading
import time

from clearance.service.errors import ApiError
from clearance.settings import env_number

RATE_PER_S = env_number("CLEARANCE_RATE_PER_S", 200)
BURST = env_number("CLEARANCE_RATE_BURST", 400)
SLOTS = 4096
PROBES = 8
"""Slots looked at for a key (open addressing). With more live keys than fit, the probed slot
refilled longest ago is reused: that key starts again from a full bucket."""
SLOT = struct.Struct("<16sdd")
TABLE_BYTES = SLOTS * SLOT.size


FREE_PROMPT_CHARS, PROMPT_CHARS_PER_TOKEN = 500, 100
"""A prompt up to 500 characters is one request; each 100 characters more cost a token more. A
screening's work grows with its length (the description layer reads a long prompt in windows),
so a 20,000-character prompt, up to 6 s of CPU in a slow hour (``bench_prompts.py``) against
~5-10 ms for a usual one, costs 196 tokens, not one: a key cannot buy hundreds of times its
share of the cores at its request rate."""


def prompt_cost(*texts: str | None) -> float:
    """Tokens a prompt screening costs beyond the request's own (``FREE_PROMPT_CHARS``)."""
    chars = sum(len(t) for t in texts if t)
    return max(0, math.ceil((chars - FREE_PROMPT_CHARS) / PROMPT_CHARS_PER_TOKEN))


class RateLimiter:
    """A token bucket per API key: ``rate`` requests/s on average, bursts of up to ``burst``."""

    def __init__(self, rate: float = RATE_PER_S, burst: float = BURST) -> None:
        self.rate, self.burst = rate, burst
        self._lock = threading.Lock()
        self._slots = bytearray(TABLE_BYTES)

    def check(self, key_id: str, cost: float = 1.0) -> None:
        """Take ``cost`` tokens (one per request, more for a long prompt: ``prompt_cost``) from the
        key's bucket, or refuse the request with 429. A cost above the burst is the burst, so a
        full bucket always lets one request in."""
        cost = min(cost, self.burst)
        digest = hashlib.blake2b(key_id.encode(), digest_size=16).digest()
        with self._lock:
            offset = self._slot_of(digest)
            stored, tokens, last = SLOT.unpack_from(self._slots, offset)
            now = time.monotonic()
            tokens = self.burst if stored != digest else min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= cost
            SLOT.pack_into(self._slots, offset, digest, tokens - cost if allowed else tokens, now)
        if not allowed:  # Retry-After: whole seconds until the bucket holds the cost again
            wait = math.ceil((cost - tokens) / self.rate) if self.rate > 0 else 3600
            costs = f" (this request costs {cost:g}: a long prompt counts as several)" if cost > 1 else ""
            raise ApiError(429, f"rate limit of {self.rate:g} requests/s exceeded for this key{costs}",
                           headers={"Retry-After": str(max(1, wait))})

    def surcharge(self, key_id: str, extra: float) -> None:
        """Take a long prompt's ``extra`` tokens (``prompt_cost``) after the request's own one, or
        refuse it with 429. ``extra`` is capped at what a full bucket holds once that token is
        taken: uncapped, a prompt of over ~40,000 characters cost more than the bucket can ever
        hold, and was refused for good even on an idle key. Capped, it empties the bucket."""
        self.check(key_id, min(extra, max(0.0, self.burst - 1)))

    def _slot_of(self, digest: bytes) -> int:
        """Offset of the key's slot: its own, else a free one, else the one refilled longest ago."""
        start = int.from_bytes(digest[:8], "little") % SLOTS
        oldest, oldest_time = 0, float("inf")
        for probe in range(PROBES):
            offset = ((start + probe) % SLOTS) * SLOT.size
            stored, _, last = SLOT.unpack_from(self._slots, offset)
            if stored == digest or not any(stored):
                return offset
            if last < oldest_time:
                oldest, oldest_time = offset, last
        return oldest
