"""The stream route, ``GET /v3/directline/conversations/{id}/stream?watermark=W&t=<token>`` (a WebSocket upgrade),
and the ``streamUrl`` that start and reconnect hand out for it.

The URL is pre-authorised: the handshake needs no Authorization header ("Receive activities from the bot", Direct
Line 3.0 docs), the ``t`` parameter is the credential. A refused handshake gets Direct Line's HTTP error instead of
101 (403 for an expired ``t``, as BotFramework-WebChat#4071 shows); browsers report it as a failed WebSocket.
"""

from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from aiohttp import web

from devhost.directline.errors import BadRequest
from devhost.directline.state import SERVICE

PATH = "/v3/directline/conversations/{conversation_id:[^/]+}/stream"


def stream_url(service_root: str, conversation_id: str, token: str, watermark: str | None) -> str:
    """``ws://`` (or ``wss://`` behind https) ``.../conversations/{id}/stream?watermark=W&t=T``.

    The shape of the service's URLs: ``watermark=-`` when the stream starts where the URL was issued (a start,
    or a reconnect without a watermark), as in the captured ``.../stream?watermark=-&t=...`` of
    BotFramework-WebChat#4071. Where the stream starts is kept with the token; the parameter only shows it.
    """
    parts = urlsplit(service_root)
    scheme = {"http": "ws", "https": "wss"}[parts.scheme]
    path = f"{parts.path.rstrip('/')}/v3/directline/conversations/{quote(conversation_id, safe='')}/stream"
    query = urlencode({"watermark": watermark or "-", "t": token})
    return urlunsplit((scheme, parts.netloc, path, query, ""))


async def stream(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    conversation_id = request.match_info["conversation_id"]
    grant = service.stream_tokens.check(request.query.get("t"), conversation_id)
    conversation = service.conversations.get(conversation_id)
    socket = web.WebSocketResponse()
    if not socket.can_prepare(request).ok:
        raise BadRequest("the stream URL takes a WebSocket upgrade request (Connection: Upgrade, Upgrade: websocket)")
    await socket.prepare(request)
    await service.streams.serve(conversation, socket, grant.after)
    return socket


def add_routes(app: web.Application) -> None:
    app.router.add_get(PATH, stream)

    async def close_streams(app: web.Application) -> None:
        await app[SERVICE].streams.close_all()

    app.on_shutdown.append(close_streams)
