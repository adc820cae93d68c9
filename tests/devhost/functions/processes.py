"""Test helpers for the functions host as a child process (``python -m devhost functions``)."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from devhost.functions.keys import KEYS_FILE, HostKeys, read_keys

REPO = Path(__file__).resolve().parents[3]
READY_SECONDS = 60.0


def run_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devhost", "functions", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, check=False)


def start_host(app_root: Path, data_dir: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "devhost", "functions", "--app-root", str(app_root), "--data-dir", str(data_dir),
             "--port", str(port)],
            cwd=REPO, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + READY_SECONDS
    url = f"http://127.0.0.1:{port}/runtime/webhooks/durabletask/instances/?top=1"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"host exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process
        except urllib.error.HTTPError as answer:
            # A host that checks keys answers 401 to this keyless probe: it is up.
            answer.close()
            return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"host did not answer within {READY_SECONDS}s:\n{log.read_text()}")


def host_keys(data_dir: Path) -> HostKeys:
    """The keys a host started on ``data_dir`` checks (it made them at start-up)."""
    return read_keys(data_dir / KEYS_FILE)
