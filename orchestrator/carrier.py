"""The Direct Line conversation that carries outcomes to the bot, reused for several notifications.

Microsoft's sample starts a new Direct Line conversation for every outcome. Each start is a round trip to Direct
Line and, behind it, a conversationUpdate turn in the bot that the start waits for, in front of the outcome event
itself. Under load the bot is the busy part, so that extra turn queued behind every other one (bench/system.py at
500 operations: completion overhead p99 1.0 s -> 0.35-0.82 s). The conversation is only a carrier: the bot routes
the outcome by the continuation inside the event, never by this conversation. So one conversation carries up to
``NotifyPostsPerConversation`` outcomes (1 = the sample's one per outcome) and is replaced after MAX_AGE_SECONDS,
well inside the 30-minute life of the token Direct Line gave for it.

If a reused conversation is refused (403/404: gone, or its token no longer valid), it is dropped and the outcome is
posted once more on a new conversation at once, so a stale carrier costs no retry back-off. A throttled post (429)
moves to a new conversation at once too, with or without Retry-After: Direct Line throttles per conversation (the
Bot Framework FAQ, "How does rate limiting occur?": "A client of a bot sends messages too frequently"; the devhost's
--throttle), a new conversation is not throttled, and its start costs one bot turn where Retry-After is whole
seconds (at least 1), more than the completion overhead this carrier exists to save; waiting would also send every
waiter back at the same instant into the same full window.

A throttled conversation also says how many posts one carries: a refused post that was the Nth taken on it shows
that at most N-1 went through. New carriers take no more than the fewest seen (for MAX_AGE_SECONDS, then that is
forgotten), so a burst is spread over conversations before Direct Line refuses it rather than after, in rounds of
refusals each costing a start. A post refused again on its new carrier moves up to MAX_REPLACEMENTS times, then
waits Retry-After once (at most RETRY_AFTER_CAP_SECONDS: an activity should not sleep longer) and posts again; after
that the attempt fails and the orchestrator's back-off takes over. A 429 is never a duplicate: the post was refused,
not taken. Any other failure, or a 403/404 on a fresh conversation, goes to the orchestrator's retry policy, and the
next attempt starts a new conversation.

State is per worker process (as the shared aiohttp session) and per event loop. A post joins the carrier being
started while it has room, so a burst starts one conversation, not one each; a burst larger than a carrier's room
starts the others it needs at once, not one after another (a start waits for a bot turn).
"""

import asyncio
import logging
import sys
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
# Statuses of a post on a reused conversation that mean "this conversation, not Direct Line as a whole".
REPLACE_ON = frozenset({403, 404})
# How many times one post moves to a new conversation because its carrier was throttled, before it waits.
MAX_REPLACEMENTS = 8


@dataclass
class _Carrier:
    # Its start, shared by every post that joined it before it answered.
    start: "asyncio.Future[DirectLineConversation]"
    # The client's endpoint and secret digest: settings may change between calls, and a conversation belongs to one.
    owner: tuple[str, str]
    started: float
    posts: int = 0


@dataclass(frozen=True)
class _Capacity:
    """Posts a throttled carrier let through before its first refusal, and when that was learned."""

    posts: int
    learned: float


class CarrierConversations:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._current: _Carrier | None = None
        self._capacity: _Capacity | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def post(
        self, client: DirectLineClient, activity: dict[str, Any], user: Mapping[str, str], posts_per_conversation: int
    ) -> tuple[DirectLineConversation, str]:
        """Post ``activity`` on a carrier conversation (started with ``user``); the conversation and activity id."""
        replacements, waited = 0, False
        while True:
            carrier, conversation, fresh, taken = await self._take(client, user, posts_per_conversation)
            try:
                return conversation, await client.post_activity(conversation, activity)
            except DirectLineError as error:
                # Dropped in every case: the next post (this one's or another's) starts a new conversation.
                self._drop(carrier)
                if error.status == 429:
                    self._learn(taken - 1)
                    if replacements < MAX_REPLACEMENTS:
                        replacements += 1
                        logger.info("Direct Line throttles the carrier conversation; posting on a new one")
                        continue
                    if not waited:
                        await self._wait_as_told(error)
                        waited = True
                        continue
                    raise
                if fresh or error.status not in REPLACE_ON:
                    raise

    async def _wait_as_told(self, error: DirectLineError) -> None:
        """Sleep the throttled post's Retry-After, or raise when it gives none or more than the cap."""
        retry_after = error.retry_after
        if retry_after is None:
            raise error
        if retry_after > RETRY_AFTER_CAP_SECONDS:
            logger.warning("Direct Line throttles the carrier conversations for %g s, longer than the %g s waited "
                           "here; the attempt fails", retry_after, RETRY_AFTER_CAP_SECONDS)
            raise DirectLineError("post activity", 429, error.code,
                                  f"Retry-After {retry_after:g} s is longer than {RETRY_AFTER_CAP_SECONDS:g} s",
                                  retry_after) from error
        logger.warning("Direct Line throttled the carrier conversation %d times in a row; posting again after its "
                       "Retry-After of %g s", MAX_REPLACEMENTS + 1, retry_after)
        await self._sleep(retry_after)

    async def _take(
        self, client: DirectLineClient, user: Mapping[str, str], posts_per_conversation: int
    ) -> tuple[_Carrier, DirectLineConversation, bool, int]:
        """The current carrier with one post counted, or a new one, and its conversation; whether this call started
        it; and which of its posts this one is (1 for the first)."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            # An asyncio.Lock belongs to one loop; a host that runs a fresh loop gets a fresh lock (and carrier).
            self._lock, self._loop, self._current = asyncio.Lock(), loop, None
        async with self._lock:
            carrier = self._current
            fresh = carrier is None or not self._usable(carrier, client.owner, posts_per_conversation)
            if fresh:
                carrier = _Carrier(asyncio.ensure_future(client.start_conversation(user=user)), client.owner,
                                   self._clock())
                self._current = carrier
            assert carrier is not None
            carrier.posts += 1
            taken = carrier.posts
        try:
            # Shielded: one post's cancellation must not cancel the start the others wait for.
            conversation = await asyncio.shield(carrier.start)
        except Exception:
            self._drop(carrier)
            raise
        return carrier, conversation, fresh, taken

    def _usable(self, carrier: _Carrier, owner: tuple[str, str], posts_per_conversation: int) -> bool:
        return (carrier.owner == owner and carrier.posts < min(posts_per_conversation, self._learned_capacity())
                and self._clock() - carrier.started < MAX_AGE_SECONDS)

    def _learn(self, let_through: int) -> None:
        """A carrier was refused after ``let_through`` posts: new ones take no more (at least 1) for a while."""
        posts = max(1, let_through)
        if posts < self._learned_capacity():
            logger.info("Direct Line throttled a carrier conversation after %d posts; new ones carry at most that "
                        "many for %g s", posts, MAX_AGE_SECONDS)
            self._capacity = _Capacity(posts, self._clock())

    def _learned_capacity(self) -> int:
        capacity = self._capacity
        if capacity is None or self._clock() - capacity.learned >= MAX_AGE_SECONDS:
            return sys.maxsize
        return capacity.posts

    def _drop(self, carrier: _Carrier) -> None:
        if self._current is carrier:
            self._current = None


carrier_conversations = CarrierConversations()
