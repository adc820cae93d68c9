"""ConversationLocks: turns of one conversation run one at a time; unused locks are dropped."""

import asyncio

from botframework.connector import Channels

from bot.conversation_locks import ConversationLocks, conversation_lock_key


def test_turns_of_one_conversation_run_one_at_a_time_and_others_run_freely() -> None:
    async def main() -> None:
        locks = ConversationLocks()
        order: list[str] = []
        release_first = asyncio.Event()
        first_inside = asyncio.Event()

        async def first() -> None:
            async with locks.hold("c1"):
                order.append("first in")
                first_inside.set()
                await release_first.wait()
                order.append("first out")

        async def second() -> None:
            async with locks.hold("c1"):
                order.append("second in")

        async def other() -> None:
            async with locks.hold("c2"):
                order.append("other in")

        first_task = asyncio.create_task(first())
        await first_inside.wait()
        second_task = asyncio.create_task(second())
        await other()  # another conversation is not held up by c1
        assert order == ["first in", "other in"]
        release_first.set()
        await asyncio.gather(first_task, second_task)
        assert order == ["first in", "other in", "first out", "second in"]
        assert len(locks) == 0

    asyncio.run(main())


def test_the_key_formats_an_enum_channel_by_its_value() -> None:
    assert conversation_lock_key(Channels.direct_line, "c1") == conversation_lock_key("directline", "c1")
    assert conversation_lock_key("directline", "c1") == "directline/c1"
