"""Per-key rate limits (token buckets) shared by every worker process of one server.

Why shared: ``clearance serve --workers N`` runs N processes, and a bucket per process let a key
make N times its limit, more or less depending on which worker the kernel handed each of its
connections. The buckets live in a small file that ``serve`` creates in the home before the
workers start and names in ``CLEARANCE_RATE_TABLE``; every worker maps it into memory. An app started without
one (in-process tests) maps an anonymous table of its own, so the same code runs either way.

A slot is (key digest, tokens, time of last refill). The time is ``CLOCK_MONOTONIC``, one clock
for every process of the machine. A slot is read, refilled and written under an exclusive
``flock`` on the file, which orders the workers, and a thread lock, which orders one worker's
threads (they share the file description, so ``flock`` alone would not).
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clearance.service.errors import ApiError

RATE_PER_S = float(os.environ.get("CLEARANCE_RATE_PER_S", 200))
BURST = float(os.environ.get("CLEARANCE_RATE_BURST", 400))
TABLE_ENV = "CLEARANCE_RATE_TABLE"
"""Path of the shared table, set by ``serve`` for its workers."""
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


def create_table(path: Path) -> Path:
    """Write an empty table (every slot free) for the workers to share."""
    path.write_bytes(bytes(TABLE_BYTES))
    return path


class RateLimiter:
    """A token bucket per API key: ``rate`` requests/s on average, bursts of up to ``burst``."""

    def __init__(self, table: Path | None = None, rate: float = RATE_PER_S, burst: float = BURST) -> None:
        self.rate, self.burst = rate, burst
        self._thread_lock = threading.Lock()
        if table is None and os.environ.get(TABLE_ENV):
            table = Path(os.environ[TABLE_ENV])
        self._fd: int | None = None
        if table is None:
            self._slots = mmap.mmap(-1, TABLE_BYTES)
        else:
            self._fd = os.open(table, os.O_RDWR)
            self._slots = mmap.mmap(self._fd, TABLE_BYTES)

    def check(self, key_id: str, cost: float = 1.0) -> None:
        """Take ``cost`` tokens (one per request, more for a long prompt: ``prompt_cost``) from the
        key's bucket, or refuse the request with 429. A cost above the burst is the burst, so a
        full bucket always lets one request in."""
        cost = min(cost, self.burst)
        digest = hashlib.blake2b(key_id.encode(), digest_size=16).digest()
        with self._locked():
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

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            if self._fd is None:
                yield
                return
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
