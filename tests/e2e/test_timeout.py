"""A deadline shorter than the work: the orchestration ends timed_out and the user is told so, once."""

import asyncio
from pathlib import Path

from devhost.chat import ChatClient, ChatConfig
from devhost.stack import Stack
from tests.e2e.stack_fixture import stack_config

SETTINGS = {"OperationSeconds": "30", "OperationSteps": "3", "OperationTimeoutSeconds": "1"}


def test_deadline_ends_the_operation_as_timed_out(tmp_path: Path) -> None:
    config = stack_config(tmp_path, SETTINGS)

    async def scenario() -> list[str]:
        async with Stack(config), ChatClient(ChatConfig(bot_url=config.messages_url)) as client:
            conversation = await client.start_conversation()
            await conversation.say("hi")
            await conversation.wait_for_text("Please select a long operation test option.", 60)
            await conversation.say("option 1")
            await conversation.wait_for_text("took too long", 60, since=0)
            await conversation.wait_for_text("Please select a long operation test option.", 60)
            return conversation.bot_texts()

    texts = asyncio.run(scenario())
    timed_out = [t for t in texts if "took too long" in t]
    assert len(timed_out) == 1
    assert timed_out[0].startswith("Sorry, the long operation: option 1 took too long")
    assert not any(t.startswith("Thanks for waiting") for t in texts)
