"""The Bot Connector's attachment routes, for both channels of the devhost (the Direct Line stand-in and the chat):

    POST /v3/conversations/{id}/attachments      AttachmentData -> ResourceResponse {"id"}
    GET  /v3/attachments/{id}                    AttachmentInfo {name, type, views: [{viewId, size}]}
    GET  /v3/attachments/{id}/views/{viewId}     the view's bytes (original or thumbnail), as the attachment's type

As botbuilder-python's botframework-connector calls them (ConversationsOperations.upload_attachment,
AttachmentsOperations.get_attachment_info and get_attachment) and the Emulator serves them (BotFramework-Emulator
packages/app/main/src/server/routes/channel/attachments and conversations/handlers/uploadAttachment.ts). Errors are
the Bot Connector's ``{"error": {"code", "message"}}``; a missing attachment or view is 404 BadArgument.

The upload always needs the bot's token when the channel checks tokens. The views need it on the Bot Connector
service (its attachment URLs are "secured by bot JwtToken", botframework-sdk#737) but not on the Emulator, which
mounts them without its verifyBotFramework step (mountAttachmentsRoutes.ts): the Emulator's uploads point the bot at
them and the bot fetches them with a plain GET. ``views_need_token`` picks which.
"""

from aiohttp import web

from devhost.attachment_store import UPLOAD_LIMIT_BYTES, AttachmentRejected, AttachmentStore, StoredAttachment
from devhost.botconnector import CHANNEL, bot_only
from devhost.directline.errors import DirectLineError
from devhost.directline.middleware import error_response, read_json_object

ATTACHMENTS = web.AppKey("connector_attachments", AttachmentStore)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def view_path(attachment_id: str, view_id: str = "original") -> str:
    """The path of a view, which a channel puts in contentUrl after its service URL (as the Emulator's uploads)."""
    return f"/v3/attachments/{attachment_id}/views/{view_id}"


async def upload_attachment(request: web.Request) -> web.Response:
    conversation_id = request.match_info["conversation_id"]
    # The channel's own 404 (in its own error shape) for a conversation it does not have.
    request.app[CHANNEL].members(conversation_id)
    try:
        body = await read_json_object(request, UPLOAD_LIMIT_BYTES)
    except DirectLineError as error:
        return error_response(error)
    try:
        stored = request.app[ATTACHMENTS].add_data(body)
    except AttachmentRejected as rejected:
        return _error(400, rejected.code, rejected.message)
    return web.json_response({"id": stored.id})


def _stored(request: web.Request) -> StoredAttachment | web.Response:
    """The attachment the URL names, or its 404 answer."""
    attachment_id = request.match_info["attachment_id"]
    stored = request.app[ATTACHMENTS].get(attachment_id)
    if stored is None:
        return _error(404, "BadArgument", f"attachment {attachment_id!r} not found")
    return stored


async def attachment_info(request: web.Request) -> web.Response:
    stored = _stored(request)
    if isinstance(stored, web.Response):
        return stored
    return web.json_response(stored.info())


async def attachment_view(request: web.Request) -> web.Response:
    stored = _stored(request)
    if isinstance(stored, web.Response):
        return stored
    view_id = request.match_info["view_id"]
    views = stored.views()
    if view_id not in views:
        return _error(404, "BadArgument", f"attachment {stored.id!r} has no {view_id!r} view; "
                                          f"its views: {', '.join(views)}")
    # As a header: a type with parameters ("text/plain; charset=utf-8") is not aiohttp's content_type argument.
    return web.Response(body=views[view_id], headers={"Content-Type": stored.type})


def add_routes(app: web.Application, store: AttachmentStore, *, views_need_token: bool) -> None:
    """Beside devhost/botconnector.py's routes (it puts the channel and the token check in the app)."""
    app[ATTACHMENTS] = store
    app.router.add_post("/v3/conversations/{conversation_id:[^/]+}/attachments", bot_only(upload_attachment))
    info, view = (bot_only(attachment_info), bot_only(attachment_view)) if views_need_token else (
        attachment_info, attachment_view)
    app.router.add_get("/v3/attachments/{attachment_id:[^/]+}", info)
    app.router.add_get("/v3/attachments/{attachment_id:[^/]+}/views/{view_id:[^/]+}", view)
