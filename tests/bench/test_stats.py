import math

import pytest

from bench.durable import _ms
from bench.stats import LatencySummary, percentile, rate, ratio


def test_percentile_is_nearest_rank_so_every_figure_is_an_observed_value() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0


def test_percentile_of_few_values_rounds_the_rank_up() -> None:
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([3.0, 1.0, 2.0], 0.99) == 3.0
    assert percentile([7.0], 0.01) == 7.0


def test_percentile_of_nothing_is_nan_not_zero() -> None:
    assert math.isnan(percentile([], 0.5))


@pytest.mark.parametrize("q", [0.0, -0.1, 1.5])
def test_percentile_rejects_a_quantile_outside_zero_to_one(q: float) -> None:
    with pytest.raises(ValueError, match="quantile"):
        percentile([1.0], q)


def test_latency_summary_is_in_milliseconds() -> None:
    summary = LatencySummary.of_seconds([0.010, 0.020, 0.030, 0.040, 1.5])
    assert summary == LatencySummary(count=5, p50_ms=30.0, p95_ms=1500.0, p99_ms=1500.0, max_ms=1500.0)


def test_ratio_to_the_floor() -> None:
    assert ratio(300.0, 100.0) == 3.0
    assert ratio(50.0, 200.0) == 0.25
    assert math.isnan(ratio(10.0, 0.0))
    assert math.isnan(ratio(10.0, math.nan))
    assert math.isnan(ratio(math.nan, 10.0))


def test_rate_per_second() -> None:
    assert rate(200, 8.0) == 25.0
    assert math.isnan(rate(5, 0.0))


def test_a_ramp_spreads_users_evenly_and_no_ramp_means_all_at_once() -> None:
    from bench.load import start_delays

    assert start_delays(4, 2.0) == [0.0, 0.5, 1.0, 1.5]
    assert start_delays(3, 0.0) == [0.0, 0.0, 0.0]
    assert start_delays(0, 5.0) == []


def test_the_durable_benchmark_uses_the_same_nearest_rank_percentile() -> None:
    seconds = [0.001, 0.002, 0.003, 0.004]
    # Nearest rank: the median of four is the second value (the old index-based pick gave the third).
    assert _ms(seconds, 0.5) == round(percentile(seconds, 0.5) * 1000, 2) == 2.0
    assert math.isnan(_ms([], 0.95))
