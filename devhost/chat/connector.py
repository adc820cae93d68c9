"""The Bot Connector routes the Emulator serves (reference §2.2/§2.3), for any number of conversations.

Path ids arrive percent-encoded (botbuilder quotes the ``|`` of ``<uuid>|livechat``); aiohttp's router decodes them
exactly once. Requests carry no Authorization header because the bot runs with an empty app id.
"""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from devhost.chat.conversation import Conversation
from devhost.directline.middleware import merge_slashes_middleware

CONVERSATIONS = web.AppKey("chat_conversations", dict[str, Conversation])
PREFIX = "/v3/conversations/{conversation_id}"


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"code": "BadArgument", "message": message}}, status=status)


class _BadRequest(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__()
        self.response = response


def _conversation(request: web.Request) -> Conversation:
    conversation_id = request.match_info["conversation_id"]
    conversation = request.app[CONVERSATIONS].get(conversation_id)
    if conversation is None:
        raise _BadRequest(_error(404, f"conversation {conversation_id!r} not found"))
    return conversation


async def _activity(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _BadRequest(_error(400, f"the request body is not valid JSON: {error}")) from None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        raise _BadRequest(_error(400, "the request body must be an activity with a type"))
    return body


@web.middleware
async def _bad_request_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except _BadRequest as bad:
        return bad.response
    return response


def _stamp(conversation: Conversation, activity: dict[str, Any], reply_to_id: str | None) -> dict[str, Any]:
    # As the Emulator does: a new id, a timestamp, and the user as recipient.
    stamped = {
        **activity,
        "id": str(uuid.uuid4()),
        "recipient": conversation.user,
        "conversation": {**(activity.get("conversation") or {}), "id": conversation.id},
        "timestamp": activity.get("timestamp") or datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    if reply_to_id is not None:
        stamped.setdefault("replyToId", reply_to_id)
    return stamped


async def send_to_conversation(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    activity = _stamp(conversation, await _activity(request), None)
    conversation.receive(activity)
    return web.json_response({"id": activity["id"]})


async def reply_to_activity(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    activity = _stamp(conversation, await _activity(request), request.match_info["activity_id"])
    conversation.receive(activity)
    return web.json_response({"id": activity["id"]})


async def update_activity(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    activity_id = request.match_info["activity_id"]
    activity = await _activity(request)
    if activity.get("id") not in (None, activity_id):
        return _error(400, f"activity.id {activity.get('id')!r} does not match the URL's {activity_id!r}")
    if not conversation.update(activity_id, {**activity, "id": activity_id}):
        return _error(404, f"activity {activity_id!r} not found")
    return web.json_response({"id": activity_id})


async def delete_activity(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    activity_id = request.match_info["activity_id"]
    if not conversation.delete(activity_id):
        return _error(404, f"activity {activity_id!r} not found")
    return web.json_response({})


async def get_members(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    return web.json_response([conversation.user, conversation.bot])


async def get_member(request: web.Request) -> web.Response:
    conversation = _conversation(request)
    for member in (conversation.user, conversation.bot):
        if member["id"] == request.match_info["member_id"]:
            return web.json_response(member)
    return _error(404, f"member {request.match_info['member_id']!r} not found")


def create_connector_app(conversations: dict[str, Conversation]) -> web.Application:
    app = web.Application(middlewares=[_bad_request_middleware, merge_slashes_middleware])
    app[CONVERSATIONS] = conversations
    app.router.add_post(f"{PREFIX}/activities", send_to_conversation)
    app.router.add_post(f"{PREFIX}/activities/{{activity_id}}", reply_to_activity)
    app.router.add_put(f"{PREFIX}/activities/{{activity_id}}", update_activity)
    app.router.add_delete(f"{PREFIX}/activities/{{activity_id}}", delete_activity)
    app.router.add_get(f"{PREFIX}/activities/{{activity_id}}/members", get_members)
    app.router.add_get(f"{PREFIX}/members", get_members)
    app.router.add_get(f"{PREFIX}/members/{{member_id}}", get_member)
    return app
