"""A failing turn is handled under its conversation's lock: the next turn of that conversation waits for the reset."""

import asyncio
from typing import Any

import pytest
from botbuilder.schema import Activity

from bot import texts as bot_texts
from bot.errors import StorageError
from tests.bot.harness import USER_CONVERSATION, BotHarness, CopyingMemoryStorage, bot_harness, texts


class FailingReadStorage(CopyingMemoryStorage):
    """Fails one read on demand, then holds the next read (the error handler's reload) until ``release``.

    ``log`` records every call in order, so a test sees whose read came before whose write.
    """

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []
        self.fail_next_read = False
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        self._hold_next_read = False

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if self.fail_next_read:
            self.fail_next_read = False
            self._hold_next_read = True
            self.log.append("read-failed")
            raise StorageError("the state store failed (on purpose)")
        self.log.append("read")
        if self._hold_next_read:
            self._hold_next_read = False
            self.holding.set()
            await self.release.wait()
        return await super().read(keys)

    async def write(self, changes: dict[str, object]) -> None:
        self.log.append("write")
        await super().write(changes)


def run(test: Any) -> None:
    async def main() -> None:
        storage = FailingReadStorage()
        async with bot_harness(storage) as harness:
            await test(harness, storage)

    asyncio.run(main())


async def fail_while_another_turn_arrives(
    harness: BotHarness, storage: FailingReadStorage, failing: str | Activity
) -> list[Activity]:
    """Turn ``failing`` fails on its state read; while its error handler reloads the state, "hi" arrives."""
    storage.fail_next_read = True
    start = len(storage.log)
    harness.adapter.activity_buffer.clear()
    failing_turn = asyncio.create_task(harness.adapter.receive_activity(failing))
    await asyncio.wait_for(storage.holding.wait(), timeout=10)
    next_turn = asyncio.create_task(harness.adapter.receive_activity("hi"))
    # Give the next turn every chance to run ahead; correctness must not depend on how far it gets.
    await asyncio.wait({next_turn}, timeout=0.3)
    storage.release.set()
    await asyncio.wait_for(asyncio.gather(failing_turn, next_turn), timeout=10)
    # The handler's reload and reset-save come before any read of the next turn.
    assert storage.log[start:start + 3] == ["read-failed", "read", "write"]
    replies = list(harness.adapter.activity_buffer)
    harness.adapter.activity_buffer.clear()
    return replies


@pytest.mark.parametrize("failing", ["message", "outcome"])
def test_the_next_turn_waits_until_the_error_handler_has_reset_the_conversation(failing: str) -> None:
    async def test(harness: BotHarness, storage: FailingReadStorage) -> None:
        await harness.say("hi")
        assert texts(await harness.say("option 1")) == ["...one moment please...."]
        activity = harness.outcome_event() if failing == "outcome" else "status"
        replies = await fail_while_another_turn_arrives(harness, storage, activity)
        assert texts(replies) == [bot_texts.SOMETHING_WENT_WRONG, "Please select a long operation test option."]
        # A failed outcome delivery is explained in the user's conversation, not the function app's.
        assert {reply.conversation.id for reply in replies} == {USER_CONVERSATION}

    run(test)
