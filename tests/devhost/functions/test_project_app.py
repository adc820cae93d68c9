"""The project's own function_app.py (repo root) runs unchanged on the devhost: start, progress, terminate."""

import json
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from devhost.addresses import free_port
from tests.devhost.functions.processes import REPO, host_keys, start_host

WAIT_SECONDS = 30.0
SETTINGS = {
    "OperationSeconds": "60", "OperationSteps": "3", "OperationTimeoutSeconds": "120",
    "OperationSigningKey": "test-signing-key", "DirectLineSecret": "test-secret",
    "DirectLineEndpoint": "http://127.0.0.1:9/v3/directline",
}
CONTINUATION = {"type": "message", "channelId": "directline", "serviceUrl": "http://127.0.0.1:9",
                "conversation": {"id": "conv-1"}, "from": {"id": "user"}, "recipient": {"id": "bot"}}


def call(url: str, body: Any = None, method: str = "GET", key: str | None = None) -> tuple[int, Any]:
    """``key`` goes in x-functions-key; the check-status URLs need none, they carry the system key in code=."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} | ({} if key is None else {"x-functions-key": key})
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        text = err.read().decode()
        return err.code, json.loads(text) if text else None


def test_project_operation_reports_progress_and_can_be_terminated(tmp_path: Path) -> None:
    port = free_port()
    host = start_host(REPO, tmp_path / "data", port, SETTINGS, tmp_path / "host.log")
    try:
        code, started = call(f"http://127.0.0.1:{port}/api/operations",
                             {"option": "option 1", "continuation": CONTINUATION}, "POST",
                             key=host_keys(tmp_path / "data").function_key("start_operation"))
        assert code == 202, started
        assert started["id"].startswith("op-")
        status_url = started["statusQueryGetUri"]
        deadline = time.monotonic() + WAIT_SECONDS
        code, status = call(status_url)
        while status["customStatus"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
            code, status = call(status_url)
        assert code == 202
        assert status["runtimeStatus"] == "Running"
        assert status["customStatus"]["stage"] == "running"
        assert status["customStatus"]["steps"] == 3
        terminate = started["terminatePostUri"].replace("{text}", "user%20cancelled")
        assert call(terminate, method="POST")[0] == 202
        while status["runtimeStatus"] != "Terminated" and time.monotonic() < deadline:
            time.sleep(0.05)
            code, status = call(status_url)
        assert (code, status["runtimeStatus"], status["output"]) == (200, "Terminated", "user cancelled")
        assert "long_operation: orchestrationTrigger" in (tmp_path / "host.log").read_text()
    finally:
        host.send_signal(signal.SIGTERM)
        host.wait(15)
