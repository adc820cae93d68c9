"""HTTP plumbing shared by both faces: Direct Line error bodies, CORS, tolerant paths, bounded JSON bodies."""

import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from devhost.directline.errors import BadRequest, DirectLineError, PayloadTooLarge, Throttled

log = logging.getLogger(__name__)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "authorization, content-type, x-ms-bot-agent",
    "Access-Control-Max-Age": "600",
}


def error_response(error: DirectLineError) -> web.Response:
    # Retry-After in seconds, as the Bot Framework FAQ says the service sends it ("How will I know if I'm impacted
    # by rate limiting?"). DirectLineJS waits that many *milliseconds* before failing the post (wrapAjaxWithRetry,
    # BotFramework-DirectLineJS src/directLine.ts), so a throttled Web Chat post fails at once.
    headers = {"Retry-After": f"{error.retry_after_seconds:g}"} if isinstance(error, Throttled) else None
    return web.json_response(error.body(), status=error.status, headers=headers)


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Web Chat and DirectLineJS in a browser send a preflight per URL (they set Authorization and x-ms-bot-agent)."""
    if request.method == "OPTIONS":
        return web.Response(status=200, headers=CORS_HEADERS)
    try:
        response = await handler(request)
    except web.HTTPException as http_error:
        http_error.headers.update(CORS_HEADERS)
        raise
    if not response.prepared:  # a WebSocket has sent its headers already (and needs no CORS)
        response.headers.update(CORS_HEADERS)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DirectLineError as error:
        return error_response(error)
    except web.HTTPNotFound:
        return web.json_response({"error": {"code": "NotFound", "message": f"no route for {request.path}"}}, status=404)
    except web.HTTPMethodNotAllowed:
        return web.json_response(
            {"error": {"code": "MethodNotAllowed", "message": f"{request.method} is not allowed on {request.path}"}},
            status=405,
        )


@web.middleware
async def merge_slashes_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Serve ``//v3/conversations/...`` like ``/v3/...``: a client that glues a trailing-slash serviceUrl to an
    absolute path makes a double slash. The route is re-resolved in place (no redirect, so POST bodies survive)."""
    path = request.rel_url.raw_path
    if "//" not in path:
        return await handler(request)
    while "//" in path:
        path = path.replace("//", "/")
    query = request.rel_url.raw_query_string
    clone = request.clone(rel_url=path + (f"?{query}" if query else ""))
    match_info = await request.app.router.resolve(clone)
    match_info.add_app(request.app)
    # aiohttp has no public setter for a clone's match info; its own resolve step assigns this same attribute.
    clone._match_info = match_info
    return await match_info.handler(clone)


async def read_json_object(request: web.Request, limit: int, *, optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object, or a Direct Line error naming what is wrong with it."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the request body is {request.content_length} bytes; the limit is {limit}")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"the request body exceeds the limit of {limit} bytes") from None
    if len(raw) > limit:
        raise PayloadTooLarge(f"the request body is {len(raw)} bytes; the limit is {limit}")
    if not raw.strip():
        if optional:
            return {}
        raise BadRequest("the request body is empty; expected a JSON object")
    return parse_json_object(raw, "request body")


def parse_json_object(raw: bytes, what: str) -> dict[str, Any]:
    """``raw`` (``what``: "request body", an upload's activity part) as a JSON object, or BadRequest naming it."""
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadRequest(f"the {what} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise BadRequest(f"the {what} must be a JSON object, got {type(value).__name__}")
    return value
