"""The Durable HTTP API, reference §C3: under /runtime/webhooks/durabletask/ on the host's port (keys checked by
the server), and under /durabletask/ on the loopback RPC listener the SDK's client calls (the binding's rpcBaseUrl).

Routing, status codes and bodies follow the extension's ``HttpApiHandler.HandleRequestAsync`` and its handlers
(Azure/azure-functions-durable-extension, src/WebJobs.Extensions.DurableTask/HttpApiHandler.cs): route literals and
operation names match case-insensitively (ASP.NET's TemplateMatcher, ``StringComparison.OrdinalIgnoreCase``),
query parameter names too (``GetQueryNameValuePairs``), values that do not parse are ignored (``TryGet*``), and
404, 410 and every other ``CreateResponse(status)`` answer have no body.
"""

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import unquote

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
from devhost.durable.timefmt import to_epoch, utc_now
from devhost.durable.trace_context import TraceContext
from devhost.functions.binding import WEBHOOK_PATH
from devhost.functions.durable_params import (
    HostException,
    Params,
    check_status_payload,
    dotnet_number,
    parse_json_body,
    seconds_to_timespan,
)

CONTINUATION_HEADER: Final = "x-ms-continuation-token"
DEFAULT_PAGE_SIZE: Final = 100  # OrchestrationStatusQueryCondition.PageSize
Route = Callable[..., Awaitable[web.StreamResponse]]
_OPERATIONS: Final = ("terminate", "rewind", "restart", "suspend", "resume")


def _error(status: int, message: str, exception_message: str, exception_type: str) -> web.Response:
    # HttpRequestMessageExtensions.CreateErrorResponse(request, status, message, exception)
    return web.json_response({"Message": message, "ExceptionMessage": exception_message,
                              "ExceptionType": exception_type, "StackTrace": None}, status=status)


def error_response(exc: DurableError) -> web.Response:
    text = str(exc)
    if isinstance(exc, InvalidRequest):
        return _error(400, exc.message, text, exc.exception_type)
    if isinstance(exc, InstanceNotFound):
        return web.Response(status=404)
    if isinstance(exc, InstanceGone):
        return web.Response(status=410)
    if isinstance(exc, HostException):
        return _error(500, "Something went wrong while processing your request", text, exc.exception_type)
    if isinstance(exc, InstanceConflict | InvalidInstanceState):
        return _error(500, "Something went wrong while processing your request", text,
                      "System.InvalidOperationException")
    return _error(500, "Something went wrong while processing your request", text, type(exc).__name__)


