"""``python -m bench system [--users N] [--bots N]``: the whole offline system under N concurrent users, against an
echo floor.

The stack (functions host, Direct Line stand-in, bot) runs as child processes on free loopback ports with short
operations; this process is the load generator (the chat client, Emulator protocol). The machine is shared: the load
generator and the three parts use the same cores, so the figures are for this machine as a whole. With ``--bots N``
the bot runs as N instances behind HAProxy on one SQLite state file (``devhost up --bots N``).
"""

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.accounting import Delivery, UserRecord, account
from bench.load import UserRun, echo_all, operate_all, set_up_users, wall_clock
from bench.processes import PY_SPY, EchoBotProcess, Profiler, cpu_seconds, load_average, peak_memory_mb
from bench.report import Targets, render
from bench.stats import LatencySummary, rate, ratio
from bench.timeline import operation_starts
from bench.workload import ChosenOperation, WorkloadError, choose, expected_seen, parse_input
from bot.texts import CHOOSE_OPTION
from contract import instance_id_prefix
from devhost.addresses import free_ports
from devhost.chat import ChatClient, ChatConfig
from devhost.directline.throttle import parse_throttle
from devhost.stack import Stack, StackConfig

RESULTS_DIR = Path(__file__).resolve().parent / "results"
STATUS_API = "/runtime/webhooks/durabletask/instances/"
SETTLE_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class RunOptions:
    users: int
    operation_seconds: float
    steps: int
    timeout: float
    echo: bool
    keep_dir: Path | None
    ramp_seconds: float = 0.0
    profile_dir: Path | None = None
    bots: int = 1
    # The Direct Line stand-in's throttling (devhost/directline/throttle.py), e.g. "7/1,8/2,60/30"; None: off.
    throttle: str | None = None
    # What the users run, round-robin (bench/workload.py); None: the default choice (the seed's three options).
    workload: tuple[ChosenOperation, ...] | None = None

    @property
    def operations(self) -> tuple[ChosenOperation, ...]:
        return self.workload if self.workload is not None else tuple(choose(None, {}))


@dataclass(frozen=True)
class SystemFigures:
    start_turn: LatencySummary
    busy_turn: LatencySummary
    # Completion overhead, the target: result arrival minus the operation's start (its ExecutionStarted)
    # minus the nominal duration, i.e. what the user waits beyond the work itself once the work has begun.
    overhead: LatencySummary
    # The same from the user's option message: it adds the start turn (reported above on its own), so under a burst
    # it is bounded below by how fast any botbuilder bot answers that many messages (the echo floor's start turn).
    overhead_from_option: LatencySummary
    # The same from the acknowledgement's arrival (the orchestration started a little before it).
    overhead_after_ack: LatencySummary
    operations_per_second: float
    delivery: Delivery
    peak_memory_mb: dict[str, float | None]
    # CPU seconds each process used while the users operated: where the machine's time went.
    cpu_seconds: dict[str, float | None]
    # The bot's CPU (all its instances) per operation while the users operated: the option's turn, the busy turn and
    # the outcome's delivery.
    bot_cpu_ms_per_operation: float | None
    # Posts the Direct Line stand-in refused with 429 (its log's "post throttled" lines); 0 without --throttle.
    throttled_posts: int = 0


@dataclass(frozen=True)
class EchoFigures:
    start_turn: LatencySummary
    busy_turn: LatencySummary
    user_errors: int
    peak_memory_mb: dict[str, float | None]
    # The echo bot's CPU per turn (two turns per user), to set the bot's CPU per operation against.
    cpu_ms_per_turn: float | None


def _settings(options: RunOptions) -> dict[str, str]:
    return {
        "OperationSeconds": f"{options.operation_seconds:g}",
        "OperationSteps": str(options.steps),
        # Generous: a slow run must show up as overhead, not as a timed-out outcome.
        "OperationTimeoutSeconds": str(int(options.operation_seconds + options.timeout)),
    }


