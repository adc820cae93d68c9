"""The Direct Line conversation that carries outcomes to the bot, reused for several notifications.

Microsoft's sample starts a new Direct Line conversation for every outcome. Each start is a round trip to Direct
Line and, behind it, a conversationUpdate turn in the bot that the start waits for, in front of the outcome event
itself. Under load the bot is the busy part, so that extra turn queued behind every other one (bench/system.py at
500 operations: completion overhead p99 1.0 s -> 0.35-0.82 s). The conversation is only a carrier: the bot routes
the outcome by the continuation inside the event, never by this conversation. So one conversation carries up to
``NotifyPostsPerConversation`` outcomes (1 = the sample's one per outcome) and is replaced after MAX_AGE_SECONDS,
well inside the 30-minute life of the token Direct Line gave for it.

If a reused conversation is refused (403/404: gone, or its token no longer valid; 429 without Retry-After: Direct
Line throttles this conversation), it is dropped and the outcome is posted once more on a new conversation at once,
so a stale carrier costs no retry back-off. A 429 WITH Retry-After is honoured: the post is made again on the same
conversation once that time has passed, if it is at most RETRY_AFTER_CAP_SECONDS (an activity should not sleep
longer; beyond it the attempt fails and the orchestrator's back-off takes over, without posting again sooner here).
Any other failure, or a failure on a fresh conversation, goes to the orchestrator's retry policy as before, and the
next attempt starts a new conversation.

State is per worker process (as the shared aiohttp session) and per event loop; a start is single-flight, so a
burst of notifications starts one conversation, not one each.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.directline import DirectLineClient, DirectLineConversation
from orchestrator.errors import DirectLineError

logger = logging.getLogger(__name__)

MAX_AGE_SECONDS = 600.0
# The longest Retry-After of a throttled post waited for inside the notify_bot activity.
RETRY_AFTER_CAP_SECONDS = 30.0
# Statuses of a post that mean "this conversation, not Direct Line as a whole": retry at once on a new one.
REPLACE_ON = frozenset({403, 404, 429})


@dataclass
class _Carrier:
    conversation: DirectLineConversation
    # The client's endpoint and secret digest: settings may change between calls, and a conversation belongs to one.
    owner: tuple[str, str]
    started: float
    posts: int = 0


class CarrierConversations:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._current: _Carrier | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def post(
        self, client: DirectLineClient, activity: dict[str, Any], user: Mapping[str, str], posts_per_conversation: int
    ) -> tuple[DirectLineConversation, str]:
        """Post ``activity`` on a carrier conversation (started with ``user``); the conversation and activity id."""
        carrier, fresh = await self._take(client, user, posts_per_conversation)
        try:
            return carrier.conversation, await client.post_activity(carrier.conversation, activity)
        except DirectLineError as error:
            if error.status == 429 and error.retry_after is not None:
                return await self._post_after_throttle(client, carrier, activity, error.retry_after)
            self._drop(carrier)
            if fresh or error.status not in REPLACE_ON:
                raise
        carrier, _ = await self._take(client, user, posts_per_conversation)
        try:
            return carrier.conversation, await client.post_activity(carrier.conversation, activity)
        except DirectLineError:
            self._drop(carrier)
            raise

    async def _post_after_throttle(
        self, client: DirectLineClient, carrier: _Carrier, activity: dict[str, Any], retry_after: float
    ) -> tuple[DirectLineConversation, str]:
        if retry_after > RETRY_AFTER_CAP_SECONDS:
            logger.warning("Direct Line throttles the carrier conversation for %g s, longer than the %g s waited "
                           "here; the attempt fails", retry_after, RETRY_AFTER_CAP_SECONDS)
            self._drop(carrier)
            raise DirectLineError("post activity", 429, "Throttled",
                                  f"Retry-After {retry_after:g} s is longer than {RETRY_AFTER_CAP_SECONDS:g} s",
                                  retry_after)
        logger.warning("Direct Line throttles the carrier conversation; posting again after its Retry-After of %g s",
                       retry_after)
        await self._sleep(retry_after)
        try:
            return carrier.conversation, await client.post_activity(carrier.conversation, activity)
        except DirectLineError:
            self._drop(carrier)
            raise

    async def _take(
        self, client: DirectLineClient, user: Mapping[str, str], posts_per_conversation: int
    ) -> tuple[_Carrier, bool]:
        """The current carrier with one post counted, or a new one; and whether it was started by this call."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            # An asyncio.Lock belongs to one loop; a host that runs a fresh loop gets a fresh lock (and carrier).
            self._lock, self._loop, self._current = asyncio.Lock(), loop, None
        async with self._lock:
            carrier = self._current
            fresh = carrier is None or not self._usable(carrier, client.owner, posts_per_conversation)
            if fresh:
                conversation = await client.start_conversation(user=user)
                carrier = _Carrier(conversation, client.owner, self._clock())
                self._current = carrier
            assert carrier is not None
            carrier.posts += 1
            return carrier, fresh

    def _usable(self, carrier: _Carrier, owner: tuple[str, str], posts_per_conversation: int) -> bool:
        return (carrier.owner == owner and carrier.posts < posts_per_conversation
                and self._clock() - carrier.started < MAX_AGE_SECONDS)

    def _drop(self, carrier: _Carrier) -> None:
        if self._current is carrier:
            self._current = None


carrier_conversations = CarrierConversations()
