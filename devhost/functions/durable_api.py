"""The Durable HTTP API, reference §C3: under /runtime/webhooks/durabletask/ on the host's port (keys checked by
the server), and under /durabletask/ on the loopback RPC listener the SDK's client calls (the binding's rpcBaseUrl)."""

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from devhost.durable import runtime_status as rs
from devhost.durable.client import StatusOptions, TaskHubClient
from devhost.durable.errors import (
    DurableError,
    InstanceConflict,
    InstanceGone,
    InstanceNotFound,
    InvalidInstanceState,
    InvalidRequest,
)
from devhost.durable.store import InstanceQuery
from devhost.durable.timefmt import parse, to_epoch
from devhost.functions.binding import WEBHOOK_PATH, management_urls

CONTINUATION_HEADER: Final = "x-ms-continuation-token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str, exception_message: str, exception_type: str) -> web.Response:
    return web.json_response({"Message": message, "ExceptionMessage": exception_message,
                              "ExceptionType": exception_type, "StackTrace": ""}, status=status)


def error_response(exc: DurableError) -> web.Response:
    text = str(exc)
    if isinstance(exc, InvalidRequest):
        return _error(400, "One or more of the arguments submitted is incorrect", text, "System.ArgumentException")
    if isinstance(exc, InstanceNotFound):
        return web.json_response({"Message": text}, status=404)
    if isinstance(exc, InstanceGone):
        return web.json_response({"Message": text}, status=410)
    if isinstance(exc, InstanceConflict | InvalidInstanceState):
        return _error(500, "Something went wrong while processing your request", text,
                      "System.InvalidOperationException")
    return _error(500, "Something went wrong while processing your request", text, type(exc).__name__)


def _flag(request: web.Request, name: str, default: bool = False) -> bool:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise InvalidRequest(f"Query parameter {name} must be true or false, got {value!r}.")


def _time(request: web.Request, name: str) -> float | None:
    value = request.query.get(name)
    if not value:
        return None
    try:
        return to_epoch(parse(value))
    except (ValueError, OverflowError):
        raise InvalidRequest(f"Query parameter {name} is not an ISO-8601 time: {value!r}.") from None


def _query(request: web.Request) -> InstanceQuery:
    statuses: set[str] = set()
    by_lower = {s.lower(): s for s in rs.ALL}
    for part in (request.query.get("runtimeStatus") or "").split(","):
        if part.strip():
            status = by_lower.get(part.strip().lower())
            if status is None:
                raise InvalidRequest(f"runtimeStatus {part.strip()!r} is not one of {', '.join(sorted(rs.ALL))}.")
            statuses.add(status)
    return InstanceQuery(_time(request, "createdTimeFrom"), _time(request, "createdTimeTo"), frozenset(statuses),
                         request.query.get("instanceIdPrefix") or None)


