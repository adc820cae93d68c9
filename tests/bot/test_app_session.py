"""The bot's one client session to the function app."""

import asyncio

from aiohttp.test_utils import TestClient, TestServer

from bot.app import ADAPTER, HTTP_SESSION, create_app
from bot.settings import BotSettings


def test_the_session_does_not_cap_concurrent_operation_calls_at_aiohttps_100() -> None:
    async def main() -> None:
        app = create_app(BotSettings(signing_key="k"))
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/api/health")
            assert response.status == 200
            connector = app[HTTP_SESSION].connector
            assert connector is not None
            assert connector.limit == 0

    asyncio.run(main())


def test_replies_to_the_channel_go_through_the_same_session() -> None:
    async def main() -> None:
        app = create_app(BotSettings(signing_key="k"))
        async with TestClient(TestServer(app)) as client:
            assert (await client.get("/api/health")).status == 200
            assert app[ADAPTER].bot_framework_authentication.attached_session is app[HTTP_SESSION]

    asyncio.run(main())
