"""Starts the test bot and the Direct Line stand-in on loopback, and talks to the stand-in as a client would."""

import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from botbuilder.core import ActivityHandler
from botbuilder.integration.aiohttp import CloudAdapter

from devhost.directline import DirectLineConfig, RunningDirectLine, serve
from tests.devhost.directline.echo_bot import EchoBot, RunningBot, serve_bot

SECRET = "test-directline-secret"


@dataclass
class Harness:
    bot: RunningBot | None
    directline: RunningDirectLine
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.directline.directline_url

    def auth(self, credential: str = SECRET) -> dict[str, str]:
        return {"Authorization": f"Bearer {credential}"}

    async def call(self, method: str, path: str, credential: str | None = SECRET, **kwargs: Any) -> tuple[int, Any]:
        headers = self.auth(credential) if credential is not None else {}
        async with self.http.request(method, f"{self.url}{path}", headers=headers, **kwargs) as response:
            body = await response.json() if response.content_type == "application/json" else await response.text()
            return response.status, body

    async def start(self, credential: str = SECRET, user_id: str = "user-1") -> dict[str, Any]:
        status, body = await self.call("POST", "/conversations", credential, json={"user": {"id": user_id}})
        assert status in (200, 201), body
        return dict(body)

    async def say(self, conversation_id: str, text: str, credential: str = SECRET, **extra: Any) -> tuple[int, Any]:
        activity = {"type": "message", "text": text, "from": {"id": "user-1", "name": "User"}, **extra}
        return await self.call("POST", f"/conversations/{conversation_id}/activities", credential, json=activity)

    async def activities(self, conversation_id: str, watermark: str = "", credential: str = SECRET) -> dict[str, Any]:
        status, body = await self.call(
            "GET", f"/conversations/{conversation_id}/activities", credential, params={"watermark": watermark}
        )
        assert status == 200, body
        return dict(body)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def running(bot: ActivityHandler | None = None, *, adapter: CloudAdapter | None = None, bot_down: bool = False,
                  **overrides: Any) -> AsyncIterator[Harness]:
    """The stand-in in front of ``bot`` (an EchoBot by default; ``adapter`` if the bot needs its own), or in front
    of nothing listening with ``bot_down``. ``overrides`` replace DirectLineConfig fields."""
    served_bot = None if bot_down else await serve_bot(bot or EchoBot(), adapter)
    bot_url = served_bot.url if served_bot else f"http://127.0.0.1:{closed_port()}/api/messages"
    config = replace(DirectLineConfig(bot_url=bot_url, secret=SECRET, port=0), **overrides)
    directline = await serve(config)
    try:
        async with aiohttp.ClientSession() as http:
            yield Harness(served_bot, directline, http)
    finally:
        if served_bot is not None:
            bot_handler = bot
            if isinstance(bot_handler, EchoBot):
                bot_handler.release_slow.set()
            await served_bot.close()
        await directline.close()
