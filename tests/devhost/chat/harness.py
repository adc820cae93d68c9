"""Serves the chat test bot and a ChatClient against it, on loopback."""

import contextlib
import dataclasses
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

from devhost.chat import ChatClient, ChatConfig, TerminalView
from tests.devhost.chat.chat_bot import ChatTestBot, serve_chat_bot
from tests.devhost.directline.echo_bot import RunningBot


@dataclass
class ChatHarness:
    bot: ChatTestBot
    served: RunningBot
    client: ChatClient
    out: io.StringIO
    view: TerminalView

    def lines(self) -> list[str]:
        return self.out.getvalue().splitlines()


@contextlib.asynccontextmanager
async def chatting(reply_hold_seconds: float | None = None) -> AsyncIterator[ChatHarness]:
    bot, served = await serve_chat_bot()
    out = io.StringIO()
    config = ChatConfig(bot_url=served.url)
    if reply_hold_seconds is not None:
        config = dataclasses.replace(config, reply_hold_seconds=reply_hold_seconds)
    try:
        async with ChatClient(config) as client:
            yield ChatHarness(bot, served, client, out, TerminalView(out))
    finally:
        await served.close()
