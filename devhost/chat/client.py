"""``ChatClient``: an Emulator-like Bot Framework client for terminals, tests and benchmarks.

It serves the Bot Connector routes on a loopback port (one server for any number of conversations) and posts the
user's activities to the bot's messaging endpoint as channel ``emulator``::

    async with ChatClient(ChatConfig(bot_url="http://127.0.0.1:3978/api/messages")) as client:
        conversation = await client.start_conversation()
        await conversation.say("hi")
        reply = await conversation.wait_for_text("hi", timeout=10)

``client.faults`` is the fault mode of those routes (devhost/connector_faults.py): ``client.faults.inject("gone",
conversation_id=conversation.id)`` makes the bot's next post to that conversation answer 404.
"""

import logging
import uuid

import aiohttp
from aiohttp import web

from devhost.addresses import reachable_host
from devhost.attachment_store import AttachmentStore
from devhost.chat.config import ChatConfig
from devhost.chat.connector import create_connector_app
from devhost.chat.conversation import Activity, Conversation, Listener
from devhost.chat.errors import BotRejected, BotUnreachable, ChatError
from devhost.connector_faults import ConnectorFaults
from devhost.identity.channel import AuthError

log = logging.getLogger(__name__)


class ChatClient:
    def __init__(self, config: ChatConfig) -> None:
        self.config = config
        self.conversations: dict[str, Conversation] = {}
        # What the user sends with /file, and what the bot uploads (devhost/connector_attachments.py).
        self.attachments = AttachmentStore()
        self.faults = ConnectorFaults()
        for fault in config.faults:
            self.faults.inject(**fault)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._service_url: str | None = None

    @property
    def service_url(self) -> str:
        """Where the bot replies (no trailing slash, like the Emulator's ``http://localhost:<port>``)."""
        if self._service_url is None:
            raise ChatError("the chat client is not started")
        return self._service_url

    async def start(self) -> None:
        auth = self.config.auth
        bot_tokens = None if auth is None else auth.verifier()
        runner = web.AppRunner(create_connector_app(self.conversations, self.faults, bot_tokens,
                                                   self.attachments), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            raise ChatError(f"cannot listen on {self.config.host}:{self.config.port} for the bot's replies: "
                            f"{error.strerror or error}") from None
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._service_url = f"http://{reachable_host(host)}:{port}"
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.config.connection_limit),
            timeout=aiohttp.ClientTimeout(total=self.config.bot_timeout_seconds),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "ChatClient":
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start_conversation(self, listener: Listener | None = None, user_id: str | None = None) -> Conversation:
        """A new ``<uuid>|livechat`` conversation, opened with conversationUpdate membersAdded [user, bot].

        ``listener`` sees every transcript entry from the start, including replies to the conversationUpdate.
        """
        config = self.config
        conversation = Conversation(
            f"{uuid.uuid4()}|livechat",
            user={"id": user_id or str(uuid.uuid4()), "name": config.user_name, "role": "user"},
            bot={"id": config.bot_id, "name": config.bot_name, "role": "bot"},
            channel_id=config.channel_id,
            service_url=self.service_url,
            locale=config.locale,
            post=self._post_to_bot,
            reply_hold_seconds=config.reply_hold_seconds,
            attachments=self.attachments,
        )
        if listener is not None:
            conversation.listeners.append(listener)
        self.conversations[conversation.id] = conversation
        try:
            await conversation.send_activity(
                {"type": "conversationUpdate", "membersAdded": [conversation.user, conversation.bot]}
            )
        except ChatError:
            del self.conversations[conversation.id]
            raise
        return conversation

    async def _post_to_bot(self, activity: Activity) -> None:
        if self._session is None:
            raise ChatError("the chat client is not started")
        url = self.config.bot_url
        auth = self.config.auth
        try:
            # As the Emulator's fetchWithAuth: a 401 or 403 gets one more try with a freshly fetched token.
            for fresh_token in (False, True):
                headers = {} if auth is None else {"Authorization": await auth.authorization(self._session,
                                                                                             fresh_token)}
                async with self._session.post(url, json=activity, headers=headers) as response:
                    if 200 <= response.status < 300:
                        return
                    if auth is not None and response.status in (401, 403) and not fresh_token:
                        continue
                    detail = (await response.text())[:200]
                    raise BotRejected(f"the bot at {url} answered {response.status}: {detail}", response.status)
        except AuthError as error:
            raise BotRejected(f"cannot authenticate to the bot at {url}: {error}", 401) from None
        except TimeoutError:
            raise BotUnreachable(
                f"the bot at {url} did not answer within {self.config.bot_timeout_seconds:g} s") from None
        except aiohttp.ClientError as error:
            raise BotUnreachable(f"cannot reach the bot at {url}: {error}") from None
