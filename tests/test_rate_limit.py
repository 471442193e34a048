"""Per-key token buckets (``clearance.service.rate_limit``)."""

from __future__ import annotations

import hashlib
import time
from itertools import count

import pytest

from clearance.service.errors import ApiError
from clearance.service.rate_limit import PROBES, SLOTS, RateLimiter, prompt_cost


def allowed(limiter: RateLimiter, key_id: str) -> bool:
    try:
        limiter.check(key_id)
    except ApiError as exc:
        assert exc.status == 429 and exc.headers and int(exc.headers["Retry-After"]) >= 1
        return False
    return True


def test_a_bucket_refills_at_the_rate() -> None:
    limiter = RateLimiter(rate=50, burst=2)
    assert [allowed(limiter, "k") for _ in range(3)] == [True, True, False]
    time.sleep(0.05)  # 2.5 tokens at 50/s, capped at the burst
    assert [allowed(limiter, "k") for _ in range(3)] == [True, True, False]


def colliding_keys(n: int) -> list[str]:
    """``n`` key ids whose slots all start at the same place (they fight over the same probes)."""
    def start(key: str) -> int:
        return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=16).digest()[:8], "little") % SLOTS

    wanted = start("key-0")
    found = ["key-0"]
    for i in count(1):
        if start(f"key-{i}") == wanted:
            found.append(f"key-{i}")
            if len(found) == n:
                return found
    raise AssertionError


def test_a_full_neighbourhood_reuses_the_slot_refilled_longest_ago() -> None:
    limiter = RateLimiter(rate=0.001, burst=1)
    *crowd, newcomer = colliding_keys(PROBES + 1)
    assert all(allowed(limiter, key) for key in crowd)
    assert not any(allowed(limiter, key) for key in crowd)  # every probed slot is taken and spent
    assert allowed(limiter, newcomer)  # a key is never refused for want of a slot
    assert not allowed(limiter, crowd[1])  # still its own slot, still spent
    assert allowed(limiter, crowd[0])  # its slot went to the newcomer: it starts again from a full bucket


@pytest.mark.parametrize("key_id", ["", "é" * 300, "\x00"])
def test_any_key_id_gets_a_bucket(key_id: str) -> None:
    limiter = RateLimiter(rate=0.001, burst=1)
    assert allowed(limiter, key_id) and not allowed(limiter, key_id)


def test_a_refusal_says_when_a_token_is_back() -> None:
    limiter = RateLimiter(rate=0.25, burst=1)
    limiter.check("k")
    with pytest.raises(ApiError) as refused:
        limiter.check("k")
    assert refused.value.headers == {"Retry-After": "4"}  # one token every 4 s


def test_a_long_prompt_costs_in_proportion_to_its_length() -> None:
    """One token per request, plus one per 100 characters of prompt past the first 500; a cost above
    the burst is the burst (a full bucket always lets one request in)."""
    assert [prompt_cost("a" * n) for n in (0, 500, 501, 600, 20_000)] == [0, 0, 1, 1, 195]
    assert prompt_cost("a" * 400, "b" * 400) == 3 and prompt_cost("a" * 400, None) == 0  # negative prompt too
    limiter = RateLimiter(rate=0.001, burst=10)
    limiter.check("k", 8)
    with pytest.raises(ApiError) as refused:
        limiter.check("k", 3)
    assert refused.value.status == 429 and "costs 3" in refused.value.message
    assert allowed(limiter, "k") and allowed(limiter, "k") and not allowed(limiter, "k")
    limiter.check("fresh", 1_000)  # capped at the burst
    assert not allowed(limiter, "fresh")
