"""HTTP triggers: aiohttp request -> func.HttpRequest -> user function -> func.HttpResponse -> aiohttp response.

Keys are checked as on Azure (devhost/functions/auth.py) unless the host runs with ``--no-key-check``, as
``func start`` does by default.
"""

import logging
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from aiohttp import web

from devhost.durable.trace_context import invocation_context
from devhost.functions.auth import KeyChecker, unauthorized
from devhost.functions.http_routes import RouteTemplate, compile_route
from devhost.functions.invoker import AppWorker
from devhost.functions.loader import HTTP, FunctionSpec, LoadedApp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpRoute:
    spec: FunctionSpec
    template: RouteTemplate

    def allows(self, method: str) -> bool:
        return not self.spec.methods or method.upper() in self.spec.methods


def http_routes(app: LoadedApp) -> list[HttpRoute]:
    return [HttpRoute(spec, compile_route(spec.route)) for spec in app.of_kind(HTTP)]


class HttpTriggerHandler:
    def __init__(self, routes: list[HttpRoute], worker: AppWorker, route_prefix: str, binding: str,
                 checker: KeyChecker | None) -> None:
        self._routes = routes
        self._worker = worker
        self._prefix = route_prefix.strip("/")
        # The durableClient binding value (binding.client_binding).
        self._binding = binding
        self._checker = checker

    def owns(self, path: str) -> str | None:
        """The path below the route prefix, or None when the request is not for HTTP triggers."""
        path = path.strip("/")
        if not self._prefix:
            return path
        if path.lower() == self._prefix.lower():
            return ""
        if path.lower().startswith(self._prefix.lower() + "/"):
            return path[len(self._prefix) + 1:]
        return None

    async def handle(self, request: web.Request, sub_path: str) -> web.StreamResponse:
        allowed: list[str] = []
        for route in self._routes:
            params = route.template.match(sub_path)
            if params is None:
                continue
            if not route.allows(request.method):
                allowed += list(route.spec.methods)
                continue
            return await self._invoke(route.spec, request, params)
        if allowed:
            return web.json_response({"error": f"method {request.method} is not allowed here; allowed: "
                                               f"{', '.join(sorted(set(allowed)))}"}, status=405)
        return web.json_response({"error": f"no HTTP function matches {request.path}"}, status=404)

    async def _invoke(self, spec: FunctionSpec, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        # After routing, before the function runs (FunctionInvocationMiddleware.GetResultAsync in
        # azure-functions-host): an unknown route is still 404 and a wrong method 405, whatever the key.
        if self._checker is not None and not self._checker.may_call(request, spec.name, spec.auth_level):
            return unauthorized()
        body = await request.read()
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        http_request = func.HttpRequest(request.method, str(request.url), headers=headers,
                                        params=dict(request.query), route_params=params, body=body)
        kwargs: dict[str, Any] = {spec.trigger_param: http_request}
        if spec.durable_client_param:
            kwargs[spec.durable_client_param] = self._binding
        # The host's invocation span goes under the caller's traceparent, or starts a trace (trace_context.py).
        trace = invocation_context(request.headers.get("traceparent"), request.headers.get("tracestate"))
        try:
            result = await self._worker.call(spec, kwargs, trace)
        except Exception:
            log.exception("HTTP function %s failed", spec.name)
            return web.json_response({"error": f"Exception while executing function: Functions.{spec.name}"},
                                     status=500)
        return to_aiohttp(result, spec.name)


def to_aiohttp(result: Any, function_name: str) -> web.StreamResponse:
    if result is None:
        return web.Response(status=204)
    if isinstance(result, str):
        return web.Response(text=result, content_type="text/plain")
    if isinstance(result, bytes):
        return web.Response(body=result, content_type="application/octet-stream")
    if not isinstance(result, func.HttpResponse):
        log.error("HTTP function %s returned %s, not an HttpResponse", function_name, type(result).__name__)
        return web.json_response({"error": f"Function {function_name} returned {type(result).__name__}, expected "
                                           "func.HttpResponse, str or bytes"}, status=500)
    response = web.Response(status=result.status_code, body=result.get_body())
    # werkzeug Headers: items() gives every (name, value) pair, repeated names included (e.g. Set-Cookie).
    for name, value in result.headers.items():
        response.headers.add(name, value)
    if "content-type" not in {name.lower() for name, _ in result.headers.items()}:
        mimetype = result.mimetype or "text/plain"
        charset = result.charset or "utf-8"
        response.headers["Content-Type"] = f"{mimetype}; charset={charset}" if mimetype.startswith("text/") \
            else mimetype
    return response
