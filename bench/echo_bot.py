"""``python -m bench.echo_bot --port N``: the floor. A bare botbuilder echo bot (ActivityHandler, CloudAdapter, empty
app id, no state, no dialogs), measured with the same chat-client load as the real bot.

Same SDK and aiohttp server as the real bot. Bare, botbuilder builds new Bot Connector clients every turn and sends
replies with ``requests`` in threads; the real bot avoids both (bot/connector_clients.py, bot/connector_transport.py).
``--tuned`` gives the echo bot the same two fixes, so the ratio to it is what our dialogs, state and the call to the
function app cost on top of the least a botbuilder bot costs.
"""

import argparse
import logging
import sys
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    aiohttp_error_middleware,
)

from devhost.addresses import port_number

log = logging.getLogger(__name__)


class EchoBot(ActivityHandler):  # type: ignore[misc]  # botbuilder ships no type hints
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))


class _NoAuth:
    # Read by getattr in ConfigurationBotFrameworkAuthentication: an empty app id turns auth off, as for the bot.
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


def create_app(tuned: bool = False) -> web.Application:
    authentication = ConfigurationBotFrameworkAuthentication(_NoAuth())
    if tuned:
        from bot.connector_clients import ReusingBotFrameworkAuthentication

        authentication = ReusingBotFrameworkAuthentication(authentication)
    adapter = CloudAdapter(authentication)
    bot = EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, bot)
        return response if response is not None else web.Response(status=201)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def session_lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            authentication.attach_session(session)
            yield

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/api/health", health)
    if tuned:
        app.cleanup_ctx.append(session_lifecycle)
    return app


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.echo_bot", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=port_number, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tuned", action="store_true",
                        help="reuse connector clients and send replies with aiohttp, as the real bot does")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The floor is the least botbuilder costs: no access log, warnings only.
    web.run_app(create_app(args.tuned), host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
