"""Settings of the terminal chat client, parsed once into a frozen object."""

from dataclasses import dataclass
from typing import Any

from devhost.chat.conversation import WEB_CHAT_REPLY_TIMEOUT_SECONDS
from devhost.identity.channel import EmulatorAuth

DEFAULT_BOT_URL = "http://127.0.0.1:3978/api/messages"


@dataclass(frozen=True)
class ChatConfig:
    """``host``/``port`` is where the client serves the Bot Connector routes the bot replies to (0: a free port).

    ``channel_id`` is "emulator" as the Bot Framework Emulator sends it (botbuilder then also sends trace activities).
    """

    bot_url: str = DEFAULT_BOT_URL
    host: str = "127.0.0.1"
    port: int = 0
    channel_id: str = "emulator"
    locale: str = "en-US"
    bot_id: str = "bot"
    bot_name: str = "Bot"
    user_name: str = "User"
    # How long one POST to the bot may take; the bot answers only after its whole turn.
    bot_timeout_seconds: float = 60.0
    # Concurrent connections to the bot (aiohttp's TCPConnector limit; 0 = no limit). aiohttp's default of 100
    # would queue a load generator's 101st user inside the client and count that wait as the bot's latency.
    connection_limit: int = 100
    # How long a bot activity replying to an activity the chat has not shown is held before it is shown anyway:
    # Web Chat's REPLY_TIMEOUT (devhost/chat/conversation.py). Tests shorten it; the Emulator's chat does not.
    reply_hold_seconds: float = WEB_CHAT_REPLY_TIMEOUT_SECONDS
    # Faults the Bot Connector routes start with: keyword arguments of ConnectorFaults.inject (``--fault``).
    faults: tuple[dict[str, Any], ...] = ()
    # Bot Framework authentication as the Emulator does it with an app id and password (``devhost up --auth``): a
    # token for the app on every post to the bot, and the bot's token checked on its replies. None: auth off.
    auth: EmulatorAuth | None = None

    def __post_init__(self) -> None:
        if not self.bot_url.startswith(("http://", "https://")):
            raise ValueError(f"the bot URL must be an http(s) URL, got {self.bot_url!r}")
        if not self.reply_hold_seconds >= 0:
            raise ValueError(f"the reply hold must be 0 seconds or more, got {self.reply_hold_seconds}")
        if self.connection_limit < 0:
            raise ValueError(f"the connection limit must be 0 (none) or more, got {self.connection_limit}")
