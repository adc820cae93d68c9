"""Kill -9 the host mid-activity and mid-timer, start it again on the same data dir: every instance completes."""

import json
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

from devhost.addresses import free_port
from tests.devhost.functions.hosting import APPS
from tests.devhost.functions.processes import host_keys, start_host

API = "/runtime/webhooks/durabletask"
WAIT_SECONDS = 30.0


def request(port: int, key: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """``key``: the host's durabletask system key, which the Durable API takes."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json", "x-functions-key": key})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        text = err.read().decode()
        return err.code, json.loads(text) if text else None


def wait_until(check: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def status(port: int, key: str, instance_id: str, history: bool = False) -> dict[str, Any]:
    query = "?showHistory=true" if history else ""
    code, body = request(port, key, "GET", f"{API}/instances/{instance_id}{query}")
    assert code in (200, 202), (code, body)
    assert isinstance(body, dict)
    return body


def test_killed_host_resumes_every_instance_after_restart(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    data_dir = tmp_path / "data"
    log = tmp_path / "host.log"
    env = {"CRASH_MARKER_DIR": str(markers), "CRASH_SLEEP_S": "1.5"}
    port = free_port()
    host = start_host(APPS / "crash", data_dir, port, env, log)
    key = host_keys(data_dir).durable_system_key
    try:
        slow_ids = [f"slow-{i}" for i in range(3)]
        timer_ids = [f"timer-{i}" for i in range(2)]
        for instance_id in slow_ids:
            # Encoded as the Python client does (a JSON string holding JSON text, reference §C2).
            body = json.dumps(instance_id)
            assert request(port, key, "POST", f"{API}/orchestrators/slow_chain/{instance_id}", body)[0] == 202
        for instance_id in timer_ids:
            assert request(port, key, "POST", f"{API}/orchestrators/timer_then_activity/{instance_id}", "2")[0] == 202

        def activities_started() -> bool:
            return all(list(markers.glob(f"{i}.*")) for i in slow_ids)

        def timers_created() -> bool:
            return all(any(e["EventType"] == "TimerCreated"
                           for e in status(port, key, i, True).get("historyEvents", [])) for i in timer_ids)

        wait_until(activities_started, "the slow activities to start")
        wait_until(timers_created, "the timers to be created")
    finally:
        host.send_signal(signal.SIGKILL)
        host.wait(10)

    port = free_port()
    host = start_host(APPS / "crash", data_dir, port, env, log)
    # The restarted host kept its keys (keys.json in the data dir): the same system key still opens the API.
    assert host_keys(data_dir).durable_system_key == key
    try:
        def all_done() -> bool:
            return all(status(port, key, i)["runtimeStatus"] == "Completed" for i in slow_ids + timer_ids)

        wait_until(all_done, "every instance to complete after the restart")
        for instance_id in slow_ids:
            assert status(port, key, instance_id)["output"] == f"Hello {instance_id}"
            # At least once: the activity that was running when the host died ran again.
            assert len(list(markers.glob(f"{instance_id}.*"))) == 2
        for instance_id in timer_ids:
            assert status(port, key, instance_id)["output"] == "Hello after timer"
        assert "slow_chain: orchestrationTrigger" in log.read_text()
    finally:
        host.send_signal(signal.SIGTERM)
        assert host.wait(15) == 0