class DurableApi:
    def __init__(self, client: TaskHubClient, hub: str, system_key: str | None, base_path: str = WEBHOOK_PATH) -> None:
        self._client = client
        self._hub = hub
        # Put in the management URLs as code=, as the extension does (binding.py).
        self._system_key = system_key
        self._base_path = base_path

    def routes(self) -> list[web.RouteDef]:
        # The base path matches ignoring case, as ASP.NET routing does (the host's key check lower-cases it too).
        parts = self._base_path.strip("/").split("/")
        p = "".join(f"/{{_base{i}:(?i:{re.escape(part)})}}" for i, part in enumerate(parts))
        # One handler routes every path below the webhook as HandleRequestAsync does; "(?s)" so a path with an
        # encoded newline still reaches it.
        return [web.route("*", p, self.dispatch), web.route("*", p + "/{tail:(?s:.*)}", self.dispatch)]

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        try:
            handler, args = self._route(request)
            if handler is None:
                return web.Response(status=404)
            return await handler(request, *args)
        except DurableError as exc:
            return error_response(exc)

    def _route(self, request: web.Request) -> tuple[Route | None, tuple[Any, ...]]:
        # Split the path before decoding it, so an encoded "/" stays inside its segment (the extension matches
        # routes on the escaped AbsolutePath).
        depth = self._base_path.count("/")
        parts = request.rel_url.raw_path.split("/", depth + 1)
        tail = parts[depth + 1] if len(parts) > depth + 1 else ""
        segments = [unquote(part) for part in tail.strip("/").split("/")] if tail.strip("/") else []
        head = segments[0].lower() if segments else ""
        method = request.method
        if head == "orchestrators" and len(segments) in (2, 3):
            new_id = segments[2] if len(segments) == 3 else ""
            return (self.start, (segments[1], new_id)) if method == "POST" else (None, ())
        if head == "instances" and len(segments) <= 3:
            instance_id = segments[1] if len(segments) > 1 else None
            operation = segments[2].lower() if len(segments) > 2 else None
            if instance_id is None:
                handlers: dict[str, Route] = {"GET": self.list_instances, "DELETE": self.purge_by}
                return (handlers[method], ()) if method in handlers else (None, ())
            if operation is None:
                handlers = {"GET": self.status, "DELETE": self.purge}
                return (handlers[method], (instance_id,)) if method in handlers else (None, ())
            if method == "POST" and operation in _OPERATIONS:
                return (self.restart if operation == "restart" else self.operate), (instance_id, operation)
            return None, ()
        if head == "instances" and len(segments) == 4 and segments[2].lower() == "raiseevent":
            return (self.raise_event, (segments[1], segments[3])) if method == "POST" else (None, ())
        return None, ()

    def _check_status(self, request: web.Request, instance_id: str) -> web.Response:
        origin = f"{request.scheme}://{request.host}"
        urls = check_status_payload(origin, self._hub, instance_id, self._system_key)
        return web.json_response(urls, status=202, headers={"Location": urls["statusQueryGetUri"],
                                                             "Retry-After": "10"})

    async def start(self, request: web.Request, name: str, instance_id: str) -> web.StreamResponse:
        # HandleStartOrchestratorRequestAsync: the body, then StartNewAsync, then the wait parameters.
        raw_input = parse_json_body(await request.read())
        params = Params(request)
        # The Python client sends its caller's trace context (DurableOrchestrationClient.start_new); the
        # orchestration's spans go under it (devhost/durable/trace_context.py).
        caller = TraceContext.parse(request.headers.get("traceparent"), request.headers.get("tracestate"))
        instance_id = await self._client.start(name, instance_id or None, raw_input,
                                               request.query.get("version") or None, caller)
        timeout, interval = params.number("timeout"), params.number("pollingInterval")
        if timeout is None or interval is None:
            # It waits only when BOTH are given (and parse).
            return self._check_status(request, instance_id)
        wait, poll = seconds_to_timespan(timeout), seconds_to_timespan(interval)
        if poll > wait:
            raise InvalidRequest(f"Total timeout {dotnet_number(wait)} should be bigger than retry timeout "
                                 f"{dotnet_number(poll)}")
        return await self._wait(request, instance_id, wait, poll)

    async def _wait(self, request: web.Request, instance_id: str, wait_seconds: float, interval: float,
                    ) -> web.StreamResponse:
        """WaitForCompletionOrCreateCheckStatusResponseAsync: the output, the status (never 500), or 202."""
        started = time.monotonic()
        while True:
            body = await self._client.status(instance_id, StatusOptions())
            status = None if body is None else body["runtimeStatus"]
            if status in rs.TERMINAL:
                break
            elapsed = time.monotonic() - started
            if elapsed >= wait_seconds:
                break
            await asyncio.sleep(max(0.0, min(interval, wait_seconds - elapsed)))
        if body is not None and status == rs.COMPLETED:
            return web.json_response(body["output"], status=200)
        if status in rs.TERMINAL:
            return await self._status_response(request, instance_id, internal_error_on_failure=False)
        return self._check_status(request, instance_id)

    async def status(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        return await self._status_response(request, instance_id, None)

    async def _status_response(self, request: web.Request, instance_id: str,
                               internal_error_on_failure: bool | None) -> web.StreamResponse:
        # HandleGetStatusRequestAsync
        params = Params(request)
        options = StatusOptions(params.flag("showHistory", False), params.flag("showHistoryOutput", False),
                                params.flag("showInput", True))
        body = await self._client.status(instance_id, options)
        if body is None:
            return web.Response(status=404)
        status = body["runtimeStatus"]
        if status in rs.ACTIVE:
            return web.json_response(body, status=202, headers={"Location": str(request.url), "Retry-After": "5"})
        if internal_error_on_failure is None:
            internal_error_on_failure = params.flag("returnInternalServerErrorOnFailure", False)
        if status == rs.FAILED and internal_error_on_failure:
            return web.json_response(body, status=500)
        return web.json_response(body, status=200)

    async def list_instances(self, request: web.Request) -> web.Response:
        params = Params(request)
        top = params.integer("top")
        items, token = await self._client.list(params.query(), params.flag("showInput", True),
                                               top if top is not None and top > 0 else DEFAULT_PAGE_SIZE,
                                               request.headers.get(CONTINUATION_HEADER))
        # The header is always there; on the last page it is empty (response.Headers.Add(..., null)).
        return web.json_response(items, status=200, headers={CONTINUATION_HEADER: token})

    async def purge(self, request: web.Request, instance_id: str) -> web.Response:
        deleted = await self._client.purge(instance_id)
        if not deleted:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted}, status=200)

    async def purge_by(self, request: web.Request) -> web.Response:
        # HandleDeleteHistoryWithFiltersRequestAsync
        params = Params(request)
        query = params.query()
        if query.created_from is None:
            return web.json_response("Please provide value for 'createdTimeFrom' parameter.", status=400)
        created_to = query.created_to if query.created_to is not None else to_epoch(utc_now())
        deleted = await self._client.purge_by(InstanceQuery(query.created_from, created_to, query.statuses))
        if not deleted:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted}, status=200)

    async def raise_event(self, request: web.Request, instance_id: str, event: str) -> web.Response:
        await self._client.ensure_open(instance_id)  # 404 / 410 come before the content checks
        if request.content_type.lower() != "application/json":
            return web.json_response({"Message": "Only application/json request content is supported"}, status=400)
        # MessagePayloadDataConverter.ConvertToJToken: an empty body is no JSON either.
        payload = parse_json_body(await request.read(), empty_is_null=False)
        # Recorded as json.dumps(parsed body): the Python client's double encoding arrives as a str (§C3, #295).
        await self._client.raise_event(instance_id, event, payload)
        return web.Response(status=202)

    async def operate(self, request: web.Request, instance_id: str, operation: str) -> web.Response:
        reason = Params(request).text("reason")
        if operation == "terminate":
            await self._client.terminate(instance_id, reason)
        elif operation == "suspend":
            await self._client.suspend(instance_id, reason)
        elif operation == "resume":
            await self._client.resume(instance_id, reason)
        else:
            await self._client.rewind(instance_id, reason)
        return web.Response(status=202)

    async def restart(self, request: web.Request, instance_id: str, _operation: str) -> web.StreamResponse:
        params = Params(request)
        new_id = params.flag("restartWithNewInstanceId", True)
        restarted = await self._client.restart(instance_id, new_id)
        timeout, interval = params.number("timeout"), params.number("pollingInterval")
        if timeout is None or interval is None:
            return self._check_status(request, restarted)
        wait, poll = seconds_to_timespan(timeout), seconds_to_timespan(interval)
        if poll > wait:
            raise InvalidRequest(f"Total timeout {dotnet_number(wait)} should be bigger than retry timeout "
                                 f"{dotnet_number(poll)}", "InstanceId does not match a valid orchestration instance.")
        return await self._wait(request, restarted, wait, poll)


__all__ = ["DurableApi", "error_response"]
