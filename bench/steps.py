"""``python -m bench steps``: per-step overhead of one long operation of zero-second steps, at several sizes.

The real function app runs on the devhost functions host (a child process, as under ``devhost up``), with a
loopback Direct Line in this process for its one notify_bot post. After one operation that warms the host, three
per size, one at a time, each started through the HTTP starter as the bot starts it and polled on its status URL
until terminal; the median counts. The overhead per step is the operation's wall time (from the start request to
its last history event, on the host's clock: the same machine's) divided by its steps; flat means every step costs
the same whatever the operation's length, i.e. no replay grows with history.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.processes import PY_SPY, REPO_ROOT, Profiler
from bench.report import table
from bench.timeline import epoch_seconds
from devhost.addresses import free_ports
from devhost.functions.keys import load_or_create
from devhost.readiness import wait_until_ready

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_SIZES = (10, 100, 1000)
# The flatness goal: every size's per-step overhead within this fraction of the smallest size's.
FLAT_WITHIN = 0.30
SECRET = "bench-directline-secret"
SIGNING_KEY = "bench-signing-key-0123456789abcdef0123456789abcdef"
CONTINUATION = {"type": "message", "channelId": "directline", "serviceUrl": "http://127.0.0.1:9/",
                "conversation": {"id": "bench-steps"}, "from": {"id": "user"}, "recipient": {"id": "bot"}}
TERMINAL = frozenset({"Completed", "Failed", "Terminated"})


@dataclass(frozen=True)
class StepsFigure:
    steps: int
    seconds: float
    per_step_ms: float
    # This size's per-step overhead over the smallest size's.
    ratio: float
    runtime_status: str


def _loopback_directline() -> web.Application:
    """Just the two Direct Line calls notify_bot makes (directline.md §1.3-1.4), always answered with success."""

    async def start(request: web.Request) -> web.Response:
        return web.json_response({"conversationId": "bench-carrier", "token": "bench-token", "expires_in": 1800},
                                 status=201)

    async def post(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"id": "bench-carrier|0000001"})

    app = web.Application()
    app.router.add_post("/v3/directline/conversations", start)
    app.router.add_post("/v3/directline/conversations/{conversation_id}/activities", post)
    return app


def _settings(steps: int, directline: str, timeout: float) -> dict[str, str]:
    return {"DirectLineSecret": SECRET, "OperationSigningKey": SIGNING_KEY, "DirectLineEndpoint": directline,
            "OperationSeconds": "0", "OperationSteps": str(steps), "OperationTimeoutSeconds": f"{timeout:g}",
            "OperationFaults": ""}


async def _operate(session: aiohttp.ClientSession, base: str, starter_key: str,
                   wait_seconds: float) -> tuple[float, dict[str, Any]]:
    """The operation's final status (with history) and the wall time (epoch seconds) just before it was started."""
    began = time.time()
    async with session.post(f"{base}/api/operations", headers={"x-functions-key": starter_key},
                            json={"option": "option 1", "continuation": CONTINUATION}) as response:
        if response.status != 202:
            raise RuntimeError(f"start failed: {response.status} {await response.text()}")
        started = await response.json()
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        async with session.get(started["statusQueryGetUri"]) as response:
            status: dict[str, Any] = await response.json()
        if status["runtimeStatus"] in TERMINAL:
            # The status' times are whole seconds; the history's stamps are precise.
            async with session.get(started["statusQueryGetUri"] + "&showHistory=true") as response:
                return began, await response.json()
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{started['id']} did not finish in {wait_seconds:g} s")


async def _drive(process: subprocess.Popen[bytes], base: str, directline_port: int, data_dir: Path, *,
                 wait_seconds: float, profile: tuple[Path, str] | None,
                 repeat: int) -> list[tuple[float, dict[str, Any]]]:
    runner = web.AppRunner(_loopback_directline())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", directline_port).start()
    profiler = None
    try:
        system = {"x-functions-key": load_or_create(data_dir).durable_system_key}
        await wait_until_ready(f"{base}/runtime/webhooks/durabletask/instances/?top=1", process,
                               "the functions host", ready=lambda status: status == 200, headers=system)
        if profile is not None:
            profiler = Profiler(profile[0])
            profiler.attach({profile[1]: process.pid})
        # The host adds each function's key at start-up: read them again now it is ready.
        starter_key = load_or_create(data_dir).function_key("start_operation")
        async with aiohttp.ClientSession() as session:
            # A first operation, not counted, warms the host (imports, the shared client session, the carrier
            # conversation) as a host in service is warm. Then one after another: each has the host to itself.
            await _operate(session, base, starter_key, wait_seconds)
            return [await _operate(session, base, starter_key, wait_seconds) for _ in range(repeat)]
    finally:
        if profiler is not None:
            profiler.detach()
        await runner.cleanup()


