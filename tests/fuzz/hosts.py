"""The project's function app on the devhost functions host, as a child process on a free loopback port.

A child process, not in-process: the app reads its settings from the environment, and a child gets its own
without touching this process's os.environ.
"""

import contextlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devhost.addresses import free_port
from devhost.functions import HostKeys
from devhost.functions.keys import KEYS_FILE, read_keys
from tests.devhost.functions.processes import REPO, start_host

# Operations that take an hour in one step: a started instance just waits in its activity until terminated.
SETTINGS = {
    "OperationSeconds": "3600", "OperationSteps": "10", "OperationTimeoutSeconds": "7200",
    "OperationSigningKey": "fuzz-signing-key", "DirectLineSecret": "fuzz-directline-secret",
    # Nothing listens there; no fuzz operation runs long enough to notify.
    "DirectLineEndpoint": "http://127.0.0.1:9/v3/directline",
}
WEBHOOK = "/runtime/webhooks/durabletask"
CONTINUATION = {
    "type": "message", "channelId": "directline", "serviceUrl": "http://127.0.0.1:9/",
    "conversation": {"id": "fuzz-conversation"}, "from": {"id": "user"}, "recipient": {"id": "bot"},
}
GOOD_START = {"option": "option 1", "continuation": CONTINUATION}


@dataclass(frozen=True)
class ProjectHost:
    base_url: str
    # The host checks keys as Azure does: the starter takes its function key, the Durable API its system key.
    keys: HostKeys

    @property
    def starter_headers(self) -> dict[str, str]:
        return {"x-functions-key": self.keys.function_key("start_operation")}

    @property
    def durable_headers(self) -> dict[str, str]:
        return {"x-functions-key": self.keys.durable_system_key}


@contextlib.contextmanager
def project_host(work: Path) -> Iterator[ProjectHost]:
    """A running host; stopped (SIGTERM, then waited for) on exit."""
    port = free_port()
    process = start_host(REPO, work / "data", port, SETTINGS, work / "host.log")
    try:
        yield ProjectHost(f"http://127.0.0.1:{port}", read_keys(work / "data" / KEYS_FILE))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except Exception:
            process.kill()
            raise
