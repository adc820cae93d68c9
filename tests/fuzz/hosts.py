"""The project's function app on the devhost functions host, as a child process on a free loopback port.

A child process, not in-process: the app reads its settings from the environment, and a child gets its own
without touching this process's os.environ.
"""

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

from tests.devhost.functions.processes import REPO, free_port, start_host

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


@contextlib.contextmanager
def project_host(work: Path) -> Iterator[str]:
    """The base URL of a running host; stopped (SIGTERM, then waited for) on exit."""
    port = free_port()
    process = start_host(REPO, work / "data", port, SETTINGS, work / "host.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except Exception:
            process.kill()
            raise
