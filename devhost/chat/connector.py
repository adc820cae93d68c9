"""The chat's Bot Connector face, as the Emulator serves it (reference §2.2/§2.3), for any number of conversations.

The routes are devhost/botconnector.py's; this is the channel behind them: what the bot sends is shown in its
conversation, stamped as the Emulator stamps it (a new id, a timestamp, the user as recipient).
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from devhost import botconnector, connector_attachments
from devhost.attachment_store import UPLOAD_LIMIT_BYTES, AttachmentStore
from devhost.chat.conversation import Conversation
from devhost.connector_faults import ConnectorFaults
from devhost.directline.errors import DirectLineError
from devhost.directline.middleware import error_response, merge_slashes_middleware, read_json_object
from devhost.identity.verify import BotTokenVerifier

# aiohttp's default body limit, which bounded these routes before they read bodies themselves.
MAX_ACTIVITY_BYTES = 1024 * 1024


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"code": "BadArgument", "message": message}}, status=status)


class _BadRequest(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__()
        self.response = response


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
    # As the Emulator's routes do (BotFramework-Emulator packages/app/main/src/server/routes/channel/conversations/
    # handlers/replyToActivity.ts and sendActivityToConversation.ts): replyToId is the URL's activity id, whatever
    # the body says, and the send-to-conversation route (no id in its URL) clears it.
    stamped.pop("replyToId", None)
    if reply_to_id is not None:
        stamped["replyToId"] = reply_to_id
    return stamped


class _ChatChannel:
    """The chat's conversations as the bot's channel: what the bot sends is shown, stamped as the Emulator does."""

    def __init__(self, conversations: dict[str, Conversation]) -> None:
        self._conversations = conversations

    async def read_activity(self, request: web.Request) -> dict[str, Any]:
        # The Direct Line stand-in's bounded reader: its errors have the Bot Connector's body shape too.
        try:
            return await read_json_object(request, MAX_ACTIVITY_BYTES)
        except DirectLineError as error:
            raise _BadRequest(error_response(error)) from None

    def _conversation(self, conversation_id: str) -> Conversation:
        conversation = self._conversations.get(conversation_id)
        if conversation is None:
            raise _BadRequest(_error(404, f"conversation {conversation_id!r} not found"))
        return conversation

    def receive_from_bot(self, conversation_id: str, activity: dict[str, Any], reply_to_id: str | None) -> str:
        conversation = self._conversation(conversation_id)
        stamped = _stamp(conversation, activity, reply_to_id)
        conversation.receive(stamped)
        return str(stamped["id"])

    def update_from_bot(self, conversation_id: str, activity_id: str, activity: dict[str, Any]) -> str:
        conversation = self._conversation(conversation_id)
        # The Emulator refuses an update whose body does not carry the URL's activity id, a missing one included
        # (BotFramework-Emulator packages/app/main/src/server/routes/channel/conversations/handlers/updateActivity.ts:
        # 400 BadArgument "uri activity id does not match payload activity id"); botbuilder's update_activity sends
        # the id the caller set on the activity.
        if activity.get("id") != activity_id:
            raise _BadRequest(_error(400, "uri activity id does not match payload activity id"))
        if not conversation.update(activity_id, {**activity, "id": activity_id}):
            raise _BadRequest(_error(404, f"activity {activity_id!r} not found"))
        return activity_id

    def delete_from_bot(self, conversation_id: str, activity_id: str) -> None:
        if not self._conversation(conversation_id).delete(activity_id):
            raise _BadRequest(_error(404, f"activity {activity_id!r} not found"))

    def members(self, conversation_id: str) -> list[dict[str, Any]]:
        conversation = self._conversation(conversation_id)
        return [conversation.user, conversation.bot]


def create_connector_app(conversations: dict[str, Conversation], faults: ConnectorFaults | None = None,
                         bot_tokens: BotTokenVerifier | None = None,
                         attachments: AttachmentStore | None = None) -> web.Application:
    app = web.Application(middlewares=[_bad_request_middleware, merge_slashes_middleware],
                          # read_json_object answers an oversized body with a JSON 413; this is only a backstop,
                          # as large as the largest body a route takes (the bot's attachment upload).
                          client_max_size=max(MAX_ACTIVITY_BYTES, UPLOAD_LIMIT_BYTES) + 1)
    botconnector.add_routes(app, _ChatChannel(conversations), faults, bot_tokens)
    # As the Emulator: the views need no token, the bot fetches the user's /file uploads from them.
    connector_attachments.add_routes(app, attachments if attachments is not None else AttachmentStore(),
                                     views_need_token=False)
    return app
