"""The targets of issues 6 and 15 and the printed table of a system run."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.system import SystemFigures

RATIO_TARGET = 3.0
OVERHEAD_P99_TARGET_MS = 1000.0
# Issue 15 (several bot instances): start-turn p99 at most the bare echo bot's; overhead from the option under 2 s.
OVERHEAD_FROM_OPTION_P99_TARGET_MS = 2000.0


@dataclass(frozen=True)
class Targets:
    zero_lost_duplicated_misrouted: bool
    start_turn_p99_within_3x_echo: bool | None
    completion_overhead_p99_under_1s: bool
    start_turn_p99_at_most_bare_echo: bool | None
    overhead_from_option_p99_under_2s: bool

    @classmethod
    def of(cls, system: "SystemFigures", ratios: dict[str, float]) -> "Targets":
        p99_ratio = ratios.get("p99")
        within = None if p99_ratio is None or math.isnan(p99_ratio) else p99_ratio <= RATIO_TARGET
        overhead = system.overhead.p99_ms
        from_option = system.overhead_from_option.p99_ms
        return cls(
            zero_lost_duplicated_misrouted=system.delivery.faults == 0 and system.delivery.user_errors == 0,
            start_turn_p99_within_3x_echo=within,
            completion_overhead_p99_under_1s=not math.isnan(overhead) and overhead < OVERHEAD_P99_TARGET_MS,
            start_turn_p99_at_most_bare_echo=None if within is None else p99_ratio is not None and p99_ratio <= 1.0,
            overhead_from_option_p99_under_2s=not math.isnan(from_option)
            and from_option < OVERHEAD_FROM_OPTION_P99_TARGET_MS,
        )


def _latency_row(name: str, summary: dict[str, Any]) -> list[str]:
    return [name, str(summary["count"]), *(f"{summary[k]:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))]


def table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as aligned columns: the first left-aligned (names), the rest right-aligned (figures)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                               for i, cell in enumerate(row)) for row in rows)


def _arrival(ramp_seconds: float) -> str:
    return "all at once" if ramp_seconds <= 0 else f"arriving over {ramp_seconds:g} s"


def render(result: dict[str, Any]) -> str:
    system, echo, machine = result["system"], result["echo"], result["machine"]
    settings = result["settings"]
    rows = [["latency (ms)", "n", "p50", "p95", "p99", "max"],
            _latency_row("start turn (option -> 'one moment')", system["start_turn"]),
            _latency_row("busy turn (message -> progress)", system["busy_turn"]),
            _latency_row("completion overhead (from start)", system["overhead"]),
            _latency_row("  the same from the option message", system["overhead_from_option"]),
            _latency_row("  the same from the acknowledgement", system["overhead_after_ack"])]
    for variant, figures in echo.items():
        rows += [_latency_row(f"echo bot ({variant}): start turn", figures["start_turn"]),
                 _latency_row(f"echo bot ({variant}): second turn", figures["busy_turn"])]
    delivery = system["delivery"]
    memory = dict(system["peak_memory_mb"])
    for figures in echo.values():
        memory.update(figures["peak_memory_mb"])
    lines = [
        f"system benchmark, {settings['users']} concurrent users, operations of {settings['operation_seconds']:g} s "
        f"in {settings['steps']} steps, {_arrival(settings.get('ramp_seconds', 0.0))}"
        + (f", {settings['bots']} bot instances behind HAProxy" if settings.get("bots", 1) > 1 else "")
        + f"; {machine['cpus']} CPUs, load "
        f"average before "
        f"{machine['load_average_before'][0]:.2f} ({machine['note']})"
        + ("" if not settings.get("throttle") else f"; Direct Line stand-in throttled at {settings['throttle']} per "
           f"conversation: {system.get('throttled_posts', 0)} posts refused with 429"),
        "operations (round-robin): " + ", ".join(settings.get("operations", [])),
        "",
        table(rows),
        "",
        "start-turn ratio to echo: " + ("; ".join(
            f"{variant} " + ", ".join(f"{q} {value}" for q, value in ratios.items())
            for variant, ratios in result["start_turn_ratio_to_echo"].items()) or "not measured"),
        f"operations completed per second: {system['operations_per_second']}",
        f"delivered {delivery['delivered']} of {delivery['users']}: lost {delivery['lost']}, duplicated "
        f"{delivery['duplicated']}, misrouted {delivery['misrouted']}, instance faults {delivery['instance_faults']}, "
        f"user errors {delivery['user_errors']}",
        "peak memory (MB): " + ", ".join(f"{name} {mb}" for name, mb in memory.items()),
        "CPU seconds while operating: " + ", ".join(
            f"{name} {seconds}" for name, seconds in system.get("cpu_seconds", {}).items()),
        f"bot CPU per operation: {system.get('bot_cpu_ms_per_operation')} ms; echo bot CPU per turn: " + (", ".join(
            f"{variant} {figures.get('cpu_ms_per_turn')} ms" for variant, figures in echo.items()) or "not measured"),
        "targets: " + ", ".join(f"{name} {value}" for name, value in result["targets"].items()),
    ]
    lines += [f"  problem: {example}" for example in delivery["examples"]]
    return "\n".join(lines)
