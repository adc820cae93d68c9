"""The bot's status and cancel across the orchestration's generations (continue-as-new), end to end.

A stack of its own: 60 steps of 0.1 s, two steps per generation, so the operation hands over to a new generation
every 0.2 s while the user asks for its status and then cancels it with the URLs the bot got at the start.
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from contract import Progress, Stage, instance_id_prefix
from devhost.chat import ChatClient, ChatConfig, Conversation
from devhost.stack import Stack
from tests.e2e.stack_fixture import stack_config

STEPS = 60
SETTINGS = {"OperationSeconds": "6", "OperationSteps": str(STEPS), "StepsPerGeneration": "2",
            "OperationTimeoutSeconds": "120", "OperationFaults": ""}
WAIT = 60.0
CHOOSE = "Please select a long operation test option."
ONE_MOMENT = "...one moment please...."
CANCELLED = "Cancelled the long operation: option 1."
NOT_AVAILABLE = "Long operation option 1: progress is not available right now."
PROGRESSED = {step: f"Long operation option 1: {Progress.of('option 1', Stage.RUNNING, step, STEPS, '').percent}% "
              f"done (step {step} of {STEPS})." for step in range(STEPS + 1)}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, asyncio.AbstractEventLoop]]:
    data_dir: Path = tmp_path_factory.mktemp("generations")
    loop = asyncio.new_event_loop()
    running = Stack(stack_config(data_dir, SETTINGS))
    loop.run_until_complete(running.__aenter__())
    try:
        yield running, loop
    finally:
        loop.run_until_complete(running.__aexit__(None, None, None))
        loop.close()


async def _instances(running: Stack, conversation: Conversation) -> list[dict[str, Any]]:
    url = f"{running.config.functions_url}/runtime/webhooks/durabletask/instances/"
    prefix = instance_id_prefix(conversation.channel_id, conversation.id)
    async with aiohttp.ClientSession(headers=running.durable_headers) as session, \
            session.get(url, params={"instanceIdPrefix": prefix}) as response:
        assert response.status == 200, await response.text()
        found: list[dict[str, Any]] = await response.json()
        return found


def test_status_and_cancel_work_across_generations(stack: tuple[Stack, asyncio.AbstractEventLoop]) -> None:
    running, loop = stack

    async def scenario() -> tuple[list[str], list[str], list[dict[str, Any]]]:
        async with ChatClient(ChatConfig(bot_url=running.config.messages_url)) as client:
            conversation = await client.start_conversation()
            await conversation.say("hi")
            await conversation.wait_for_text(CHOOSE, WAIT)
            await conversation.say("option 1")
            await conversation.wait_for_text(ONE_MOMENT, WAIT)
            replies: list[str] = []
            # Past step 4: at least two handovers since the bot got its status URL.
            while not replies or replies[-1] not in [PROGRESSED[s] for s in range(5, STEPS)]:
                await conversation.say("status")
                reply = await conversation.wait_for(lambda a: a.get("type") == "message", WAIT)
                replies.append(reply.get("text") or "")
                assert len(replies) < 500, replies
            await conversation.say("cancel")
            await conversation.wait_for_text(CANCELLED, WAIT)
            await conversation.wait_for(lambda a: a.get("text") == CHOOSE, WAIT)
            deadline = asyncio.get_running_loop().time() + WAIT
            instances = await _instances(running, conversation)
            while instances[0]["runtimeStatus"] != "Terminated" and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
                instances = await _instances(running, conversation)
            return replies, conversation.bot_texts(), instances

    replies, texts, instances = loop.run_until_complete(scenario())
    # Once progress shows, it shows in every later reply: a new generation's status is never empty.
    first = next(i for i, reply in enumerate(replies) if reply != NOT_AVAILABLE)
    assert set(replies[:first]) <= {NOT_AVAILABLE}, replies
    assert set(replies[first:]) <= set(PROGRESSED.values()), replies
    assert texts[-2:] == [CANCELLED, CHOOSE]
    assert [i["runtimeStatus"] for i in instances] == ["Terminated"]
