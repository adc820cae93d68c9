"""Serves the chat test bot and a ChatClient against it, on loopback."""

import contextlib
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
async def chatting() -> AsyncIterator[ChatHarness]:
    bot, served = await serve_chat_bot()
    out = io.StringIO()
    try:
        async with ChatClient(ChatConfig(bot_url=served.url)) as client:
            yield ChatHarness(bot, served, client, out, TerminalView(out))
    finally:
        await served.close()
