"""``python -m bench durable``: throughput and latency of chained orchestrations on the devhost functions host.

The host runs as a child process (as under ``devhost up``); this process is the load generator, talking to the
public Durable HTTP API. Each orchestration chains three instant activities that return the time they started;
"hop" latency is an activity's start minus the recorded completion (TaskCompleted timestamp) of the one before,
i.e. the host's full round trip: commit the result, replay the orchestrator, commit the decision, dispatch.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp

from bench.report import table
from bench.stats import percentile
from bench.timeline import epoch_seconds
from devhost.addresses import free_port
from devhost.functions.keys import load_or_create
from devhost.readiness import wait_until_ready

BENCH_DIR = Path(__file__).resolve().parent
APP_ROOT = BENCH_DIR / "durable_app"
RESULTS_DIR = BENCH_DIR / "results"
API = "/runtime/webhooks/durabletask"
TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class Scenario:
    name: str
    orchestrations: int
    seconds: float
    per_second: float
    hop_p50_ms: float
    hop_p95_ms: float
    hop_max_ms: float
    e2e_p50_ms: float
    e2e_p95_ms: float


def _ms(seconds: list[float], q: float) -> float:
    # The system benchmark's nearest-rank percentile, so both benchmarks report the same kind of figure.
    return round(percentile(seconds, q) * 1000, 2)


async def _start(session: aiohttp.ClientSession, base: str, instance_id: str) -> None:
    async with session.post(f"{base}{API}/orchestrators/chain3/{instance_id}") as response:
        if response.status != 202:
            raise RuntimeError(f"start failed: {response.status} {await response.text()}")


async def _wait_all(session: aiohttp.ClientSession, base: str, prefix: str, count: int) -> float:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        done = await _count_completed(session, base, prefix)
        if done >= count:
            return time.monotonic()
        await asyncio.sleep(0.02)
    raise RuntimeError(f"only {done} of {count} orchestrations completed in {TIMEOUT_SECONDS}s")


async def _count_completed(session: aiohttp.ClientSession, base: str, prefix: str) -> int:
    # The list API answers pages of 100 and a continuation token, empty on the last page, as the extension does.
    url = f"{base}{API}/instances/?instanceIdPrefix={prefix}&runtimeStatus=Completed&showInput=false"
    done, token = 0, ""
    while True:
        headers = {"x-ms-continuation-token": token} if token else {}
        async with session.get(url, headers=headers) as response:
            done += len(await response.json())
            token = response.headers.get("x-ms-continuation-token", "")
        if not token:
            return done


async def _measure(session: aiohttp.ClientSession, base: str, ids: list[str]) -> tuple[list[float], list[float]]:
    hops: list[float] = []
    e2e: list[float] = []
    semaphore = asyncio.Semaphore(32)

    async def one(instance_id: str) -> None:
        async with semaphore, session.get(f"{base}{API}/instances/{instance_id}?showHistory=true"
                                          "&showHistoryOutput=true") as response:
            body = await response.json()
        started: list[float] = body["output"]
        events = body["historyEvents"]
        completed = [epoch_seconds(e["Timestamp"]) for e in events if e["EventType"] == "TaskCompleted"]
        hops.extend(started[i + 1] - completed[i] for i in range(len(completed) - 1))
        begin = next(epoch_seconds(e["Timestamp"]) for e in events if e["EventType"] == "ExecutionStarted")
        end = next(epoch_seconds(e["Timestamp"]) for e in events if e["EventType"] == "ExecutionCompleted")
        e2e.append(end - begin)

    await asyncio.gather(*(one(i) for i in ids))
    return hops, e2e


async def _burst(base: str, headers: dict[str, str], count: int, in_flight: int) -> Scenario:
    prefix = f"burst-{uuid.uuid4().hex[:8]}-"
    ids = [f"{prefix}{i}" for i in range(count)]
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        semaphore = asyncio.Semaphore(in_flight)

        async def start(instance_id: str) -> None:
            async with semaphore:
                await _start(session, base, instance_id)

        began = time.monotonic()
        await asyncio.gather(*(start(i) for i in ids))
        ended = await _wait_all(session, base, prefix, count)
        hops, e2e = await _measure(session, base, ids)
    seconds = ended - began
    return Scenario(f"burst of {count}", count, round(seconds, 3), round(count / seconds, 1), _ms(hops, 0.5),
                    _ms(hops, 0.95), _ms(hops, 1.0), _ms(e2e, 0.5), _ms(e2e, 0.95))


async def _steady(base: str, headers: dict[str, str], rate: float, seconds: float) -> Scenario:
    """Start orchestrations at a fixed rate: the latency a sustained load sees (no burst queueing)."""
    prefix = f"steady-{uuid.uuid4().hex[:8]}-"
    count = int(rate * seconds)
    ids = [f"{prefix}{i}" for i in range(count)]
    async with aiohttp.ClientSession(headers=headers) as session:
        began = time.monotonic()
        pending = []
        for index, instance_id in enumerate(ids):
            delay = began + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(asyncio.ensure_future(_start(session, base, instance_id)))
        await asyncio.gather(*pending)
        ended = await _wait_all(session, base, prefix, count)
        hops, e2e = await _measure(session, base, ids)
    elapsed = ended - began
    return Scenario(f"steady {rate:g}/s for {seconds:g}s", count, round(elapsed, 3), round(count / elapsed, 1),
                    _ms(hops, 0.5), _ms(hops, 0.95), _ms(hops, 1.0), _ms(e2e, 0.5), _ms(e2e, 0.95))


async def _sequential(base: str, headers: dict[str, str], count: int) -> Scenario:
    prefix = f"seq-{uuid.uuid4().hex[:8]}-"
    ids = [f"{prefix}{i}" for i in range(count)]
    async with aiohttp.ClientSession(headers=headers) as session:
        began = time.monotonic()
        for index, instance_id in enumerate(ids):
            await _start(session, base, instance_id)
            await _wait_all(session, base, prefix, index + 1)
        ended = time.monotonic()
        hops, e2e = await _measure(session, base, ids)
    seconds = ended - began
    return Scenario(f"one at a time ({count})", count, round(seconds, 3), round(count / seconds, 1),
                    _ms(hops, 0.5), _ms(hops, 0.95), _ms(hops, 1.0), _ms(e2e, 0.5), _ms(e2e, 0.95))


def _table(results: list[Scenario]) -> str:
    header = ("scenario", "orch", "seconds", "orch/s", "hop p50 ms", "hop p95 ms", "hop max ms", "e2e p50 ms",
              "e2e p95 ms")
    return table([header] + [(r.name, str(r.orchestrations), f"{r.seconds:.2f}", f"{r.per_second:.1f}",
                              f"{r.hop_p50_ms:.1f}", f"{r.hop_p95_ms:.1f}", f"{r.hop_max_ms:.1f}",
                              f"{r.e2e_p50_ms:.1f}", f"{r.e2e_p95_ms:.1f}") for r in results])


async def _wait_ready(base: str, process: subprocess.Popen[bytes], headers: dict[str, str]) -> None:
    await wait_until_ready(f"{base}{API}/instances/?top=1", process, "the functions host",
                           ready=lambda status: status == 200, headers=headers)


async def run(base: str, process: subprocess.Popen[bytes], headers: dict[str, str], *, count: int, in_flight: int,
              sequential: int, rate: float) -> list[Scenario]:
    """``headers``: the host's durabletask system key, which the Durable API takes (it checks keys as Azure does)."""
    await _wait_ready(base, process, headers)
    return [await _sequential(base, headers, sequential), await _steady(base, headers, rate, 3.0),
            await _burst(base, headers, count, in_flight)]


