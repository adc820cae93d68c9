"""What every fuzz module shares: a loop on a thread, one HTTP client on it, and the checks on an error answer.

Hypothesis drives plain (sync) test functions, so the servers under test and the aiohttp client live on ONE event
loop in a background thread for the whole module; each example submits its requests to that loop.
"""

import asyncio
import json
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from hypothesis import HealthCheck, settings
from yarl import URL

T = TypeVar("T")

# Reproducible in CI: the same examples every run, nothing read from or written to a local example database.
FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# A server that stops answering fails the example instead of hanging the suite.
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=20)
NO_JSON: Any = object()  # json_body's default: None is a JSON value (null) a test may want to send


class LoopThread:
    """An event loop running in a daemon thread until ``close``; ``run`` submits a coroutine and waits for it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzz-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    text: str

    def json(self) -> Any:
        assert self.content_type == "application/json", f"{self.status}: not JSON ({self.content_type}): {self.text!r}"
        return json.loads(self.text)

    def __str__(self) -> str:
        return f"{self.status} {self.content_type} {self.text[:300]!r}"


class Http:
    """One client session on the loop thread; every call is a real request over loopback."""

    def __init__(self, loop: LoopThread) -> None:
        self._loop = loop
        self._session: aiohttp.ClientSession = loop.run(self._open())

    @staticmethod
    async def _open() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=REQUEST_TIMEOUT)

    def request(self, method: str, url: str | URL, *, body: bytes | None = None, headers: dict[str, str] | None = None,
                params: dict[str, str] | None = None, json_body: Any = NO_JSON) -> Reply:
        async def go() -> Reply:
            data = json.dumps(json_body).encode() if json_body is not NO_JSON else body
            all_headers = dict(headers or {})
            if json_body is not NO_JSON:
                all_headers.setdefault("Content-Type", "application/json")
            # No Content-Type unless the test sets one: aiohttp would add application/octet-stream to bytes.
            async with self._session.request(method, url, data=data, headers=all_headers, params=params,
                                             skip_auto_headers=["Content-Type"]) as response:
                return Reply(response.status, response.content_type, await response.text(errors="replace"))

        return self._loop.run(go())

    def close(self) -> None:
        self._loop.run(self._session.close())


def segment(text: str) -> str:
    """``text`` as ONE path segment: every reserved or odd character percent-encoded, so ``/``, ``#`` and ``?``
    reach the server inside the segment instead of changing the route."""
    return quote(text, safe="")


def url(base: str, path: str) -> URL:
    """A URL whose path is sent exactly as written (already percent-encoded by ``segment``)."""
    return URL(base + path, encoded=True)


def assert_client_error(reply: Reply, *statuses: int) -> None:
    """A clear refusal: a 4xx (one of ``statuses`` when given), never a 5xx."""
    assert 400 <= reply.status < 500, f"expected a 4xx, got {reply}"
    if statuses:
        assert reply.status in statuses, f"expected one of {statuses}, got {reply}"


def starter_error(reply: Reply) -> str:
    """The starter's (and the functions host's) error body: ``{"error": "<message>"}``; returns the message."""
    body = reply.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], f"bad error body: {reply}"
    return str(body["error"])


def channel_error(reply: Reply) -> dict[str, str]:
    """Direct Line's and the Bot Framework's error body ``{"error": {"code", "message"}}``; returns the inner one."""
    body = reply.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), f"bad error body: {reply}"
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], f"no error code: {reply}"
    assert isinstance(error.get("message"), str) and error["message"], f"no error message: {reply}"
    return {"code": error["code"], "message": error["message"]}


def durable_error(reply: Reply) -> dict[str, Any]:
    """A Durable API error body (§C3): an object with a ``Message``; 400s also carry ``ExceptionMessage``."""
    body = reply.json()
    assert isinstance(body, dict) and isinstance(body.get("Message"), str) and body["Message"], f"bad body: {reply}"
    if reply.status == 400 and "ExceptionMessage" in body:
        # ArgumentExceptions, and Newtonsoft's reader errors answered as "Invalid JSON content".
        assert body["ExceptionType"] in ("System.ArgumentException", "Newtonsoft.Json.JsonReaderException"), \
            f"bad 400 body: {reply}"
    return dict(body)
