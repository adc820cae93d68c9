"""The stand-in forwards every activity at once, however many clients post together."""

import asyncio
import contextlib

from aiohttp import web
from aiohttp.test_utils import TestServer

from devhost.directline.forwarder import BotForwarder

WAIT = 30.0


def test_more_than_100_activities_are_in_flight_to_the_bot_at_once() -> None:
    activities = 120

    async def main() -> int:
        in_flight = most = 0
        everyone = asyncio.Event()

        async def messages(request: web.Request) -> web.Response:
            nonlocal in_flight, most
            in_flight += 1
            most = max(most, in_flight)
            if in_flight >= activities:
                everyone.set()
            # Held until every activity arrived: with aiohttp's default cap of 100, the rest would never come.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(everyone.wait(), WAIT)
            in_flight -= 1
            return web.Response(status=200)

        app = web.Application()
        app.router.add_post("/api/messages", messages)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        forwarder = BotForwarder(str(server.make_url("/api/messages")), WAIT * 2)
        await forwarder.open()
        try:
            await asyncio.gather(*(forwarder.deliver({"type": "message", "conversation": {"id": str(i)}})
                                   for i in range(activities)))
        finally:
            await forwarder.close()
            await server.close()
        return most

    assert asyncio.run(main()) == activities
