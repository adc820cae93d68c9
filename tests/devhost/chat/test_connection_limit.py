"""The client's connection limit to the bot: a load generator must not queue its own users."""

import asyncio
import contextlib

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from devhost.chat import ChatClient, ChatConfig

WAIT = 30.0


async def _most_concurrent_posts(users: int, connection_limit: int, hold: float) -> int:
    """How many of ``users`` conversation openings the bot sees in flight at once (it holds each until all came,
    or for ``hold`` seconds)."""
    in_flight = 0
    most = 0
    everyone = asyncio.Event()

    async def messages(request: web.Request) -> web.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        if in_flight >= users:
            everyone.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(everyone.wait(), hold)
        in_flight -= 1
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        config = ChatConfig(bot_url=str(server.make_url("/api/messages")), connection_limit=connection_limit,
                            bot_timeout_seconds=WAIT)
        async with ChatClient(config) as client:
            await asyncio.gather(*(client.start_conversation() for _ in range(users)))
    finally:
        await server.close()
    return most


def test_no_limit_lets_every_user_post_at_once_beyond_aiohttps_default_of_100() -> None:
    assert asyncio.run(_most_concurrent_posts(120, 0, hold=WAIT)) == 120


def test_a_limit_caps_the_posts_in_flight() -> None:
    assert asyncio.run(_most_concurrent_posts(12, 5, hold=0.2)) == 5


def test_a_negative_limit_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="connection limit"):
        ChatConfig(connection_limit=-1)
