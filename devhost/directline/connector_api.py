"""The Bot Connector face, under ``/v3/conversations``: where the bot sends replies and proactive messages.

Conversation ids arrive percent-encoded (botbuilder quotes ``|`` and friends); aiohttp's router decodes path
parameters exactly once, so the handlers see the real ids. The bot runs with an empty app id locally and sends no
Authorization header; one it does send is not checked (nothing offline could verify an AAD token).
"""

from aiohttp import web

from devhost.directline.middleware import read_json_object
from devhost.directline.service import DirectLineService
from devhost.directline.state import SERVICE

# Ids are opaque: aiohttp's default {param} pattern ([^{}/]+) would send an id with a brace to "no route".
PREFIX = "/v3/conversations/{conversation_id:[^/]+}"
ACTIVITY = "{activity_id:[^/]+}"


def _service(request: web.Request) -> DirectLineService:
    return request.app[SERVICE]


async def send_to_conversation(request: web.Request) -> web.Response:
    service = _service(request)
    activity = await read_json_object(request, service.config.max_activity_bytes)
    activity_id = service.receive_from_bot(request.match_info["conversation_id"], activity, reply_to_id=None)
    return web.json_response({"id": activity_id})


async def reply_to_activity(request: web.Request) -> web.Response:
    service = _service(request)
    activity = await read_json_object(request, service.config.max_activity_bytes)
    activity_id = service.receive_from_bot(
        request.match_info["conversation_id"], activity, reply_to_id=request.match_info["activity_id"]
    )
    return web.json_response({"id": activity_id})


async def update_activity(request: web.Request) -> web.Response:
    service = _service(request)
    activity = await read_json_object(request, service.config.max_activity_bytes)
    activity_id = service.update_from_bot(
        request.match_info["conversation_id"], request.match_info["activity_id"], activity
    )
    return web.json_response({"id": activity_id})


async def delete_activity(request: web.Request) -> web.Response:
    _service(request).delete_from_bot(request.match_info["conversation_id"], request.match_info["activity_id"])
    return web.json_response({})


async def get_members(request: web.Request) -> web.Response:
    return web.json_response(_service(request).members(request.match_info["conversation_id"]))


async def get_member(request: web.Request) -> web.Response:
    member_id = request.match_info["member_id"]
    for member in _service(request).members(request.match_info["conversation_id"]):
        if member.get("id") == member_id:
            return web.json_response(member)
    return web.json_response({"error": {"code": "BadArgument", "message": f"member {member_id!r} not found"}},
                             status=404)


def add_routes(app: web.Application) -> None:
    app.router.add_post(f"{PREFIX}/activities", send_to_conversation)
    app.router.add_post(f"{PREFIX}/activities/{ACTIVITY}", reply_to_activity)
    app.router.add_put(f"{PREFIX}/activities/{ACTIVITY}", update_activity)
    app.router.add_delete(f"{PREFIX}/activities/{ACTIVITY}", delete_activity)
    app.router.add_get(f"{PREFIX}/activities/{ACTIVITY}/members", get_members)
    app.router.add_get(f"{PREFIX}/members", get_members)
    app.router.add_get(f"{PREFIX}/members/{{member_id:[^/]+}}", get_member)