def _measure(steps: int, wait_seconds: float, profile_dir: Path | None, repeat: int) -> tuple[float, str]:
    """``repeat`` operations of ``steps`` steps, one at a time on a fresh host: the median wall time in seconds (the
    machine is shared, so one run can be slowed by another process) and the worst final runtime status."""
    port, directline_port = free_ports(2)
    directline = f"http://127.0.0.1:{directline_port}/v3/directline"
    with tempfile.TemporaryDirectory(prefix="bench-steps-") as data_dir, \
            open(Path(data_dir, "host.log"), "wb") as log:
        # Made before the host starts, which then uses them: this process knows the system key from the start.
        load_or_create(Path(data_dir))
        process = subprocess.Popen(
            [sys.executable, "-m", "devhost", "functions", "--app-root", str(REPO_ROOT), "--data-dir", data_dir,
             "--port", str(port)], cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **_settings(steps, directline, wait_seconds)})
        profile = None if profile_dir is None else (profile_dir, f"functions-{steps}")
        try:
            runs = asyncio.run(_drive(process, f"http://127.0.0.1:{port}", directline_port, Path(data_dir),
                                      wait_seconds=wait_seconds, profile=profile, repeat=repeat))
        except BaseException:
            print(Path(data_dir, "host.log").read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        finally:
            process.terminate()
            process.wait(30)
    seconds = [max(epoch_seconds(event["Timestamp"]) for event in status["historyEvents"]) - began
               for began, status in runs]
    statuses = {str(status["runtimeStatus"]) for _, status in runs}
    worst = "Completed" if statuses == {"Completed"} else sorted(statuses - {"Completed"})[0]
    return statistics.median(seconds), worst


def run(sizes: list[int], wait_seconds: float = 900.0, profile_dir: Path | None = None,
        repeat: int = 3) -> list[StepsFigure]:
    """``repeat`` operations per size, each size on a fresh host; the figures in the order of ``sizes``, ratios to
    the first."""
    measured = [(steps, *_measure(steps, wait_seconds, profile_dir, repeat)) for steps in sizes]
    base = measured[0][1] / measured[0][0]
    return [StepsFigure(steps, round(seconds, 3), round(seconds / steps * 1000, 2),
                        round(seconds / steps / base, 2), status) for steps, seconds, status in measured]


def flat(figures: list[StepsFigure]) -> bool:
    """Whether every size's per-step overhead is within FLAT_WITHIN of the first size's."""
    return all(abs(f.ratio - 1.0) <= FLAT_WITHIN for f in figures)


def _table(figures: list[StepsFigure]) -> str:
    header = ("steps", "seconds", "ms per step", f"ratio to {figures[0].steps}", "status")
    return table([header] + [(str(f.steps), f"{f.seconds:.2f}", f"{f.per_step_ms:.1f}", f"{f.ratio:.2f}",
                              f.runtime_status) for f in figures])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench steps", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES),
                        help="steps per operation, one operation each (default 10 100 1000)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds each operation may take (default 900)")
    parser.add_argument("--repeat", type=int, default=3, help="operations per size; the median counts (default 3)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="record the functions host with py-spy (collapsed stacks per size) into DIR")
    args = parser.parse_args(argv)
    if any(size < 1 or size > 1000 for size in args.sizes):
        parser.error("--sizes must be between 1 and 1000 (OperationSteps' range)")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.profile is not None and not PY_SPY.exists():
        parser.error(f"--profile needs py-spy at {PY_SPY} (it is in requirements-dev.txt)")
    figures = run(args.sizes, args.timeout, args.profile, args.repeat)
    print(_table(figures))
    print(f"\nflat within ±{FLAT_WITHIN:.0%}: {'yes' if flat(figures) else 'no'}")
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = RESULTS_DIR / f"steps-{stamp}.json"
    path.write_text(json.dumps({"benchmark": "steps", "cpus": os.cpu_count(), "python": sys.version.split()[0],
                                "flat": flat(figures), "sizes": [asdict(f) for f in figures]}, indent=2) + "\n")
    print(f"\nwritten to {path}")
    return 0 if all(f.runtime_status == "Completed" for f in figures) else 1
