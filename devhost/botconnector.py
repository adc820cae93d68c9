"""The Bot Connector routes a channel serves to bots (directline.md §1.6, §2.2), written once for both channels
of the devhost: the Direct Line stand-in and the terminal chat (the Emulator's role).

Where the bot sends replies and proactive messages: ``POST /v3/conversations/{id}/activities[/{replyToId}]``,
``PUT``/``DELETE`` of an activity, and the members. Each app puts its channel (what a conversation is, how an
activity is stamped, which errors it raises and how its middleware answers them) under ``CHANNEL``.

Conversation ids arrive percent-encoded (botbuilder quotes ``|`` and friends); aiohttp's router decodes path
parameters exactly once, so the channel sees the real ids. Ids are opaque: aiohttp's default ``{param}`` pattern
(``[^{}/]+``) would send an id with a brace to "no route", so the patterns below take anything but a slash. The bot
runs with an empty app id locally and sends no Authorization header; with ``devhost up --auth`` every call must carry
the registered bot's token, checked against the identity service's keys (``bot_only``), as the Bot Connector service
checks it.

Every activity is checked here, once, before its channel sees it: a bad one is a 400 in the Bot Connector's
``{"error": {"code", "message"}}`` shape whichever channel serves the route.

Posts (send and reply) go through the app's fault mode first (devhost/connector_faults.py, under ``FAULTS``).
"""

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from devhost.connector_faults import ConnectorFaults
from devhost.identity.verify import BotTokenVerifier, InvalidBotToken

log = logging.getLogger(__name__)


class BotConnectorChannel(Protocol):
    async def read_activity(self, request: web.Request) -> dict[str, Any]:
        """The request's activity, or the channel's own 400/413 error."""
        ...

    def receive_from_bot(self, conversation_id: str, activity: dict[str, Any], reply_to_id: str | None) -> str:
        """Store (and show) an activity the bot sent; its new id."""
        ...

    def update_from_bot(self, conversation_id: str, activity_id: str, activity: dict[str, Any]) -> str:
        ...

    def delete_from_bot(self, conversation_id: str, activity_id: str) -> None:
        ...

    def members(self, conversation_id: str) -> list[dict[str, Any]]:
        ...


CHANNEL = web.AppKey("bot_connector_channel", BotConnectorChannel)
FAULTS = web.AppKey("bot_connector_faults", ConnectorFaults)
# Present when the channel checks the bot's token (``devhost up --auth``), as the Bot Connector service always does.
BOT_TOKENS = web.AppKey("bot_connector_bot_tokens", BotTokenVerifier)
# What the Bot Connector service answers a call without a valid token (an ASP.NET Web API authorization failure).
DENIED = {"message": "Authorization has been denied for this request."}

_Handler = Callable[[web.Request], Awaitable[web.Response]]


def bot_only(handler: _Handler) -> _Handler:
    """``handler`` behind the bot-token check: 401 for a call without a valid token for the registered bot."""

    async def checked(request: web.Request) -> web.Response:
        verifier = request.app.get(BOT_TOKENS)
        if verifier is not None:
            try:
                await verifier.verify(request.headers.get("Authorization"))
            except InvalidBotToken as error:
                log.warning("refused a call to %s %s: %s", request.method, request.path, error)
                return web.json_response(DENIED, status=401)
        return await handler(request)

    return checked
PREFIX = "/v3/conversations/{conversation_id:[^/]+}"
ACTIVITY = "{activity_id:[^/]+}"
MEMBER = "{member_id:[^/]+}"


def _channel(request: web.Request) -> BotConnectorChannel:
    return request.app[CHANNEL]


