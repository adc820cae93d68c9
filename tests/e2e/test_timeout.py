"""A deadline shorter than the work: the orchestration ends timed_out and the user is told so, once."""

import asyncio
from pathlib import Path

from devhost.chat import ChatClient, ChatConfig
from devhost.stack import Stack
from tests.e2e.stack_fixture import stack_config

SETTINGS = {"OperationSeconds": "30", "OperationSteps": "3", "OperationTimeoutSeconds": "1"}
CHOOSE = "Please select a long operation test option."
# The deadline passes during the first attempt at step 1 (each step takes 10 s).
TIMED_OUT = "Sorry, the long operation: option 1 did not finish within 1 second, so it was stopped at step 1 of 3."


def test_deadline_ends_the_operation_as_timed_out(tmp_path: Path) -> None:
    config = stack_config(tmp_path, SETTINGS)

    async def scenario() -> list[str]:
        async with Stack(config), ChatClient(ChatConfig(bot_url=config.messages_url)) as client:
            conversation = await client.start_conversation()
            await conversation.say("hi")
            await conversation.wait_for_text(CHOOSE, 60)
            await conversation.say("option 1")
            await conversation.wait_for_text(TIMED_OUT, 60, since=0)
            await conversation.wait_for_text(CHOOSE, 60)
            return conversation.bot_texts()

    assert asyncio.run(scenario()) == [CHOOSE, "...one moment please....", TIMED_OUT, CHOOSE]