def _run_with_host(count: int, in_flight: int, sequential: int, rate: float) -> list[Scenario]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-durable-") as data_dir, \
            open(Path(data_dir, "host.log"), "wb") as log:
        # Made before the host starts, which then uses them: the benchmark knows the system key from the start.
        keys = load_or_create(Path(data_dir))
        headers = {"x-functions-key": keys.durable_system_key}
        process = subprocess.Popen(
            [sys.executable, "-m", "devhost", "functions", "--app-root", str(APP_ROOT), "--data-dir", data_dir,
             "--port", str(port)], cwd=BENCH_DIR.parent, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            return asyncio.run(run(base, process, headers, count=count, in_flight=in_flight, sequential=sequential,
                                   rate=rate))
        except BaseException:
            print(Path(data_dir, "host.log").read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        finally:
            process.terminate()
            process.wait(30)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench durable", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="orchestrations in the burst (default 500)")
    parser.add_argument("--in-flight", type=int, default=50, help="concurrent start requests (default 50)")
    parser.add_argument("--sequential", type=int, default=30, help="orchestrations run one at a time (default 30)")
    parser.add_argument("--rate", type=float, default=100.0, help="starts per second, steady load (default 100)")
    args = parser.parse_args(argv)
    # --in-flight 0 would never start anything (a semaphore of 0) and wait forever; a negative count a traceback.
    for name in ("count", "in_flight", "sequential"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.rate <= 0:
        parser.error("--rate must be positive")
    results = _run_with_host(args.count, args.in_flight, args.sequential, args.rate)
    print(_table(results))
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = RESULTS_DIR / f"durable-{stamp}.json"
    path.write_text(json.dumps({"benchmark": "durable", "cpus": os.cpu_count(), "python": sys.version.split()[0],
                                "scenarios": [asdict(r) for r in results]}, indent=2) + "\n")
    print(f"\nwritten to {path}")
    return 0
