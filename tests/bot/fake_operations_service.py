"""A stand-in for the function app on a real loopback port, speaking its wire contract.

Routes: ``POST /api/operations`` (the HTTP starter), and Durable's ``GET .../instances/{id}``,
``POST .../instances/{id}/terminate?reason=...`` and ``POST .../instances/{id}/raiseEvent/{event}``. Tests steer it
through plain attributes.
"""

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from contract import Progress, StartRequest, make_instance_id

INSTANCES = "/runtime/webhooks/durabletask/instances"
# The Durable webhooks' system key, which the check-status URLs carry in code= as the extension's do.
SYSTEM_KEY = "system"


@dataclass
class Instance:
    request: StartRequest
    runtime_status: str = "Running"
    progress: Progress | None = None
    # Sent as customStatus instead of ``progress`` when set (an orchestration with an odd custom status).
    raw_custom_status: Any = None
    terminate_reasons: list[str] = field(default_factory=list)
    # (event name, JSON payload) of every external event raised, in order.
    raised: list[tuple[str, Any]] = field(default_factory=list)


class FakeOperationsService:
    def __init__(self, key: str = "") -> None:
        self.key = key
        self.instances: dict[str, Instance] = {}
        # When set, POST /api/operations answers this (status, JSON body) instead of starting anything.
        self.start_answer: tuple[int, Any] | None = None
        # When set, status queries answer this HTTP status with an error body.
        self.status_error: int | None = None
        # When set, status and terminate requests wait for this event before answering; `gated` counts them.
        self.gate: asyncio.Event | None = None
        self.gated = 0
        # When set, terminate requests answer this HTTP status with an error body.
        self.terminate_error: int | None = None
        # (path, x-functions-key header or None) of every request.
        self.seen_keys: list[tuple[str, str | None]] = []
        # When set, POST /api/operations waits for this event before answering (a hung service).
        self.hang_until: asyncio.Event | None = None
        self._numbers = itertools.count(1)
        app = web.Application(middlewares=[self._record_key])
        app.router.add_post("/api/operations", self._start)
        app.router.add_get(INSTANCES + "/{id}", self._status)
        app.router.add_post(INSTANCES + "/{id}/terminate", self._terminate)
        app.router.add_post(INSTANCES + "/{id}/raiseEvent/{event}", self._raise_event)
        self.server = TestServer(app, host="127.0.0.1")

    async def __aenter__(self) -> "FakeOperationsService":
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for gate in (self.hang_until, self.gate):
            if gate is not None:
                gate.set()
        await self.server.close()

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def only_instance(self) -> tuple[str, Instance]:
        assert len(self.instances) == 1, f"expected one started instance, got {list(self.instances)}"
        return next(iter(self.instances.items()))

    @web.middleware
    async def _record_key(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.seen_keys.append((request.path, request.headers.get("x-functions-key")))
        response: web.StreamResponse = await handler(request)
        return response

    async def _start(self, request: web.Request) -> web.Response:
        if self.hang_until is not None:
            await self.hang_until.wait()
        if self.key and request.headers.get("x-functions-key") != self.key:
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.start_answer is not None:
            status, body = self.start_answer
            return web.json_response(body, status=status)
        start = StartRequest.from_json(await request.json())
        instance_id = make_instance_id(start.channel_id, start.conversation_id, f"{next(self._numbers):08d}")
        self.instances[instance_id] = Instance(start)
        base = f"{self.url}{INSTANCES}/{instance_id}"
        return web.json_response(
            {
                "id": instance_id,
                "statusQueryGetUri": f"{base}?code={SYSTEM_KEY}",
                "sendEventPostUri": f"{base}/raiseEvent/{{eventName}}?code={SYSTEM_KEY}",
                "terminatePostUri": f"{base}/terminate?reason={{text}}&code={SYSTEM_KEY}",
                "rewindPostUri": f"{base}/rewind?reason={{text}}&code={SYSTEM_KEY}",
                "purgeHistoryDeleteUri": f"{base}?code={SYSTEM_KEY}",
                "restartPostUri": f"{base}/restart?code={SYSTEM_KEY}",
                "suspendPostUri": f"{base}/suspend?reason={{text}}&code={SYSTEM_KEY}",
                "resumePostUri": f"{base}/resume?reason={{text}}&code={SYSTEM_KEY}",
            },
            status=202,
        )

    @staticmethod
    def _webhook_refuses(request: web.Request) -> bool:
        """As the Functions host: the x-functions-key header, when present, wins over code=, and the Durable webhooks
        take only the system key (devhost/functions/auth.py has the sources)."""
        key = request.headers.get("x-functions-key", request.query.get("code", ""))
        return key != SYSTEM_KEY

    async def _status(self, request: web.Request) -> web.Response:
        if self._webhook_refuses(request):
            return web.Response(status=401)
        await self._pass_gate()
        if self.status_error is not None:
            return web.json_response({"error": "status unavailable"}, status=self.status_error)
        instance = self.instances.get(request.match_info["id"])
        if instance is None:
            return web.json_response({"error": "instance not found"}, status=404)
        body = {
            "name": "long_operation",
            "instanceId": request.match_info["id"],
            "runtimeStatus": instance.runtime_status,
            "input": instance.request.to_json(),
            "customStatus": instance.raw_custom_status
            if instance.raw_custom_status is not None
            else (instance.progress.to_json() if instance.progress else None),
            "output": None,
            "createdTime": "2025-01-01T00:00:00Z",
            "lastUpdatedTime": "2025-01-01T00:00:01Z",
        }
        running = instance.runtime_status in ("Running", "Pending")
        return web.json_response(body, status=202 if running else 200)

    async def _pass_gate(self) -> None:
        if self.gate is not None:
            self.gated += 1
            await self.gate.wait()

    async def _terminate(self, request: web.Request) -> web.Response:
        if self._webhook_refuses(request):
            return web.Response(status=401)
        await self._pass_gate()
        if self.terminate_error is not None:
            return web.json_response({"error": "terminate failed"}, status=self.terminate_error)
        instance = self.instances.get(request.match_info["id"])
        if instance is None:
            return web.json_response({"error": "instance not found"}, status=404)
        if instance.runtime_status not in ("Running", "Pending"):
            return web.json_response({"error": "instance already finished"}, status=410)
        instance.terminate_reasons.append(request.query.get("reason", ""))
        instance.runtime_status = "Terminated"
        return web.Response(status=202)

    async def _raise_event(self, request: web.Request) -> web.Response:
        # As HttpApiHandler.HandleRaiseEventRequestAsync (and the devhost, devhost/functions/durable_api.py): 404 for
        # an unknown instance and 410 for a finished one before the body's checks, then JSON only.
        if self._webhook_refuses(request):
            return web.Response(status=401)
        instance = self.instances.get(request.match_info["id"])
        if instance is None:
            return web.json_response({"error": "instance not found"}, status=404)
        if instance.runtime_status not in ("Running", "Pending"):
            return web.json_response({"error": "instance already finished"}, status=410)
        if request.content_type != "application/json":
            return web.json_response({"Message": "Only application/json request content is supported"}, status=400)
        instance.raised.append((request.match_info["event"], await request.json()))
        return web.Response(status=202)
