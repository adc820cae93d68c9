"""The whole conversation, end to end, over loopback: chat client → bot → functions host → Direct Line → bot.

One stack for the module, with short operations: 3 steps of 0.5 s for "option 1" and "option 3", and "option 2"
failing at step 2 through the real fault-injection setting.
"""

import asyncio
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from contract import instance_id_prefix
from devhost.chat import ChatClient, ChatConfig, Conversation
from devhost.stack import Stack, StackConfig
from tests.e2e.stack_fixture import stack_config

SETTINGS = {
    "OperationSeconds": "1.5",
    "OperationSteps": "3",
    "OperationTimeoutSeconds": "60",
    "StepRetryAttempts": "2",
    "StepFirstRetrySeconds": "0.2",
    "OperationFaults": "option 2@2",
}
# Step 2 fails on both of its attempts (StepRetryAttempts 2).
FAILED_2 = "Sorry, the long operation: option 2 failed at step 2 of 3 after 2 attempts."
RESULTS = {
    "option 1": "Thanks for waiting. (Result for long operation one!)",
    "option 3": "Thanks for waiting. (Yet another result, this one for operation three!)",
}
WAIT = 60.0
CHOOSE = "Please select a long operation test option."
ONE_MOMENT = "...one moment please...."
# Every reply a waiting "option 1" can give to a message, by the progress the status API had (3 steps).
STILL_PERFORMING_1 = {
    "Still performing the long operation: option 1 ... (progress is not available right now)",
    "Still performing the long operation: option 1 ... 0% done (step 0 of 3).",
    "Still performing the long operation: option 1 ... 33% done (step 1 of 3).",
    "Still performing the long operation: option 1 ... 66% done (step 2 of 3).",
    "Still performing the long operation: option 1 ... 100% done (step 3 of 3).",
    "Still performing the long operation: option 1 ... finished; the result is on its way.",
}
# "status" while "option 3" runs: before a step is checkpointed, and after one.
STATUS_3_EARLY = {
    "Long operation option 3: progress is not available right now.",
    "Long operation option 3: 0% done (step 0 of 3).",
}
STATUS_3_PROGRESSED = {
    "Long operation option 3: 33% done (step 1 of 3).",
    "Long operation option 3: 66% done (step 2 of 3).",
}


class RunningStack:
    """The stack plus one event loop that outlives the tests of the module (the chat client lives on it)."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.stack = Stack(config)

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    async def instances(self, conversation: Conversation) -> list[dict[str, Any]]:
        prefix = instance_id_prefix(conversation.channel_id, conversation.id)
        url = f"{self.config.functions_url}/runtime/webhooks/durabletask/instances/"
        async with aiohttp.ClientSession(headers=self.stack.durable_headers) as session, \
                session.get(url, params={"instanceIdPrefix": prefix}) as r:
            assert r.status == 200, await r.text()
            found: list[dict[str, Any]] = await r.json()
            return found

    async def wait_for_runtime_status(self, conversation: Conversation, wanted: str) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + WAIT
        while asyncio.get_running_loop().time() < deadline:
            instances = await self.instances(conversation)
            if instances and all(i["runtimeStatus"] == wanted for i in instances):
                assert len(instances) == 1
                return instances[0]
            await asyncio.sleep(0.1)
        raise AssertionError(f"no instance of {conversation.id} reached {wanted}: {await self.instances(conversation)}")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    data_dir: Path = tmp_path_factory.mktemp("stack")
    running = RunningStack(stack_config(data_dir, SETTINGS))
    running.run(running.stack.__aenter__())
    try:
        yield running
    finally:
        running.run(running.stack.__aexit__(None, None, None))
        running.loop.close()


async def _converse_to_choice(client: ChatClient) -> Conversation:
    conversation = await client.start_conversation()
    await conversation.say("hi")
    await conversation.wait_for_text(CHOOSE, WAIT)
    return conversation


def _texts(conversation: Conversation) -> list[str]:
    return conversation.bot_texts()


def test_original_transcript_with_progress_and_result(running: RunningStack) -> None:
    async def scenario() -> list[str]:
        async with ChatClient(ChatConfig(bot_url=running.config.messages_url)) as client:
            conversation = await _converse_to_choice(client)
            assert [c.value for c in conversation.choices] == ["option 1", "option 2", "option 3", "count primes",
                                                                 "tidy files"]
            await conversation.choose(1)
            await conversation.wait_for_text(ONE_MOMENT, WAIT)
            await conversation.say("are you done yet?")
            await conversation.wait_for(lambda a: a.get("text") in STILL_PERFORMING_1, WAIT)
            await conversation.wait_for_text(RESULTS["option 1"], WAIT, since=0)
            await conversation.wait_for(lambda a: a.get("text") == CHOOSE, WAIT, since=0)
            await running.wait_for_runtime_status(conversation, "Completed")
            return _texts(conversation)

    texts = running.run(scenario())
    assert texts[:2] == [CHOOSE, ONE_MOMENT]
    assert texts[2] in STILL_PERFORMING_1
    assert texts[3:] == [RESULTS["option 1"], CHOOSE]


def test_the_emulators_chat_holds_nothing_and_gets_no_bot_state_trace(running: RunningStack) -> None:
    """The proactive result and the prompt after it reply to the user's choice, an activity the chat has shown,
    so Web Chat's hold (devhost/chat/conversation.py) never applies; and no turn sends a "Bot State" trace."""

    async def scenario() -> tuple[Conversation, dict[str, Any]]:
        async with ChatClient(ChatConfig(bot_url=running.config.messages_url)) as client:
            conversation = await _converse_to_choice(client)
            choice = await conversation.choose(1)
            await conversation.wait_for_text("...one moment please....", WAIT)
            await conversation.wait_for(lambda a: a.get("text") == RESULTS["option 1"], WAIT, since=0)
            await conversation.wait_for(lambda a: a.get("text") == CHOOSE, WAIT)
            await running.wait_for_runtime_status(conversation, "Completed")
            return conversation, choice

    conversation, choice = running.run(scenario())
    assert conversation.held == []
    assert [a["type"] for a in conversation.bot_activities] == ["message"] * 4
    result, prompt = conversation.bot_activities[-2:]
    assert [result["text"], prompt["text"]] == [RESULTS["option 1"], CHOOSE]
    assert [result["replyToId"], prompt["replyToId"]] == [choice["id"], choice["id"]]


