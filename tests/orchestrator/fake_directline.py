"""A loopback Direct Line 3.0 service, just the calls the function app makes (directline.md §1.3-1.4).

It records every request and can be told to answer a call with an error status and Direct Line's
``{"error": {"code", "message"}}`` body, every time or only the first few times. ``transcript`` is what GET
activities answers (what the bot sent into the conversation).
"""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

SECRET = "dl-secret-for-tests"
TOKEN = "dl-token-for-tests"
CONVERSATION_ID = "conv-1234-us"


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str
    body: Any


@dataclass
class FakeDirectLine:
    requests: list[Recorded] = field(default_factory=list)
    # operation ("start" | "post") -> (status, code, message) to answer with instead of success.
    failures: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    # operation -> how many calls fail before it succeeds again; an operation not listed fails every time.
    failure_budget: dict[str, int] = field(default_factory=dict)
    issue_token: bool = True
    # operation -> headers of its failure answer (e.g. Retry-After on a 429)
    failure_headers: dict[str, dict[str, str]] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    # Starts answer only once this many have arrived (0: at once), so starts made one after another never finish:
    # a start that waits more than 5 s for the others fails 503.
    starts_together: int = 0
    _starts_arrived: int = 0

    def app(self, prefix: str = "/v3/directline") -> web.Application:
        app = web.Application()
        app.router.add_post(f"{prefix}/conversations", self._start)
        app.router.add_post(f"{prefix}/conversations/{{conversation_id}}/activities", self._post)
        app.router.add_get(f"{prefix}/conversations/{{conversation_id}}/activities", self._activities)
        return app

    async def _record(self, request: web.Request) -> None:
        body = await request.json() if request.can_read_body else None
        self.requests.append(Recorded(request.method, request.path, request.headers.get("Authorization", ""), body))

    def _failure(self, operation: str) -> web.Response | None:
        if operation not in self.failures:
            return None
        if operation in self.failure_budget:
            if self.failure_budget[operation] <= 0:
                return None
            self.failure_budget[operation] -= 1
        status, code, message = self.failures[operation]
        return web.json_response({"error": {"code": code, "message": message}}, status=status,
                                 headers=self.failure_headers.get(operation, {}))

    async def _start(self, request: web.Request) -> web.Response:
        await self._record(request)
        if request.headers.get("Authorization") != f"Bearer {SECRET}":
            return web.json_response({"error": {"code": "BadArgument", "message": "Missing token or secret"}},
                                     status=401)
        failure = self._failure("start")
        if failure is not None:
            return failure
        if self.starts_together and not await self._the_others_arrived():
            return web.json_response({"error": {"code": "ServiceError", "message": "the starts came one by one"}},
                                     status=503)
        body: dict[str, Any] = {"conversationId": CONVERSATION_ID, "expires_in": 1800}
        if self.issue_token:
            body["token"] = TOKEN
        return web.json_response(body, status=201)

    async def _post(self, request: web.Request) -> web.Response:
        await self._record(request)
        expected = TOKEN if self.issue_token else SECRET
        if request.headers.get("Authorization") != f"Bearer {expected}":
            return web.json_response({"error": {"code": "BadArgument", "message": "Security token not valid"}},
                                     status=403)
        if request.match_info["conversation_id"] != CONVERSATION_ID:
            return web.json_response({"error": {"code": "BadArgument", "message": "Conversation not found"}},
                                     status=404)
        failure = self._failure("post")
        if failure is not None:
            return failure
        return web.json_response({"id": f"{CONVERSATION_ID}|0000001"})


    async def _the_others_arrived(self) -> bool:
        self._starts_arrived += 1
        for _ in range(500):
            if self._starts_arrived >= self.starts_together:
                return True
            await asyncio.sleep(0.01)
        return False

    async def _activities(self, request: web.Request) -> web.Response:
        await self._record(request)
        watermark = int(request.query.get("watermark") or 0)
        page = self.transcript[watermark:]
        return web.json_response({"activities": page, "watermark": str(len(self.transcript))})


def server_for(fake: FakeDirectLine, prefix: str = "/v3/directline") -> TestServer:
    # TestServer binds 127.0.0.1 on a free port.
    return TestServer(fake.app(prefix), host="127.0.0.1")
