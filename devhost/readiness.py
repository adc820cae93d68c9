"""Wait until a freshly spawned server answers, or say why it never will (it exited, or it stayed silent).

One loop for every place that starts a server as a child process: the devhost stack and the benchmarks. With a
``nonce`` (devhost/part_identity.py) only an answer carrying it counts: any other answer comes from another process
holding the port, and waiting longer would only end in the child failing to bind, so it is an error at once.
"""

import asyncio
import ssl
import subprocess
import time
from collections.abc import Callable

import aiohttp

from devhost.part_identity import PART_NONCE_HEADER

READY_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.1


class NotReady(RuntimeError):
    """The process exited, or ``url`` gave no ready answer in time; the message says which."""


def answers(status: int) -> bool:
    """Any answer but a server error: the server is up, whatever it thinks of the request."""
    return status < 500


async def wait_until_ready(
    url: str,
    process: "subprocess.Popen[bytes]",
    what: str,
    *,
    ready: Callable[[int], bool] = answers,
    timeout_seconds: float = READY_TIMEOUT_SECONDS,
    headers: dict[str, str] | None = None,
    nonce: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Poll GET ``url`` (with ``headers``, e.g. a key: never put one in ``url``, which error messages show) until
    ``ready(status)`` (and the answer carries ``nonce``, when given); NotReady as soon as ``process`` exits,
    another process answers, or after ``timeout_seconds``."""
    deadline = time.monotonic() + timeout_seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise NotReady(f"{what} exited with code {process.returncode}")
            try:
                async with session.get(url, headers=headers, ssl=ssl_context or True) as response:
                    if nonce is not None and response.headers.get(PART_NONCE_HEADER) != nonce:
                        raise NotReady(f"another process answers {url}, not {what} just started (is an older "
                                       "devhost still running?)")
                    if ready(response.status):
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass  # not listening yet
            await asyncio.sleep(POLL_SECONDS)
    raise NotReady(f"{what} did not answer {url} within {timeout_seconds:g} s")