class DurableApi:
    def __init__(self, client: TaskHubClient, hub: str, system_key: str | None, base_path: str = WEBHOOK_PATH) -> None:
        self._client = client
        self._hub = hub
        # Put in the management URLs as code=, as the extension does (binding.py).
        self._system_key = system_key
        self._base_path = base_path

    def routes(self) -> list[web.RouteDef]:
        p = self._base_path
        w = self._wrap
        # Explicit segment patterns: aiohttp's default for {name} is [^{}/]+, so an instance id or event name with a
        # brace (valid in Durable Functions) fell through to "no route"; and "." skips newlines in the catch-all.
        seg = "[^/]+"
        name, instance, event = f"{{name:{seg}}}", f"{{instance_id:{seg}}}", f"{{event:{seg}}}"
        return [
            web.post(p + f"/orchestrators/{name}", w(self.start)),
            web.post(p + f"/orchestrators/{name}/{instance}", w(self.start)),
            web.get(p + "/instances", w(self.list_instances)),
            web.get(p + "/instances/", w(self.list_instances)),
            web.delete(p + "/instances", w(self.purge_by)),
            web.delete(p + "/instances/", w(self.purge_by)),
            web.get(p + f"/instances/{instance}", w(self.status)),
            web.delete(p + f"/instances/{instance}", w(self.purge)),
            web.post(p + f"/instances/{instance}/raiseEvent/{event}", w(self.raise_event)),
            web.post(p + f"/instances/{instance}/{{operation:terminate|suspend|resume|rewind}}", w(self.operate)),
            web.post(p + f"/instances/{instance}/restart", w(self.restart)),
            web.route("*", p + "/{tail:(?s:.*)}", self.not_found),
        ]

    def _wrap(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except DurableError as exc:
                return error_response(exc)

        return guarded

    async def not_found(self, request: web.Request) -> web.Response:
        return web.json_response({"Message": f"No Durable API route matches {request.method} {request.path}"},
                                 status=404)

    def _check_status(self, request: web.Request, instance_id: str) -> web.Response:
        origin = f"{request.scheme}://{request.host}"
        urls = management_urls(origin, self._hub, instance_id, self._system_key)
        return web.json_response(urls, status=202, headers={"Location": urls["statusQueryGetUri"],
                                                             "Retry-After": "10"})

    async def start(self, request: web.Request) -> web.StreamResponse:
        text = (await request.read()).decode("utf-8", errors="replace")
        # The stored input is the parsed body re-serialised; the Python client's body is a JSON string.
        raw_input = _reencode_body(text) if text.strip() else None
        timeout = _number(request, "timeout")
        interval = _number(request, "pollingInterval")
        instance_id = await self._client.start(request.match_info["name"], request.match_info.get("instance_id"),
                                               raw_input, request.query.get("version") or None)
        if timeout is None:
            return self._check_status(request, instance_id)
        return await self._wait(request, instance_id, timeout, interval or 1.0)

    async def _wait(self, request: web.Request, instance_id: str, wait_seconds: float, interval: float) -> web.Response:
        deadline = time.monotonic() + wait_seconds
        while True:
            body = await self._client.status(instance_id, StatusOptions())
            status = None if body is None else body["runtimeStatus"]
            if body is not None and status == rs.COMPLETED:
                return web.json_response(body["output"], status=200)
            if body is not None and status in rs.TERMINAL:
                return web.json_response(body, status=500 if status == rs.FAILED else 200)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._check_status(request, instance_id)
            await asyncio.sleep(min(interval, remaining))

    async def status(self, request: web.Request) -> web.Response:
        options = StatusOptions(_flag(request, "showHistory"), _flag(request, "showHistoryOutput"),
                                _flag(request, "showInput", default=True))
        body = await self._client.status(request.match_info["instance_id"], options)
        if body is None:
            return web.Response(status=404)
        status = body["runtimeStatus"]
        if status in rs.ACTIVE:
            return web.json_response(body, status=202, headers={"Location": str(request.url), "Retry-After": "5"})
        if status == rs.FAILED and _flag(request, "returnInternalServerErrorOnFailure"):
            return web.json_response(body, status=500)
        return web.json_response(body, status=200)

    async def list_instances(self, request: web.Request) -> web.Response:
        top = _number(request, "top")
        if top is not None and (top < 1 or top != int(top)):
            raise InvalidRequest("top must be a positive integer.")
        items, token = await self._client.list(_query(request), _flag(request, "showInput", default=True),
                                               None if top is None else int(top),
                                               request.headers.get(CONTINUATION_HEADER))
        headers = {CONTINUATION_HEADER: token} if token else {}
        return web.json_response(items, status=200, headers=headers)

    async def purge(self, request: web.Request) -> web.Response:
        deleted = await self._client.purge(request.match_info["instance_id"])
        return web.json_response({"instancesDeleted": deleted}, status=200 if deleted else 404)

    async def purge_by(self, request: web.Request) -> web.Response:
        deleted = await self._client.purge_by(_query(request))
        return web.json_response({"instancesDeleted": deleted}, status=200 if deleted else 404)

    async def raise_event(self, request: web.Request) -> web.Response:
        instance_id = request.match_info["instance_id"]
        await self._client.ensure_open(instance_id)  # 404 / 410 come before the content checks
        if request.content_type != "application/json":
            return web.json_response({"Message": "Only application/json request content is supported"}, status=400)
        text = (await request.read()).decode("utf-8", errors="replace")
        try:
            payload = _reencode_body(text) if text.strip() else "null"
        except InvalidRequest as exc:
            return web.json_response({"Message": str(exc)}, status=400)
        # Recorded as json.dumps(parsed body): the Python client's double encoding arrives as a str (§C3, #295).
        await self._client.raise_event(instance_id, request.match_info["event"], payload)
        return web.Response(status=202)

    async def operate(self, request: web.Request) -> web.Response:
        instance_id = request.match_info["instance_id"]
        reason = request.query.get("reason", "")
        operation = request.match_info["operation"]
        if operation == "terminate":
            await self._client.terminate(instance_id, reason)
        elif operation == "suspend":
            await self._client.suspend(instance_id, reason)
        elif operation == "resume":
            await self._client.resume(instance_id, reason)
        else:
            await self._client.rewind(instance_id, reason)
        return web.Response(status=202)

    async def restart(self, request: web.Request) -> web.Response:
        new_id = _flag(request, "restartWithNewInstanceId", default=True)
        instance_id = await self._client.restart(request.match_info["instance_id"], new_id)
        return self._check_status(request, instance_id)


def _reencode_body(text: str) -> str:
    """A request body as canonical JSON text; InvalidRequest when it is not JSON."""
    try:
        return json.dumps(json.loads(text))
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc}.") from None
    except RecursionError:  # [[[[... nested deeper than the parser's stack
        raise InvalidRequest("The request body is not valid JSON: it is nested too deeply.") from None


def _number(request: web.Request, name: str) -> float | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise InvalidRequest(f"Query parameter {name} must be a number, got {value!r}.") from None
    # float() accepts "nan" and "inf": top=inf crashed int() (500) and timeout=nan|inf made start-and-wait poll forever.
    if not math.isfinite(number):
        raise InvalidRequest(f"Query parameter {name} must be a finite number, got {value!r}.")
    if number < 0:
        raise InvalidRequest(f"Query parameter {name} must not be negative.")
    return number


__all__ = ["DurableApi", "error_response"]