def test_status_reports_real_progress(running: RunningStack) -> None:
    async def scenario() -> list[str]:
        async with ChatClient(ChatConfig(bot_url=running.config.messages_url)) as client:
            conversation = await _converse_to_choice(client)
            await conversation.say("option 3")
            await conversation.wait_for_text(ONE_MOMENT, WAIT)
            replies: list[str] = []
            # Ask until a step has been checkpointed: the progress comes from the orchestration's custom status.
            while not replies or replies[-1] in STATUS_3_EARLY:
                await conversation.say("status")
                reply = await conversation.wait_for(lambda a: a.get("type") == "message", WAIT)
                replies.append(reply.get("text") or "")
            await conversation.wait_for_text(RESULTS["option 3"], WAIT, since=0)
            return replies

    replies = running.run(scenario())
    # Every reply is a whole status sentence, and the last one shows a checkpointed step (the outcome could only
    # overtake it if a 0.5 s step outran a status query on loopback).
    assert set(replies[:-1]) <= STATUS_3_EARLY, replies
    assert replies[-1] in STATUS_3_PROGRESSED, replies


def test_cancel_terminates_the_orchestration_and_starts_over(running: RunningStack) -> None:
    async def scenario() -> tuple[list[str], dict[str, Any]]:
        async with ChatClient(ChatConfig(bot_url=running.config.messages_url)) as client:
            conversation = await _converse_to_choice(client)
            await conversation.say("option 1")
            await conversation.wait_for_text(ONE_MOMENT, WAIT)
            await conversation.say("cancel")
            await conversation.wait_for_text("Cancelled the long operation: option 1.", WAIT)
            await conversation.wait_for(lambda a: a.get("text") == CHOOSE, WAIT)
            instance = await running.wait_for_runtime_status(conversation, "Terminated")
            return _texts(conversation), instance

    texts, instance = running.run(scenario())
    assert instance["runtimeStatus"] == "Terminated"
    assert texts == [CHOOSE, ONE_MOMENT, "Cancelled the long operation: option 1.", CHOOSE]


def test_failing_operation_reports_failure_and_starts_over(running: RunningStack) -> None:
    async def scenario() -> list[str]:
        async with ChatClient(ChatConfig(bot_url=running.config.messages_url)) as client:
            conversation = await _converse_to_choice(client)
            await conversation.say("option 2")
            await conversation.wait_for_text(FAILED_2, WAIT)
            await conversation.wait_for(lambda a: a.get("text") == CHOOSE, WAIT)
            instance = await running.wait_for_runtime_status(conversation, "Completed")
            assert instance["customStatus"]["stage"] == "failed"
            return _texts(conversation)

    texts = running.run(scenario())
    assert texts == [CHOOSE, ONE_MOMENT, FAILED_2, CHOOSE]


