"""Pure figures of a benchmark run: percentiles, summaries of latencies, ratios. No I/O, so tests pin them."""

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-quantile (0 < q <= 1): the smallest value with a share ``q`` of the values at or below it.

    Nearest rank rather than interpolation: every figure reported is a latency some user really saw.
    NaN for no values, so an empty series shows as such instead of as a flattering zero.
    """
    if not 0 < q <= 1:
        raise ValueError(f"the quantile must be in (0, 1], got {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = math.ceil(q * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class LatencySummary:
    """Milliseconds, rounded to 0.1 ms."""

    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of_seconds(cls, seconds: Sequence[float]) -> "LatencySummary":
        def ms(q: float) -> float:
            return round(percentile(seconds, q) * 1000, 1)

        return cls(len(seconds), ms(0.5), ms(0.95), ms(0.99), ms(1.0))


def ratio(ours: float, floor: float) -> float:
    """How many times the floor ``ours`` is (2 decimals); NaN when the floor is not a positive number."""
    if not floor > 0 or math.isnan(ours):
        return math.nan
    return round(ours / floor, 2)


def rate(count: int, seconds: float) -> float:
    """Events per second over a window (1 decimal); NaN for an empty window."""
    if seconds <= 0:
        return math.nan
    return round(count / seconds, 1)
