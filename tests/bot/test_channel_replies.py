"""What the bot's activities point at, per channel: no made-up replyToId, and no Emulator "Bot State" trace."""

import asyncio

from botbuilder.schema import Activity, ActivityTypes

from tests.bot.harness import EMULATOR_CONVERSATION, bot_harness, texts


def messages(replies: list[Activity]) -> list[Activity]:
    return [reply for reply in replies if reply.type == ActivityTypes.message]


CHOOSE = "Please select a long operation test option."
RESULT = "Thanks for waiting. (Result for long operation one!)"


def test_on_the_emulator_the_result_and_next_prompt_reply_to_the_message_that_started_the_operation() -> None:
    """The proactive turn's own activity id is a fresh uuid1 no channel saw; Web Chat holds replies to it 5 s."""

    async def main() -> None:
        async with bot_harness(conversation=EMULATOR_CONVERSATION) as harness:
            await harness.say("hi")
            start = Activity(type=ActivityTypes.message, text="option 1", id="user-message-7")
            assert texts(messages(await harness.post(start))) == ["...one moment please...."]
            replies = messages(await harness.post(harness.outcome_event()))
            assert texts(replies) == [RESULT, CHOOSE]
            assert [reply.reply_to_id for reply in replies] == ["user-message-7", "user-message-7"]
            # The continuation names it, so the function app's copy of the conversation reference agrees.
            assert harness.continuation()["id"] == "user-message-7"

    asyncio.run(main())


def test_on_direct_line_proactive_replies_carry_no_reply_to_id() -> None:
    async def main() -> None:
        async with bot_harness() as harness:
            await harness.say("hi")
            await harness.say("option 1")
            assert "id" not in harness.continuation()
            replies = await harness.post(harness.outcome_event())
            assert texts(replies) == [RESULT, CHOOSE]
            assert [reply.reply_to_id for reply in replies] == [None, None]

    asyncio.run(main())


def test_on_the_emulator_no_turn_sends_a_bot_state_trace() -> None:
    """botbuilder's DialogExtensions.run_dialog sends one after every dialog turn there, its fields swapped."""

    async def main() -> None:
        async with bot_harness(conversation=EMULATOR_CONVERSATION) as harness:
            replies = await harness.say("hi")
            replies += await harness.say("option 1")
            replies += await harness.say("status")
            replies += await harness.post(harness.outcome_event())
            assert [reply.type for reply in replies] == [ActivityTypes.message] * len(replies)
            assert len(replies) == 5

    asyncio.run(main())
