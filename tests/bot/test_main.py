"""``python -m bot`` as a real process."""

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


def bot_env(**settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("OperationSigningKey", "PORT")}
    return {**env, **settings}


def test_a_missing_signing_key_stops_start_up_naming_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot"], check=False, cwd=ROOT, env=bot_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "OperationSigningKey" in done.stderr


def test_a_malformed_setting_stops_start_up_naming_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        check=False,
        cwd=ROOT,
        env=bot_env(OperationSigningKey="k", BotStateStore="nowhere"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "BotStateStore" in done.stderr


def test_an_unusable_sqlite_state_file_stops_start_up_naming_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        check=False,
        cwd=ROOT,
        env=bot_env(OperationSigningKey="k", BotStateStore=f"sqlite:{blocker / 'state.sqlite'}"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "BotStateStore" in done.stderr and "cannot open the SQLite state file" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_bot_serves_health_on_the_given_port(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--port", str(port)],
        cwd=ROOT,
        env=bot_env(OperationSigningKey="k", BotStateStore=f"sqlite:{tmp_path / 'state.sqlite'}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert asyncio.run(_wait_for_health(f"http://127.0.0.1:{port}/api/health", process)) == {"status": "ok"}
        assert (tmp_path / "state.sqlite").exists()
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _wait_for_health(url: str, process: subprocess.Popen[bytes]) -> object:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):  # up to ~60 s: start-up imports botbuilder
            assert process.poll() is None, "the bot exited early"
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return await response.json()
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the bot never answered /api/health")


def test_the_bots_loop_runs_many_blocking_calls_at_once() -> None:
    import threading

    from bot.__main__ import EXECUTOR_THREADS, io_event_loop

    # More blocking calls than the stock executor's cpu_count + 4 threads: each waits for all the others, so they
    # only finish if they all run at once.
    calls = (os.cpu_count() or 1) + 4 + 10
    assert calls <= EXECUTOR_THREADS
    barrier = threading.Barrier(calls, timeout=30)
    loop = io_event_loop()
    try:
        async def all_at_once() -> None:
            await asyncio.gather(*(asyncio.to_thread(barrier.wait) for _ in range(calls)))

        loop.run_until_complete(all_at_once())
    finally:
        loop.close()