def _chat_config(bot_url: str, options: RunOptions) -> ChatConfig:
    # No client-side connection limit: every user's POST is in flight at once, as N real Emulators would be.
    return ChatConfig(bot_url=bot_url, connection_limit=0, bot_timeout_seconds=options.timeout)


async def _instances(session: aiohttp.ClientSession, functions_url: str, run: UserRun) -> list[dict[str, Any]]:
    assert run.conversation is not None
    prefix = instance_id_prefix(run.conversation.channel_id, run.conversation.id)
    async with session.get(f"{functions_url}{STATUS_API}", params={"instanceIdPrefix": prefix}) as response:
        response.raise_for_status()
        found: list[dict[str, Any]] = await response.json()
        return found


async def _settled_instances(functions_url: str, headers: dict[str, str],
                             runs: list[UserRun]) -> list[list[dict[str, Any]]]:
    """Each user's instances once none is still running (they complete just after the bot got the outcome);
    ``headers`` carry the functions host's durabletask system key (Stack.durable_headers)."""
    gate = asyncio.Semaphore(20)
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    async with aiohttp.ClientSession(headers=headers) as session:
        async def settled(run: UserRun) -> list[dict[str, Any]]:
            while True:
                async with gate:
                    found = await _instances(session, functions_url, run)
                busy = any(i.get("runtimeStatus") in ("Pending", "Running") for i in found)
                if not busy or time.monotonic() > deadline:
                    return found
                await asyncio.sleep(0.2)

        return list(await asyncio.gather(*(settled(run) for run in runs)))


def _records(runs: list[UserRun], instances: list[list[dict[str, Any]]], expected: dict[str, str]) -> list[UserRecord]:
    return [
        UserRecord(run.conversation.id if run.conversation else f"(user {index} never connected)",
                   expected[run.option], run.arrivals.outcome_texts(), found, run.error)
        for index, (run, found) in enumerate(zip(runs, instances, strict=True))
    ]


def _difference(after: float | None, before: float | None) -> float | None:
    """Unrounded: per-item figures are computed from it, and a few milliseconds must not round to zero."""
    return None if after is None or before is None else after - before


