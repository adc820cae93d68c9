"""A small real botbuilder bot (ActivityHandler + CloudAdapter, empty app id) served on loopback for the tests.

It is not the project bot: it echoes, fails or stalls on command, so each Direct Line behaviour can be provoked.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.core.integration import aiohttp_error_middleware
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes
from msrest.exceptions import HttpOperationError


class EmptyAppIdConfig:
    """Auth disabled both ways, as the bot runs offline (botbuilder-notes §1)."""

    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


def make_adapter() -> CloudAdapter:
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(EmptyAppIdConfig()))


class EchoBot(ActivityHandler):
    """``echo: <text>`` (with each attached file's name and size, fetched from its contentUrl); ``fail`` raises
    (the adapter answers 500); ``slow`` waits until the test releases it; ``typing`` sends a typing activity before
    its reply; ``edit`` sends a message, tries to update it and says how that went."""

    def __init__(self) -> None:
        self.release_slow = asyncio.Event()

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = turn_context.activity.text or ""
        if text == "fail":
            raise RuntimeError("the test bot was told to fail")
        if text == "slow":
            await self.release_slow.wait()
        if text == "typing":
            await turn_context.send_activity(Activity(type=ActivityTypes.typing))
        if text == "edit":
            sent = await turn_context.send_activity("before edit")
            edited = MessageFactory.text("after edit")
            edited.id = sent.id
            try:
                await turn_context.update_activity(edited)
            except HttpOperationError as error:
                # msrest keeps the transport's response: aiohttp's has ``status``, requests' ``status_code``.
                status = getattr(error.response, "status", getattr(error.response, "status_code", None))
                await turn_context.send_activity(f"could not edit: HTTP {status}")
            return
        files = [a for a in turn_context.activity.attachments or [] if a.content_url]
        if files:
            sizes = [f"{a.name} ({len(await fetch(a.content_url))} bytes)" for a in files]
            await turn_context.send_activity(f"echo: {text} with {', '.join(sizes)}")
            return
        await turn_context.send_activity(f"echo: {text}")


async def fetch(url: str) -> bytes:
    """What a bot does with an uploaded file's contentUrl: a plain GET (a private link needs no token)."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        response.raise_for_status()
        return await response.read()


@dataclass
class RunningBot:
    runner: web.AppRunner
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)

    def received_of_type(self, activity_type: str) -> list[dict[str, Any]]:
        return [activity for activity in self.received if activity.get("type") == activity_type]

    async def close(self) -> None:
        await self.runner.cleanup()


async def serve_bot(bot: ActivityHandler, adapter: CloudAdapter | None = None) -> RunningBot:
    """Serve ``bot`` on ``127.0.0.1:<free port>/api/messages``, recording every raw request body it receives."""
    adapter = adapter or make_adapter()
    received: list[dict[str, Any]] = []

    async def messages(request: web.Request) -> web.Response:
        # The raw wire JSON, before botbuilder deserializes it: tests assert the exact forwarded fields.
        received.append(json.loads(await request.read()))
        response = await adapter.process(request, bot)
        assert response is not None
        return response

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return RunningBot(runner, f"http://127.0.0.1:{port}/api/messages", received)


async def poll_until(condition: Callable[[], Awaitable[bool]] | Callable[[], bool], within: float = 10.0) -> None:
    """Wait until ``condition`` holds, checking often; fail after a generous bound (never a bare sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.02)
