"""One turn at a time per conversation, within this process.

A user's message and the proactive outcome turn of the same conversation may run at once; each reads
the conversation state, changes it and saves it. Without this, the later save silently undoes the other
(MemoryStorage: last writer wins) or fails on a stale eTag (SqliteStorage). Across several bot
processes the eTag check is what remains (and the turn fails into on_turn_error).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ConversationLocks:
    def __init__(self) -> None:
        # key -> (lock, number of turns holding or waiting for it); entries go away when unused.
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


def conversation_lock_key(channel_id: object, conversation_id: object) -> str:
    # channel_id may be a str-Enum member: format its value, not "Channels.direct_line".
    channel = getattr(channel_id, "value", channel_id)
    return f"{channel}/{conversation_id}"