@pytest.mark.parametrize("users", [2, 20])
def test_concurrent_conversations_each_get_only_their_own_result_once(running: RunningStack, users: int) -> None:
    chosen = [random.Random(users * 100 + i).choice(["option 1", "option 3"]) for i in range(users)]

    async def one_user(client: ChatClient, option: str) -> Conversation:
        conversation = await _converse_to_choice(client)
        await conversation.say(option)
        await conversation.wait_for_text(RESULTS[option], WAIT * 2, since=0)
        await running.wait_for_runtime_status(conversation, "Completed")
        return conversation

    async def scenario() -> list[Conversation]:
        async with ChatClient(ChatConfig(bot_url=running.config.messages_url)) as client:
            return list(await asyncio.gather(*(one_user(client, option) for option in chosen)))

    conversations = running.run(scenario())
    for option, conversation in zip(chosen, conversations, strict=True):
        assert _texts(conversation) == [CHOOSE, ONE_MOMENT, RESULTS[option], CHOOSE], conversation.id


FILES_NOT_USED = "Sorry, I don't use files. Please select a long operation test option."
FILES_WHILE_RUNNING_1 = ("Sorry, I can't use files while the long operation: option 1 is running, so I left yours "
                         "unopened.")
CANCELLED_1 = "Cancelled the long operation: option 1."
# Every answer "status" can get while "option 1" runs (3 steps).
STATUS_1 = {
    "Long operation option 1: progress is not available right now.",
    *(f"Long operation option 1: {percent}% done (step {step} of 3)."
      for step, percent in [(0, 0), (1, 33), (2, 66), (3, 100)]),
    "Long operation option 1: finished; the result is on its way.",
}


def test_files_sent_from_the_emulators_chat_are_not_used(running: RunningStack, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("some notes")

    async def scenario() -> list[str]:
        async with ChatClient(ChatConfig(bot_url=running.config.messages_url)) as client:
            conversation = await _converse_to_choice(client)
            await conversation.send_file(notes)
            await conversation.wait_for_text(FILES_NOT_USED, WAIT)
            await conversation.choose(1)
            await conversation.wait_for_text(ONE_MOMENT, WAIT)
            await conversation.send_file(notes)
            await conversation.wait_for(lambda a: a.get("text") in STILL_PERFORMING_1, WAIT)
            await conversation.say("cancel")
            await conversation.wait_for(lambda a: a.get("text") == CHOOSE, WAIT)
            return _texts(conversation)

    texts = running.run(scenario())
    assert texts[:4] == [CHOOSE, FILES_NOT_USED, ONE_MOMENT, FILES_WHILE_RUNNING_1]
    assert texts[4] in STILL_PERFORMING_1
    assert texts[5:] == [CANCELLED_1, CHOOSE]


def test_files_uploaded_through_direct_line_are_not_used(running: RunningStack) -> None:
    """A Web Chat user's upload: through the Direct Line stand-in's upload route to the bot, answers read back as a
    Direct Line client reads them."""

    async def scenario() -> list[str]:
        auth = {"Authorization": f"Bearer {running.stack.secrets.directline_secret}"}
        base = running.config.directline_url
        async with aiohttp.ClientSession(headers=auth) as http:
            async with http.post(f"{base}/conversations", json={"user": {"id": "web-user"}}) as response:
                assert response.status == 201, await response.text()
                conversation_id = (await response.json())["conversationId"]
            conversation = f"{base}/conversations/{conversation_id}"

            async def bot_texts() -> list[str]:
                async with http.get(f"{conversation}/activities") as response:
                    activities = (await response.json())["activities"]
                return [a.get("text") or "" for a in activities if a["from"]["id"] != "web-user"]

            async def wait_for(count: int) -> list[str]:
                deadline = asyncio.get_running_loop().time() + WAIT
                while len(texts := await bot_texts()) < count:
                    assert asyncio.get_running_loop().time() < deadline, texts
                    await asyncio.sleep(0.1)
                return texts

            async def say(text: str) -> None:
                message = {"type": "message", "text": text, "from": {"id": "web-user"}}
                async with http.post(f"{conversation}/activities", json=message) as response:
                    assert response.status == 200, await response.text()

            async def upload(text: str | None) -> None:
                form = aiohttp.FormData()
                if text is not None:
                    form.add_field("activity", json.dumps({"type": "message", "text": text}),
                                   content_type="application/vnd.microsoft.activity")
                form.add_field("file", b"some notes", content_type="text/plain", filename="notes.txt")
                async with http.post(f"{conversation}/upload", params={"userId": "web-user"}, data=form) as response:
                    assert response.status == 200, await response.text()

            await say("hi")
            await wait_for(1)
            await upload(None)
            await wait_for(2)
            await say("option 1")
            await wait_for(3)
            await upload("status")
            await wait_for(5)
            await say("cancel")
            return await wait_for(7)

    texts = running.run(scenario())
    assert texts[:4] == [CHOOSE, FILES_NOT_USED, ONE_MOMENT, FILES_WHILE_RUNNING_1]
    assert texts[4] in STATUS_1
    assert texts[5:] == [CANCELLED_1, CHOOSE]
