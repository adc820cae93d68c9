"""A fake functions host speaking the Durable HTTP API's wire format, and the dashboard server in front of it, both
on loopback."""

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from devhost.dashboard import DashboardSettings, create_app

KEY = "the-durabletask-system-key"


@dataclass
class Seen:
    method: str
    raw_path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeHost:
    """Records every request; answers what ``answers`` holds for (method, path), else 200 []."""

    seen: list[Seen] = field(default_factory=list)
    answers: dict[tuple[str, str], web.Response] = field(default_factory=dict)

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(Seen(request.method, request.raw_path.split("?", 1)[0], dict(request.query),
                              {k.lower(): v for k, v in request.headers.items()}))
        answer = self.answers.pop((request.method, request.raw_path.split("?", 1)[0]), None)
        return answer if answer is not None else web.json_response([])


@dataclass
class Dashboard:
    host: FakeHost
    # The dashboard's own base URL, and the functions host's it reads.
    url: str
    functions_url: str
    http: aiohttp.ClientSession

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, aiohttp.ClientResponse]:
        async with self.http.request(method, self.url + path, **kwargs) as response:
            text = await response.text()
            body = json.loads(text) if response.content_type == "application/json" and text else text
            return response.status, body, response


@contextlib.asynccontextmanager
async def running(key: str = KEY, functions_url: str | None = None) -> AsyncIterator[Dashboard]:
    host = FakeHost()
    upstream = web.Application()
    upstream.router.add_route("*", "/{tail:.*}", host.handle)
    async with TestServer(upstream, host="127.0.0.1") as fake:
        settings = DashboardSettings(functions_url or str(fake.make_url("")), key, "a test key")
        async with TestServer(create_app(settings), host="127.0.0.1") as server, aiohttp.ClientSession() as http:
            yield Dashboard(host, str(server.make_url("")).rstrip("/"), settings.functions_url, http)
