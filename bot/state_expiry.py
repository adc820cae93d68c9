"""Conversation state expires ConversationStateDays after its last write, in every store.

Each store keeps a last-activity time beside every item (SQLite: a column with an index; Blob: a metadata entry;
memory: a dict beside botbuilder's). The bot writes a conversation's state at the end of every turn, changed or not
(bot/long_operation_bot.py), so the time is the conversation's last turn.
An expired item reads as absent, so a conversation quiet for that long starts afresh, and a periodic sweep
(``sweep_periodically``, started in bot/app.py's lifecycle) deletes expired items so the store does not grow forever.

Why an outcome cannot be lost or shown twice by expiry: an outcome reaches the bot at most
contract.OUTCOME_WINDOW_SECONDS (2 days) after the operation started (the function app refuses settings that would
allow later), the start turn wrote the state, and ConversationStateDays is at least one day more than that window
(bot/settings.py). A conversation whose state has expired waits for nothing, so a late or duplicate outcome finds no
prompt and is dropped as stale (bot/long_operation_bot.py), even though the delivered-outcomes record expired with it.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

logger = logging.getLogger(__name__)

SECONDS_PER_DAY: Final = 86400.0
DEFAULT_CONVERSATION_STATE_DAYS: Final = 30
# How often the bot sweeps its store: expired items already read as absent, the sweep only reclaims their space.
SWEEP_INTERVAL_SECONDS: Final = 3600.0
# Items one sweep step deletes at a time (one SQLite statement, or one round of concurrent blob deletes), so turns
# get the store between steps.
SWEEP_BATCH: Final = 200

Clock = Callable[[], float]
"""Seconds since the epoch, as ``time.time``; tests inject their own."""


@dataclass(frozen=True)
class StateExpiry:
    """How long an item lives after its last write, and the clock that says what time it is."""

    time_to_live_seconds: float = DEFAULT_CONVERSATION_STATE_DAYS * SECONDS_PER_DAY
    clock: Clock = field(default=time.time, compare=False)

    @classmethod
    def of_days(cls, days: float, clock: Clock = time.time) -> "StateExpiry":
        return cls(days * SECONDS_PER_DAY, clock)

    def now(self) -> float:
        return self.clock()

    def cutoff(self) -> float:
        """Items last written at or before this moment have expired."""
        return self.clock() - self.time_to_live_seconds

    def is_expired(self, last_activity: float) -> bool:
        return last_activity <= self.cutoff()


@runtime_checkable
class ExpiringStorage(Protocol):
    """A state store that deletes its expired items on request (all three stores of bot/storage.py)."""

    async def sweep_expired(self) -> int:
        """Delete every expired item; the number deleted."""
        ...


async def sweep_periodically(
    store: ExpiringStorage,
    interval_seconds: float = SWEEP_INTERVAL_SECONDS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Sweep now, then every ``interval_seconds``, until cancelled. A failed sweep is logged and tried again at the
    next interval: expired items read as absent meanwhile, so nothing but space depends on it."""
    while True:
        try:
            deleted = await store.sweep_expired()
        except Exception:  # the store's StorageError, or anything else: the bot must keep serving
            logger.exception("sweeping expired conversation state failed; trying again in %g s", interval_seconds)
        else:
            if deleted:
                logger.info("swept %d expired conversation states", deleted)
        await sleep(interval_seconds)
