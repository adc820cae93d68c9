"""Delivers activities to the bot's messaging endpoint and maps its answer to Direct Line's status codes."""

import logging
from typing import Any

import aiohttp

from devhost.directline.errors import BotRejectedActivity, BotTimeout, BotUnreachable, DirectLineError
from devhost.identity.channel import DirectLineAuth

log = logging.getLogger(__name__)


class BotForwarder:
    """POSTs to the bot; with ``auth``, a channel token for the activity's serviceUrl in ``Authorization`` (as the
    Bot Framework's channel service sends it), else none (a bot with an empty app id).

    Owns the process's one ``aiohttp.ClientSession``; the app opens and closes it in its lifecycle.
    """

    def __init__(self, bot_url: str, timeout_seconds: float, auth: DirectLineAuth | None = None) -> None:
        self._bot_url = bot_url
        self._auth = auth
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        # No connection cap (aiohttp's default is 100): every client's POST waits for the bot's whole turn, so a cap
        # queued the 101st concurrent activity behind others' turns (bench/system.py at 500 operations).
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, activity: dict[str, Any]) -> None:
        if self._session is None:
            raise DirectLineError("the Direct Line service is not running")
        conversation_id = activity.get("conversation", {}).get("id")
        headers = {} if self._auth is None else {"Authorization": self._auth.authorization(str(activity["serviceUrl"]))}
        try:
            async with self._session.post(self._bot_url, json=activity, headers=headers,
                                          timeout=self._timeout) as response:
                if 200 <= response.status < 300:
                    return
                log.warning("bot rejected activity: status=%s conversation_id=%s type=%s",
                            response.status, conversation_id, activity.get("type"))
                raise BotRejectedActivity(f"the bot at {self._bot_url} answered {response.status}")
        except TimeoutError:
            # aiohttp raises asyncio.TimeoutError (TimeoutError on 3.11) when its ClientTimeout runs out.
            log.warning("bot timed out: conversation_id=%s", conversation_id)
            raise BotTimeout(f"the bot at {self._bot_url} did not answer within {self._timeout.total:g} s") from None
        except aiohttp.ClientError as error:
            log.warning("bot unreachable: conversation_id=%s error=%s", conversation_id, error)
            raise BotUnreachable(f"the bot at {self._bot_url} is unreachable: {error}") from None
