"""The Durable HTTP API, passed on for the dashboard page: only the calls it makes, with the key added here.

The page runs in a browser and never holds the key; this server, bound to loopback, adds it as ``x-functions-key``
(the header, which the host reads before ``code=``: devhost/functions/auth.py) and passes on only listing, one
instance's status, terminate and purging one instance. Paths, parameters and the paging header are the API's own
(Azure/azure-functions-durable-extension, src/WebJobs.Extensions.DurableTask/HttpApiHandler.cs: ``GetInstancesRoute``
``/instances/{instanceId?}/{operation?}``; the list in ``HandleGetStatusRequestAsync`` reads and answers
``x-ms-continuation-token``; ``HandleDeleteHistoryByIdRequestAsync`` purges one). Purge by filter
(``DELETE /instances``) is not passed on: one click must never purge many instances.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Final
from urllib.parse import quote

import aiohttp
from aiohttp import web
from yarl import URL

from devhost.dashboard.settings import DashboardSettings

log = logging.getLogger(__name__)

API_PATH: Final = "/runtime/webhooks/durabletask"
CONTINUATION_HEADER: Final = "x-ms-continuation-token"
KEY_HEADER: Final = "x-functions-key"
REDACTED: Final = "<key removed by the dashboard>"
SETTINGS: Final = web.AppKey("settings", DashboardSettings)
SESSION: Final = web.AppKey("session", aiohttp.ClientSession)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Query parameters passed on, per call (the extension's names); anything else is refused, never silently dropped.
LIST_QUERY: Final = ("instanceIdPrefix", "runtimeStatus", "top", "showInput", "createdTimeFrom", "createdTimeTo")
STATUS_QUERY: Final = ("showHistory", "showHistoryOutput", "showInput")
TERMINATE_QUERY: Final = ("reason",)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _query(request: web.Request, allowed: tuple[str, ...], what: str) -> dict[str, str] | web.Response:
    unknown = sorted(name for name in request.query if name not in allowed)
    if unknown:
        return _error(400, f"The dashboard does not pass on query parameter {', '.join(map(repr, unknown))} when "
                           f"{what}; it passes on {', '.join(allowed)}.")
    return {name: request.query[name] for name in allowed if name in request.query}


async def _forward(request: web.Request, method: str, path: str, query: Mapping[str, str],
                   headers: Mapping[str, str] | None = None) -> web.Response:
    settings = request.app[SETTINGS]
    # Built from the base URL and an escaped path: nothing from the browser chooses the host or the path's shape.
    url = URL(settings.functions_url + path, encoded=True).with_query(query)
    sent = dict(headers or {})
    if settings.key:
        sent[KEY_HEADER] = settings.key
    try:
        async with request.app[SESSION].request(method, url, headers=sent, allow_redirects=False) as upstream:
            body = await upstream.read()
            status = upstream.status
            content_type = upstream.content_type
            token = upstream.headers.get(CONTINUATION_HEADER)
    except (aiohttp.ClientError, TimeoutError) as error:
        return _error(502, f"The dashboard cannot reach the functions host at {settings.functions_url}: "
                           f"{error or type(error).__name__}.")
    if status == 401:
        refused = "the key it was given" if settings.key else "a request without a key"
        return _error(502, f"The functions host at {settings.functions_url} refused {refused} (HTTP 401): start the "
                           "dashboard with --key holding its durabletask system key or master key, or --data-dir "
                           "with its keys.json.")
    if settings.key and settings.key.encode() in body:
        # The extension puts the system key into management URLs as code=; the browser must never see it.
        body = body.replace(settings.key.encode(), REDACTED.encode())
    answer_headers = {"Cache-Control": "no-store"}
    if token:
        answer_headers[CONTINUATION_HEADER] = token
    log.info("forwarded method=%s path=%s status=%d", method, path, status)
    return web.Response(status=status, body=body, content_type=content_type if body else None,
                        headers=answer_headers)


def _instance_path(request: web.Request, suffix: str = "") -> str:
    return f"{API_PATH}/instances/{quote(request.match_info['instance_id'], safe='')}{suffix}"


async def list_instances(request: web.Request) -> web.Response:
    query = _query(request, LIST_QUERY, "listing instances")
    if isinstance(query, web.Response):
        return query
    token = request.headers.get(CONTINUATION_HEADER)
    # Paging: the page sends back the token of the previous answer.
    headers = {CONTINUATION_HEADER: token} if token else {}
    return await _forward(request, "GET", f"{API_PATH}/instances", query, headers)


async def instance_status(request: web.Request) -> web.Response:
    query = _query(request, STATUS_QUERY, "reading an instance's status")
    if isinstance(query, web.Response):
        return query
    return await _forward(request, "GET", _instance_path(request), query)


async def terminate(request: web.Request) -> web.Response:
    query = _query(request, TERMINATE_QUERY, "terminating an instance")
    if isinstance(query, web.Response):
        return query
    return await _forward(request, "POST", _instance_path(request, "/terminate"), query)


async def purge(request: web.Request) -> web.Response:
    query = _query(request, (), "purging an instance")
    if isinstance(query, web.Response):
        return query
    return await _forward(request, "DELETE", _instance_path(request), query)


async def refused(request: web.Request) -> web.Response:
    return _error(404, f"The dashboard does not pass on {request.method} {request.path}: it passes on only listing "
                       "instances, one instance's status, terminating one and purging one.")


def add_routes(app: web.Application) -> None:
    instance = "{instance_id:[^/]+}"
    app.router.add_get(f"{API_PATH}/instances", list_instances)
    app.router.add_get(f"{API_PATH}/instances/", list_instances)
    app.router.add_get(f"{API_PATH}/instances/{instance}", instance_status)
    app.router.add_post(f"{API_PATH}/instances/{instance}/terminate", terminate)
    app.router.add_delete(f"{API_PATH}/instances/{instance}", purge)
    app.router.add_route("*", API_PATH + "/{tail:(?s:.*)}", refused)