def _seconds_shown(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def _started(found: list[dict[str, Any]], starts: dict[str, float | None]) -> float | None:
    """The start of a user's one operation; None unless there is exactly one (the accounting flags the rest)."""
    return starts.get(found[0]["instanceId"]) if len(found) == 1 else None


def _summary(values: list[float | None]) -> LatencySummary:
    return LatencySummary.of_seconds([v for v in values if v is not None])


async def run_system(options: RunOptions, data_dir: Path) -> SystemFigures:
    functions, bot, directline, *instance_ports = free_ports(3 + (options.bots if options.bots > 1 else 0))
    config = StackConfig(data_dir=data_dir, functions_port=functions, bot_port=bot,
                         directline_port=directline, throttle=options.throttle,
                         settings=_settings(options), log_dir=data_dir / "logs", bots=options.bots,
                         bot_instance_ports=tuple(instance_ports))
    async with Stack(config) as stack, ChatClient(_chat_config(config.messages_url, options)) as client:
        workload = options.operations
        # Before any user acts: an operation whose result the bench cannot know fails here, not as N lost users.
        expected = {chosen.id: await expected_seen(chosen, options.steps) for chosen in workload}
        runs = await set_up_users(client, workload, options.users, CHOOSE_OPTION, options.timeout)
        profiler = None
        if options.profile_dir is not None:
            profiler = Profiler(options.profile_dir)
            profiler.attach({**{name: process.pid for name, process in stack.processes.items()},
                             "load generator": os.getpid()})
        pids = {name: process.pid for name, process in stack.processes.items()}
        pids["load generator"] = os.getpid()
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        try:
            await operate_all(runs, options.operation_seconds + options.timeout, options.ramp_seconds)
        finally:
            if profiler is not None:
                profiler.detach()
        cpu_used = {name: _difference(cpu_seconds(pid), cpu_before[name]) for name, pid in pids.items()}
        instances = await _settled_instances(config.functions_url, stack.durable_headers, runs)
        starts = await operation_starts(config.functions_url, stack.durable_headers,
                                        [i["instanceId"] for found in instances for i in found])
        memory = {name: peak_memory_mb(process.pid) for name, process in stack.processes.items()}
    memory["load generator"] = peak_memory_mb("self")
    # The seed's simulated work lasts OperationSeconds; real work has no nominal duration, so its overhead includes it.
    simulated = {chosen.id: chosen.simulated for chosen in workload}
    nominals = [options.operation_seconds if simulated[r.option] else 0.0 for r in runs]
    started = [_started(found, starts) for found in instances]
    sent = [r.option_sent for r in runs if r.option_sent is not None]
    arrived = [r.result_arrived for r in runs if r.result_arrived is not None]
    window = (max(arrived) - min(sent)) if sent and arrived else 0.0
    return SystemFigures(
        start_turn=_summary([r.start_turn for r in runs]),
        busy_turn=_summary([r.busy_turn for r in runs]),
        overhead=_summary([wall_clock(r.result_arrived) - start - nominal
                           for r, start, nominal in zip(runs, started, nominals, strict=True)
                           if r.result_arrived is not None and start is not None]),
        overhead_from_option=_summary([r.result_arrived - r.option_sent - nominal
                                       for r, nominal in zip(runs, nominals, strict=True)
                                       if r.result_arrived is not None and r.option_sent is not None]),
        overhead_after_ack=_summary([r.result_arrived - r.ack_arrived - nominal
                                     for r, nominal in zip(runs, nominals, strict=True)
                                     if r.result_arrived is not None and r.ack_arrived is not None]),
        operations_per_second=rate(len(arrived), window),
        delivery=account(_records(runs, instances, expected)),
        peak_memory_mb=memory,
        cpu_seconds={name: _seconds_shown(seconds) for name, seconds in cpu_used.items()},
        bot_cpu_ms_per_operation=_per_item_ms([cpu_used.get(name) for name in config.bot_names], len(runs)),
        throttled_posts=_throttled_posts(data_dir / "logs" / "directline.log"),
    )


def _per_item_ms(seconds: list[float | None], items: int) -> float | None:
    if items == 0 or any(value is None for value in seconds):
        return None
    return round(sum(value for value in seconds if value is not None) / items * 1000, 2)


def _throttled_posts(log: Path) -> int:
    """The stand-in logs each post it throttles (devhost/directline/service.py)."""
    if not log.exists():
        return 0
    with log.open(encoding="utf-8", errors="replace") as lines:
        return sum(1 for line in lines if "post throttled:" in line)


# The floors: bare botbuilder, and botbuilder with the real bot's connector fixes (see bench/echo_bot.py).
ECHO_VARIANTS = {"bare": False, "tuned": True}


async def run_echo(options: RunOptions, data_dir: Path, variant: str) -> EchoFigures:
    async with EchoBotProcess(data_dir / "logs" / f"echo-{variant}.log", ECHO_VARIANTS[variant]) as echo, \
            ChatClient(_chat_config(echo.messages_url, options)) as client:
        runs = await set_up_users(client, options.operations, options.users, "Echo: hi", options.timeout)
        assert echo.process is not None
        cpu_before = cpu_seconds(echo.process.pid)
        await echo_all(runs, options.timeout, options.ramp_seconds)
        cpu_used = _difference(cpu_seconds(echo.process.pid), cpu_before)
        memory = {f"echo bot ({variant})": peak_memory_mb(echo.process.pid)}
    return EchoFigures(_summary([r.start_turn for r in runs]), _summary([r.busy_turn for r in runs]),
                       sum(1 for r in runs if r.error is not None), memory, _per_item_ms([cpu_used], 2 * len(runs)))


def _machine(load_before: tuple[float, float, float]) -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_average()],
        "note": "shared machine: the load generator and every part of the system run on the same cores",
    }


