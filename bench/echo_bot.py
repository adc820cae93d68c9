"""``python -m bench.echo_bot --port N``: the floor. A bare botbuilder echo bot (ActivityHandler, CloudAdapter, empty
app id, no state, no dialogs), measured with the same chat-client load as the real bot.

Same SDK, same aiohttp server and same connector client as the real bot, so the ratio of the two start-turn
latencies is what our dialogs, state and the call to the function app cost on top of what botbuilder costs anyway.
"""

import argparse
import logging
import sys

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    aiohttp_error_middleware,
)

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


def create_app() -> web.Application:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_NoAuth()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, bot)
        return response if response is not None else web.Response(status=201)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/api/health", health)
    return app


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.echo_bot", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The floor is the least botbuilder costs: no access log, warnings only.
    web.run_app(create_app(), host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