def activity_problem(activity: dict[str, Any]) -> tuple[str, str] | None:
    """(error code, message naming the field) for an activity no channel can store, or None if it is usable."""
    kind = activity.get("type")
    if not isinstance(kind, str) or not kind:
        return "MissingProperty", "activity.type is required: a non-empty string"
    # Channels merge their conversation id into the activity's conversation object.
    conversation = activity.get("conversation")
    if conversation is not None and not isinstance(conversation, dict):
        return "BadArgument", f"activity.conversation must be an object, got {type(conversation).__name__}"
    return None


async def _read_activity(request: web.Request, channel: BotConnectorChannel) -> dict[str, Any]:
    activity = await channel.read_activity(request)
    problem = activity_problem(activity)
    if problem is not None:
        code, message = problem
        # An HTTPException passes through either channel's middleware unchanged.
        raise web.HTTPBadRequest(text=json.dumps({"error": {"code": code, "message": message}}),
                                 content_type="application/json")
    return activity


async def send_to_conversation(request: web.Request) -> web.Response:
    return await _post(request, None)


async def reply_to_activity(request: web.Request) -> web.Response:
    return await _post(request, request.match_info["activity_id"])


async def _post(request: web.Request, reply_to_id: str | None) -> web.Response:
    """A post of the bot's, through the fault mode: refused before it is stored, or stored and its answer lost."""
    conversation_id = request.match_info["conversation_id"]
    fault = await request.app[FAULTS].answer(conversation_id)
    if isinstance(fault, web.Response):
        return fault
    channel = _channel(request)
    activity = await _read_activity(request, channel)
    activity_id = channel.receive_from_bot(conversation_id, activity, reply_to_id)
    if fault is not None:
        return await fault.after_storing()
    return web.json_response({"id": activity_id})


async def update_activity(request: web.Request) -> web.Response:
    channel = _channel(request)
    activity = await _read_activity(request, channel)
    activity_id = channel.update_from_bot(
        request.match_info["conversation_id"], request.match_info["activity_id"], activity
    )
    return web.json_response({"id": activity_id})


async def delete_activity(request: web.Request) -> web.Response:
    _channel(request).delete_from_bot(request.match_info["conversation_id"], request.match_info["activity_id"])
    return web.json_response({})


async def get_members(request: web.Request) -> web.Response:
    return web.json_response(_channel(request).members(request.match_info["conversation_id"]))


async def get_member(request: web.Request) -> web.Response:
    member_id = request.match_info["member_id"]
    for member in _channel(request).members(request.match_info["conversation_id"]):
        if member.get("id") == member_id:
            return web.json_response(member)
    return web.json_response({"error": {"code": "BadArgument", "message": f"member {member_id!r} not found"}},
                             status=404)


def add_routes(app: web.Application, channel: BotConnectorChannel, faults: ConnectorFaults | None = None,
               bot_tokens: BotTokenVerifier | None = None) -> None:
    """The routes; with ``bot_tokens`` every call must carry the registered bot's token (401 otherwise)."""
    app[CHANNEL] = channel
    app[FAULTS] = faults if faults is not None else ConnectorFaults()
    if bot_tokens is not None:
        app[BOT_TOKENS] = bot_tokens

    async def release_hanging_posts(app: web.Application) -> None:
        # Before the runner waits for open requests: a hanging post must not hold the shutdown for minutes.
        app[FAULTS].release()

    app.on_shutdown.append(release_hanging_posts)
    app.router.add_post(f"{PREFIX}/activities", bot_only(send_to_conversation))
    app.router.add_post(f"{PREFIX}/activities/{ACTIVITY}", bot_only(reply_to_activity))
    app.router.add_put(f"{PREFIX}/activities/{ACTIVITY}", bot_only(update_activity))
    app.router.add_delete(f"{PREFIX}/activities/{ACTIVITY}", bot_only(delete_activity))
    app.router.add_get(f"{PREFIX}/activities/{ACTIVITY}/members", bot_only(get_members))
    app.router.add_get(f"{PREFIX}/members", bot_only(get_members))
    app.router.add_get(f"{PREFIX}/members/{MEMBER}", bot_only(get_member))
