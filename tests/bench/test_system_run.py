"""Small real runs of the benchmarks: the stack, the users, the echo floors and every figure they report."""

import math

import pytest

from bench.durable import _run_with_host
from bench.steps import FLAT_WITHIN, flat
from bench.steps import run as run_steps
from bench.system import RunOptions, run
from bench.workload import choose

# Slow (whole-system runs, headless Chromium, several processes): `make pytest-slow`, which CI runs too.
pytestmark = pytest.mark.slow


def test_a_small_run_reports_every_figure_and_a_clean_delivery() -> None:
    users = 3
    result = run(RunOptions(users=users, operation_seconds=0.5, steps=2, timeout=60.0, echo=True, keep_dir=None))

    system = result["system"]
    assert system["delivery"]["faults"] == 0 and system["delivery"]["user_errors"] == 0
    assert system["delivery"]["delivered"] == users
    for name in ("start_turn", "busy_turn", "overhead", "overhead_from_option", "overhead_after_ack"):
        summary = system[name]
        assert summary["count"] == users, name
        assert not math.isnan(summary["p99_ms"]), name
    # From the operation's start (its ExecutionStarted) the wait is shorter than from the option message.
    assert system["overhead"]["p50_ms"] <= system["overhead_from_option"]["p50_ms"]
    assert set(system["peak_memory_mb"]) == {"functions", "directline", "bot", "load generator"}
    assert all(value is not None and value > 0 for value in system["peak_memory_mb"].values())
    assert set(system["cpu_seconds"]) == {"functions", "directline", "bot", "load generator"}
    assert system["operations_per_second"] > 0
    assert set(result["echo"]) == {"bare", "tuned"}
    assert all(result["echo"][variant]["start_turn"]["count"] == users for variant in ("bare", "tuned"))
    assert set(result["start_turn_ratio_to_echo"]["bare"]) == {"p50", "p95", "p99"}
    assert result["targets"]["zero_lost_duplicated_misrouted"] is True
    assert result["targets"]["start_turn_p99_within_3x_echo"] in (True, False)
    assert system["bot_cpu_ms_per_operation"] > 0
    assert all(result["echo"][variant]["cpu_ms_per_turn"] > 0 for variant in ("bare", "tuned"))


def test_a_small_run_on_two_bot_instances_behind_haproxy_delivers_each_outcome_once() -> None:
    users = 4
    result = run(RunOptions(users=users, operation_seconds=0.5, steps=1, timeout=60.0, echo=False, keep_dir=None,
                            bots=2))

    system = result["system"]
    assert system["delivery"]["faults"] == 0 and system["delivery"]["user_errors"] == 0
    assert system["delivery"]["delivered"] == users
    assert set(system["cpu_seconds"]) == {"functions", "directline", "bot-1", "bot-2", "balancer", "load generator"}
    assert system["bot_cpu_ms_per_operation"] > 0
    assert result["settings"]["bots"] == 2


def test_a_run_of_an_operation_with_an_input_and_a_card_result_delivers_each_users_card() -> None:
    # count primes asks for its limit first and answers with an Adaptive Card: each user must get exactly that card.
    workload = tuple(choose(["count primes", "option 2"], {"limit": 3000}))
    result = run(RunOptions(users=2, operation_seconds=0.5, steps=2, timeout=60.0, echo=False, keep_dir=None,
                            workload=workload))

    delivery = result["system"]["delivery"]
    assert (delivery["delivered"], delivery["faults"], delivery["user_errors"]) == (2, 0, 0), delivery["examples"]
    assert result["settings"]["operations"] == ["count primes (limit=3000)", "option 2"]
    assert result["system"]["start_turn"]["count"] == 2


def test_a_small_durable_run_reports_each_scenario() -> None:
    scenarios = _run_with_host(count=20, in_flight=5, sequential=3, rate=20.0)

    assert [s.orchestrations for s in scenarios] == [3, 60, 20]
    for scenario in scenarios:
        assert scenario.per_second > 0 and scenario.seconds > 0, scenario.name
        assert 0 <= scenario.hop_p50_ms <= scenario.hop_p95_ms <= scenario.hop_max_ms, scenario.name


def test_a_small_steps_run_reports_each_size_with_its_ratio() -> None:
    figures = run_steps([5, 20], wait_seconds=120.0)

    assert [f.steps for f in figures] == [5, 20]
    assert all(f.runtime_status == "Completed" for f in figures)
    for figure in figures:
        # Each figure is rounded from the unrounded measurement: close to the one computed from the rounded seconds.
        # seconds has 3 decimals (half a millisecond of rounding over the steps), per_step_ms 2, ratio 2.
        assert figure.seconds > 0
        assert figure.per_step_ms == pytest.approx(figure.seconds / figure.steps * 1000,
                                                   abs=0.5 / figure.steps + 0.005)
    assert figures[0].ratio == 1.0
    shown = figures[1].per_step_ms / figures[0].per_step_ms
    rounding = 0.005 + shown * (0.005 / figures[1].per_step_ms + 0.005 / figures[0].per_step_ms)
    assert figures[1].ratio == pytest.approx(shown, abs=rounding + 1e-9)
    assert flat(figures) is (abs(figures[1].ratio - 1.0) <= FLAT_WITHIN)
