"""Proactive progress end to end on the devhost: the functions host posts signed reports through the Direct Line
stand-in, the bot verifies them and, in the Emulator-like chat (channel "emulator"), sends one progress card and
updates it in place through the chat's PUT route, before the result arrives.

count primes reports at most every 2 s. Its steps are made slow in orchestration time with the real retry path
(the first attempts of steps 2 and 3 fail, then a 2.5 s back-off each), so exactly two reports are due: after step
2 (over 2 s from the start) and after step 3 (over 2 s from the first report); step 4 is the last (the outcome).
"""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from devhost.chat import ChatClient, ChatConfig
from devhost.stack import Stack
from tests.e2e.stack_fixture import stack_config

SETTINGS = {
    "OperationTimeoutSeconds": "60",
    "StepRetryAttempts": "2",
    "StepFirstRetrySeconds": "2.5",
    "OperationFaults": "count primes@2x1,count primes@3x1",
}
WAIT = 60.0
RESULT = "Thanks for waiting. The long operation: count primes has finished. Here is its result."


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = stack_config(tmp_path_factory.mktemp("stack"), SETTINGS)
    loop = asyncio.new_event_loop()
    running = Stack(config)
    loop.run_until_complete(running.__aenter__())
    try:
        yield running
    finally:
        loop.run_until_complete(running.__aexit__(None, None, None))
        loop.close()


def _bar(activity: dict[str, Any]) -> list[tuple[str, int]]:
    [attachment] = activity["attachments"]
    return [(column["id"], column["width"]) for column in attachment["content"]["body"][1]["columns"]]


def test_the_emulator_gets_one_progress_card_updated_in_place_then_the_result(stack: Stack) -> None:
    async def scenario() -> None:
        async with ChatClient(ChatConfig(bot_url=stack.config.messages_url)) as client:
            conversation = await client.start_conversation()
            await conversation.say("hi")
            await conversation.wait_for_text("Please select a long operation test option.", WAIT)
            await conversation.say("count primes")
            await conversation.wait_for_text("Please enter the upper limit", WAIT)
            await conversation.say("100000")
            await conversation.wait_for_text("...one moment please....", WAIT)
            await conversation.wait_for_text(RESULT, WAIT)

            entries = [entry for entry in conversation.transcript
                       if entry.sender == "bot" and entry.activity.get("type") == "message"]
            texts = [entry.activity.get("text") for entry in entries]
            # The card sent after step 2 was replaced in place by step 3's: one entry, marked updated.
            assert texts[-2:] == ["count primes: step 3 of 4 (75%)", RESULT]
            card = entries[-2]
            assert card.change == "updated"
            assert _bar(card.activity) == [("progress-done", 75), ("progress-left", 25)]
            assert "count primes: step 2 of 4 (50%)" not in texts

    asyncio.run(scenario())
