import os
import subprocess
import sys
import time

from bench.processes import cpu_seconds, parse_cpu_seconds, parse_vm_hwm, peak_memory_mb
from bench.report import render
from bench.system import _difference, _per_item_ms

STATUS = """Name:\tpython
VmPeak:\t  400000 kB
VmHWM:\t   51200 kB
VmRSS:\t   40000 kB
"""


def test_peak_memory_is_vm_hwm_in_megabytes() -> None:
    assert parse_vm_hwm(STATUS) == 50.0
    assert parse_vm_hwm("VmRSS:\t 1 kB\n") is None
    assert parse_vm_hwm("VmHWM:\t lots kB\n") is None


def test_peak_memory_of_this_process_is_read_from_proc() -> None:
    mine = peak_memory_mb(os.getpid())
    assert mine is not None and mine > 1.0
    assert peak_memory_mb("self") is not None


def test_peak_memory_of_a_gone_process_is_none() -> None:
    assert peak_memory_mb(2**22 + 12345) is None


def test_cpu_seconds_from_proc_stat_are_utime_plus_stime_in_ticks() -> None:
    # A command name with spaces and a parenthesis, as the kernel allows.
    stat = "42 (a (b) c) S 1 42 42 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0 100 1000 10"
    assert parse_cpu_seconds(stat, 100) == 3.0


def test_cpu_seconds_are_read_to_well_under_a_clock_tick() -> None:
    # The small bench runs measure a few milliseconds of CPU; /proc/<pid>/stat would round them to 10 ms ticks.
    burn_until = time.process_time() + 0.003
    while time.process_time() < burn_until:
        pass
    before = time.process_time()
    measured = cpu_seconds(os.getpid())
    after = time.process_time()
    assert measured is not None and before <= measured <= after


# Burns CPU until its own clock shows 50 ms, says how much it has used, then waits for its standard input to close.
BURNER = """
import sys, time
while time.process_time() < 0.05:
    pass
print(time.process_time(), flush=True)
sys.stdin.read()
"""


def test_cpu_seconds_of_another_process_count_all_its_work() -> None:
    child = subprocess.Popen([sys.executable, "-c", BURNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        reported = float(child.stdout.readline())
        measured = cpu_seconds(child.pid)
        # At least what the child had used when it said so; it has done little more since (print, then wait).
        assert measured is not None and reported <= measured < reported + 1.0
    finally:
        child.communicate("")


def test_a_few_milliseconds_of_cpu_over_a_few_turns_are_reported_not_rounded_away() -> None:
    # The tuned echo bot's six turns of a 3-user run: 4 ms in all, 0.67 ms a turn (rounding the 4 ms first gave 0).
    assert _per_item_ms([_difference(12.004, 12.0)], 6) == 0.67
    assert _per_item_ms([_difference(None, 12.0)], 6) is None


def test_cpu_seconds_of_a_gone_process_are_none() -> None:
    assert cpu_seconds(2**22 + 12345) is None


def _summary(p50: float) -> dict[str, float]:
    return {"count": 3, "p50_ms": p50, "p95_ms": p50 * 2, "p99_ms": p50 * 3, "max_ms": p50 * 4}


def test_the_table_shows_latencies_ratios_delivery_and_memory() -> None:
    result = {
        "settings": {"users": 3, "operation_seconds": 5.0, "steps": 2},
        "machine": {"cpus": 2, "load_average_before": [0.5, 0.4, 0.3], "note": "shared machine"},
        "system": {
            "start_turn": _summary(40.0), "busy_turn": _summary(20.0), "overhead": _summary(300.0),
            "overhead_from_option": _summary(900.0), "overhead_after_ack": _summary(250.0),
            "operations_per_second": 12.5,
            "delivery": {"users": 3, "delivered": 2, "lost": 1, "duplicated": 0, "misrouted": 0,
                         "instance_faults": 0, "user_errors": 0, "faults": 1,
                         "examples": ["c: its result never arrived"]},
            "peak_memory_mb": {"bot": 80.5},
        },
        "echo": {"bare": {"start_turn": _summary(20.0), "busy_turn": _summary(10.0), "user_errors": 0,
                          "peak_memory_mb": {"echo bot (bare)": 60.0}}},
        "start_turn_ratio_to_echo": {"bare": {"p50": 2.0, "p95": 2.0, "p99": 2.0}},
        "targets": {"zero_lost_duplicated_misrouted": False},
    }
    text = render(result)
    assert "3 concurrent users" in text
    row = next(line for line in text.splitlines() if line.startswith("start turn"))
    assert row.split()[-5:] == ["3", "40.0", "80.0", "120.0", "160.0"]
    overhead = next(line for line in text.splitlines() if line.startswith("completion overhead (from start)"))
    assert overhead.split()[-4:] == ["300.0", "600.0", "900.0", "1200.0"]
    assert "the same from the option message" in text
    assert "echo bot (bare): start turn" in text
    assert "start-turn ratio to echo: bare p50 2.0, p95 2.0, p99 2.0" in text
    assert "delivered 2 of 3: lost 1" in text
    assert "bot 80.5, echo bot (bare) 60.0" in text
    assert "problem: c: its result never arrived" in text
    assert "zero_lost_duplicated_misrouted False" in text
