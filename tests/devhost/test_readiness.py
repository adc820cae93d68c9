"""Waiting for a spawned server: ready when it answers, a clear NotReady when it exits or stays silent."""

import asyncio
import subprocess
import sys

import pytest

from devhost.addresses import free_port
from devhost.readiness import NotReady, wait_until_ready


def test_ready_once_the_server_answers() -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        asyncio.run(wait_until_ready(f"http://127.0.0.1:{port}/", server, "the web server",
                                     ready=lambda status: status == 200))
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(10)


def test_a_process_that_exits_is_named_with_its_exit_code() -> None:
    crashed = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(NotReady, match="the bot exited with code 3"):
        asyncio.run(wait_until_ready(f"http://127.0.0.1:{free_port()}/", crashed, "the bot"))


def test_a_silent_server_is_named_with_its_url_after_the_timeout() -> None:
    silent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    url = f"http://127.0.0.1:{free_port()}/api/health"
    try:
        with pytest.raises(NotReady, match=f"the bot did not answer {url} within 0.5 s"):
            asyncio.run(wait_until_ready(url, silent, "the bot", timeout_seconds=0.5))
    finally:
        silent.kill()
        silent.wait(10)


def test_another_process_answering_the_port_is_not_taken_for_the_part_just_started() -> None:
    # An older part still holding the port answers, but not with the nonce drawn for this start.
    port = free_port()
    stale = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fresh = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    url = f"http://127.0.0.1:{port}/"
    try:
        asyncio.run(wait_until_ready(url, stale, "the web server", ready=lambda status: status == 200))
        with pytest.raises(NotReady) as raised:
            asyncio.run(wait_until_ready(url, fresh, "the bot part", nonce="0f1e2d"))
        assert str(raised.value) == (f"another process answers {url}, not the bot part just started (is an older "
                                     "devhost still running?)")
    finally:
        for process in (stale, fresh):
            process.kill()
            process.wait(10)
