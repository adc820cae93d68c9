"""The Direct Line 3.0 client face, under ``/v3/directline``: what Web Chat, DirectLineJS and the function app call."""

from typing import Any

from aiohttp import web

from devhost.directline.conversations import Conversation
from devhost.directline.middleware import read_json_object
from devhost.directline.service import DirectLineService
from devhost.directline.state import SERVICE, service_url
from devhost.directline.stream_api import stream_url
from devhost.directline.tokens import Grant
from devhost.part_identity import nonce_headers

PREFIX = "/v3/directline"
# Ids are opaque: aiohttp's default {param} pattern ([^{}/]+) would send an id with a brace to "no route".
CONVERSATION = "{conversation_id:[^/]+}"


def _service(request: web.Request) -> DirectLineService:
    return request.app[SERVICE]


def _authenticate(request: web.Request) -> Grant:
    return _service(request).tokens.authenticate(request.headers.get("Authorization"))


def _conversation_body(
    request: web.Request, conversation: Conversation, grant: Grant, stream_after: int, watermark: str | None = None
) -> dict[str, Any]:
    """Start's and reconnect's answer: the token fields and a fresh pre-authorised streamUrl (stream_api)."""
    service = _service(request)
    token = service.stream_token(conversation, stream_after)
    url = stream_url(service_url(request), conversation.id, token, watermark)
    return {**service.tokens.body(grant), "conversationId": conversation.id, "streamUrl": url}


async def health(request: web.Request) -> web.Response:
    """Unauthenticated readiness probe for ``devhost up``; not part of Direct Line."""
    return web.json_response({"status": "ok"}, headers=nonce_headers(_service(request).config.part_nonce))


async def generate_token(request: web.Request) -> web.Response:
    service = _service(request)
    grant = _authenticate(request)
    parameters = await read_json_object(request, service.config.max_activity_bytes, optional=True)
    return web.json_response(service.tokens.body(service.generate_token(grant, parameters)))


async def refresh_token(request: web.Request) -> web.Response:
    service = _service(request)
    return web.json_response(service.tokens.body(service.refresh_token(_authenticate(request))))


async def start_conversation(request: web.Request) -> web.Response:
    service = _service(request)
    grant = _authenticate(request)
    parameters = await read_json_object(request, service.config.max_activity_bytes, optional=True)
    started = await service.start_conversation(grant, parameters, service_url(request))
    body = _conversation_body(request, started.conversation, started.grant, started.stream_after)
    return web.json_response(body, status=201 if started.created else 200)


async def reconnect(request: web.Request) -> web.Response:
    service = _service(request)
    reconnected = service.reconnect(
        _authenticate(request), request.match_info["conversation_id"], request.query.get("watermark")
    )
    return web.json_response(_conversation_body(
        request, reconnected.conversation, reconnected.grant, reconnected.stream_after, reconnected.watermark
    ))


async def get_activities(request: web.Request) -> web.Response:
    service = _service(request)
    activities, watermark = service.activities(
        _authenticate(request), request.match_info["conversation_id"], request.query.get("watermark")
    )
    return web.json_response({"activities": activities, "watermark": watermark})


async def post_activity(request: web.Request) -> web.Response:
    service = _service(request)
    grant = _authenticate(request)
    activity = await read_json_object(request, service.config.max_activity_bytes)
    activity_id = await service.post_from_client(
        grant, request.match_info["conversation_id"], activity, service_url(request)
    )
    # Always 200, never the bot's 201: the .NET DirectLineClient throws on a 201 from PostActivity.
    return web.json_response({"id": activity_id})


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/health", health)
    app.router.add_post(f"{PREFIX}/tokens/generate", generate_token)
    app.router.add_post(f"{PREFIX}/tokens/refresh", refresh_token)
    app.router.add_post(f"{PREFIX}/conversations", start_conversation)
    app.router.add_get(f"{PREFIX}/conversations/{CONVERSATION}", reconnect)
    app.router.add_get(f"{PREFIX}/conversations/{CONVERSATION}/activities", get_activities)
    app.router.add_post(f"{PREFIX}/conversations/{CONVERSATION}/activities", post_activity)
