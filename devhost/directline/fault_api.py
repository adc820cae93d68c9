"""The stand-in's fault control, ``/devhost/faults``: devhost-only (Direct Line has no such route), for fault tests.

What it controls is the fault mode of the stand-in's Bot Connector routes (devhost/connector_faults.py): the next
posts the bot makes to a conversation fail on purpose. Only the Direct Line secret may use it (a conversation's
token may not: a Web Chat page holds one), checked like every other call.

    POST   /devhost/faults  {"kind", "conversationId"?, "count"?, "after"?, "retryAfter"?}  -> 201 {"planned": [...]}
    GET    /devhost/faults  -> 200 {"planned": [...], "answered": [{"conversationId", "kind", "status"}]}
    DELETE /devhost/faults  -> 200 {"planned": []}  (and ends any throttling)
"""

from typing import Any

from aiohttp import web

from devhost.botconnector import FAULTS
from devhost.directline.errors import BadRequest, Forbidden
from devhost.directline.middleware import read_json_object
from devhost.directline.state import SERVICE

PATH = "/devhost/faults"
_FIELDS = {"kind", "conversationId", "count", "after", "retryAfter"}


def _authorize(request: web.Request) -> None:
    grant = request.app[SERVICE].tokens.authenticate(request.headers.get("Authorization"))
    if not grant.is_secret:
        raise Forbidden("the fault control needs the Direct Line secret, not a conversation's token")


async def add_fault(request: web.Request) -> web.Response:
    _authorize(request)
    body = await read_json_object(request, 16 * 1024)
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(unknown)}; expected some of {', '.join(sorted(_FIELDS))}")
    if "kind" not in body:
        raise BadRequest("kind is required", code="MissingProperty")
    arguments: dict[str, Any] = {"conversation_id": body.get("conversationId"), "count": body.get("count", 1),
                                 "after": body.get("after", 0)}
    if "retryAfter" in body:
        retry_after = body["retryAfter"]
        if isinstance(retry_after, bool) or not isinstance(retry_after, (int, float)):
            raise BadRequest(f"retryAfter must be a number of seconds, got {retry_after!r}")
        arguments["retry_after_seconds"] = float(retry_after)
    faults = request.app[FAULTS]
    try:
        faults.inject(body["kind"], **arguments)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    return web.json_response({"planned": faults.planned()}, status=201)


async def list_faults(request: web.Request) -> web.Response:
    _authorize(request)
    faults = request.app[FAULTS]
    answered = [{"conversationId": fault.conversation_id, "kind": fault.kind.value, "status": fault.status}
                for fault in faults.answered]
    return web.json_response({"planned": faults.planned(), "answered": answered})


async def clear_faults(request: web.Request) -> web.Response:
    _authorize(request)
    request.app[FAULTS].clear()
    return web.json_response({"planned": []})


def add_routes(app: web.Application) -> None:
    app.router.add_post(PATH, add_fault)
    app.router.add_get(PATH, list_faults)
    app.router.add_delete(PATH, clear_faults)