def run(options: RunOptions) -> dict[str, Any]:
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-system-") as temp:
        data_dir = options.keep_dir or Path(temp)
        echoes = {variant: asyncio.run(run_echo(options, data_dir, variant))
                  for variant in (ECHO_VARIANTS if options.echo else ())}
        system = asyncio.run(run_system(options, data_dir))
    ratios = {
        variant: {f"p{q}": ratio(getattr(system.start_turn, f"p{q}_ms"), getattr(echo.start_turn, f"p{q}_ms"))
                  for q in (50, 95, 99)}
        for variant, echo in echoes.items()
    }
    return {
        "benchmark": "system",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": _machine(load_before),
        "settings": {"users": options.users, "operation_seconds": options.operation_seconds,
                     "steps": options.steps, "ramp_seconds": options.ramp_seconds, "throttle": options.throttle,
                     "operations": [chosen.describe() for chosen in options.operations], "bots": options.bots},
        "system": {**asdict(system), "delivery": {**asdict(system.delivery), "faults": system.delivery.faults}},
        "echo": {variant: asdict(echo) for variant, echo in echoes.items()},
        "start_turn_ratio_to_echo": ratios,
        # The target is against a bare botbuilder echo bot.
        "targets": asdict(Targets.of(system, ratios.get("bare", {}))),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench system", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="concurrent users, one operation each (default 200)")
    parser.add_argument("--operation-seconds", type=float, default=5.0,
                        help="nominal duration of each operation (default 5)")
    parser.add_argument("--steps", type=int, default=2, help="checkpointed steps per operation (default 2)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="how long a user waits for any one reply beyond the operation (default 120)")
    parser.add_argument("--ramp", type=float, default=0.0, metavar="SECONDS",
                        help="spread the users' option messages evenly over this many seconds (default 0: all at once)")
    parser.add_argument("--bots", type=int, default=1, metavar="N",
                        help="bot instances behind HAProxy on one SQLite state file (default 1: the bot alone)")
    parser.add_argument("--operation", action="append", metavar="ID", dest="operations",
                        help="a registered operation the users run, round-robin; repeat for several (default: every "
                             "operation without inputs, the seed's three)")
    parser.add_argument("--input", action="append", metavar="NAME=VALUE", dest="inputs", default=[],
                        help="an input of the chosen operations, e.g. --input limit=200000 for count primes")
    parser.add_argument("--no-echo", action="store_true", help="skip the echo bot floors")
    parser.add_argument("--keep-dir", type=Path, help="keep the stack's data and logs in this directory")
    parser.add_argument("--throttle", default=None, metavar="COUNT/SECONDS[,COUNT/SECONDS...]",
                        help="the Direct Line stand-in throttles each conversation's posts (429 + Retry-After), as "
                             "devhost directline --throttle; e.g. Teams' published 7/1,8/2,60/30 (default: off)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="py-spy record each part while the users operate; collapsed stacks go to DIR")
    args = parser.parse_args(argv)
    for name in ("users", "steps", "bots"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.operation_seconds <= 0 or args.timeout <= 0:
        parser.error("--operation-seconds and --timeout must be positive")
    if args.ramp < 0:
        parser.error("--ramp must not be negative")
    if args.throttle is not None:
        try:
            parse_throttle(args.throttle)
        except ValueError as error:
            parser.error(str(error))
    if args.profile is not None and not PY_SPY.exists():
        parser.error(f"--profile needs py-spy at {PY_SPY} (it is in requirements-dev.txt)")
    try:
        workload = tuple(choose(args.operations, dict(parse_input(text) for text in args.inputs)))
    except WorkloadError as error:
        parser.error(str(error))
    options = RunOptions(args.users, args.operation_seconds, args.steps, args.timeout, not args.no_echo,
                         args.keep_dir, args.ramp, args.profile, throttle=args.throttle, workload=workload,
                         bots=args.bots)
    result = run(options)
    print(render(result))
    RESULTS_DIR.mkdir(exist_ok=True)
    bots = f"-{args.bots}bots" if args.bots > 1 else ""
    path = RESULTS_DIR / f"system-{args.users}u{bots}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {path}")
    delivery = result["system"]["delivery"]
    return 0 if delivery["faults"] == 0 and delivery["user_errors"] == 0 else 1
