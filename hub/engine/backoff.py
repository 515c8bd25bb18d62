"""Retry delays: exponential backoff with full jitter, never sooner than the server asked."""

from __future__ import annotations

import random


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

    Full jitter: uniform in ``[0, min(cap, base * 2**(attempt-1))]``, so many records failing
    together spread out instead of returning as a herd. A server's ``Retry-After`` is a floor.
    """
    rng = rng or random
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    delay = rng.uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
