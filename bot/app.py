"""The aiohttp application: ``POST /api/messages`` for the channel, ``GET /api/health`` for whoever watches."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from botbuilder.core import Storage, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, aiohttp_error_middleware

from bot.adapter import create_adapter
from bot.connector_clients import ReusingBotFrameworkAuthentication
from bot.conversation_state import SnapshotConversationState
from bot.errors import ConversationBusy, DeliveryRefused, OutcomeNotDelivered
from bot.inbound import MalformedRequest, check_content_type, parse_activity
from bot.inbound_auth import Unauthenticated, authenticate
from bot.long_operation_bot import LongOperationBot
from bot.long_operation_dialog import LongOperationDialog
from bot.operations_client import OperationsClient
from bot.settings import PART_NONCE_HEADER, BotSettings
from bot.state_expiry import ExpiringStorage, sweep_periodically
from bot.storage import close_storage, create_coordination, create_storage
from bot.tracing import turn_span
from bot.turn_slots import TurnSlots

logger = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", BotSettings)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", LongOperationBot)
STORAGE = web.AppKey("storage", Storage)
HTTP_SESSION = web.AppKey("http_session", aiohttp.ClientSession)
# aiohttp's default body limit, made explicit so the 413 can name it. Channels send far less (Direct Line caps an
# activity at 256 KB), so anything larger is refused before it is parsed.
MAX_REQUEST_BYTES = 1024 * 1024


def create_app(settings: BotSettings, storage: Storage | None = None) -> web.Application:
    """The bot's web application. ``storage`` overrides the BotStateStore setting (tests share one)."""
    app = web.Application(middlewares=[aiohttp_error_middleware], client_max_size=MAX_REQUEST_BYTES)
    app[SETTINGS] = settings
    app[STORAGE] = storage if storage is not None else create_storage(settings)
    app[ADAPTER] = create_adapter(settings)
    app.cleanup_ctx.append(_bot_lifecycle)
    app.cleanup_ctx.append(_state_sweeper)
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/api/health", _health)
    return app


async def _bot_lifecycle(app: web.Application) -> AsyncIterator[None]:
    # The one shared client session of the process: created on start-up inside the running loop, closed last.
    # No connection cap (aiohttp's default is 100): each turn makes at most one call to the function app at a time,
    # and a cap queued the 101st concurrent user's start behind the others (bench/system.py at 500 users).
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    app[HTTP_SESSION] = session
    # Replies to the channel go through this same session (bot/connector_transport.py).
    authentication: ReusingBotFrameworkAuthentication = app[ADAPTER].bot_framework_authentication  # create_adapter's
    authentication.attach_session(session)
    settings = app[SETTINGS]
    storage = app[STORAGE]
    coordination = create_coordination(settings, storage)
    bot = LongOperationBot(
        settings,
        SnapshotConversationState(storage),
        LongOperationDialog(OperationsClient(session, settings)),
        TurnSlots(settings.max_concurrent_turns),
        leases=coordination.leases,
        claims=coordination.claims,
    )
    app[BOT] = bot
    # For errors outside a conversation's turn (an outcome event's outer turn); on_turn handles the others itself.
    app[ADAPTER].on_turn_error = bot.on_turn_error
    logger.info("bot ready: operations at %s, state in %s%s", settings.operations_url, settings.state_store,
                f", conversation leases of {settings.lease_seconds} s" if coordination.leases.shared else "")
    # The SQLite file's outcome claims are swept as its state is (the blob sweep covers the container's claims).
    claims_sweeper = (None if coordination.sqlite is None
                      else asyncio.create_task(sweep_periodically(coordination.sqlite), name="claims-sweeper"))
    try:
        yield
    finally:
        if claims_sweeper is not None:
            claims_sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await claims_sweeper
        await session.close()
        coordination.close()
        await close_storage(storage)


async def _state_sweeper(app: web.Application) -> AsyncIterator[None]:
    # Expired state already reads as absent; the sweep reclaims its space, once at start-up and then hourly, in the
    # background of the one process that owns the store (several bot instances on one Blob container may all sweep:
    # each delete is conditional on the blob's ETag).
    storage = app[STORAGE]
    if not isinstance(storage, ExpiringStorage):  # a store passed in by a test may have no expiry
        yield
        return
    sweeper = asyncio.create_task(sweep_periodically(storage), name="state-sweeper")
    try:
        yield
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper


async def _messages(request: web.Request) -> web.StreamResponse:
    try:
        check_content_type(request.headers.get("Content-Type"))
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise MalformedRequest(413, f"the request body exceeds the limit of {MAX_REQUEST_BYTES} bytes") from None
        activity = parse_activity(body)
    except MalformedRequest as error:
        logger.info("refused a malformed request to /api/messages: %s", error)
        return web.json_response(error.body(), status=error.status)
    # CloudAdapter.process's POST path from here on, with the activity parsed once: process() would read the body
    # and run msrest's deserializer over it a second time (about 5% of the bot's CPU under load).
    adapter = request.app[ADAPTER]
    try:
        # None, not "", when there is no header: botbuilder's parameterized clouds test ``is None`` for "anonymous".
        authenticated = await authenticate(adapter.bot_framework_authentication, activity,
                                           request.headers.get("Authorization"))
    except Unauthenticated as error:
        return web.json_response(error.body(), status=error.status)
    try:
        with turn_span(activity):
            invoke_response = await adapter.process_activity(authenticated, activity, request.app[BOT].on_turn)
    except OutcomeNotDelivered as failure:
        # An outcome event whose outcome did not reach the user's conversation: the event's turn fails, so Direct
        # Line answers the function app's post with an error (502) and notify_bot retries, or, after a refusal,
        # reads the receipt this turn posted (410: the user's conversation is gone; 503: try again later).
        refused = isinstance(failure, DeliveryRefused)
        code = "ConversationGone" if refused else "DeliveryDeferred"
        return web.json_response({"error": {"code": code, "message": str(failure)}}, status=410 if refused else 503)
    except ConversationBusy as busy:
        # Another instance kept the conversation past the wait: the turn did not run; the channel may retry.
        logger.warning("turn not run: %s", busy)
        return web.json_response({"error": {"code": "ConversationBusy", "message": str(busy)}}, status=503)
    if invoke_response:
        return web.json_response(data=serializer_helper(invoke_response.body), status=invoke_response.status)
    return web.Response(status=201)


async def _health(request: web.Request) -> web.Response:
    nonce = request.app[SETTINGS].part_nonce
    return web.json_response({"status": "ok"}, headers={PART_NONCE_HEADER: nonce} if nonce else None)
