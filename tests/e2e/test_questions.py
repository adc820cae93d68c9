"""Questions mid-run end to end over loopback: "tidy files" asks the chat whether to delete its duplicates, through
the functions host (the SDK's replay under the devhost's shim), the Direct Line stand-in and the bot; the answer goes
back as an external event through the instance's sendEventPostUri."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devhost.chat import ChatClient, ChatConfig, Conversation
from devhost.stack import Stack
from tests.e2e.stack_fixture import stack_config
from tests.e2e.test_conversation import RunningStack

WAIT = 60.0
CHOOSE = "Please select a long operation test option."
ONE_MOMENT = "...one moment please...."
ASKED = "The long operation: tidy files asks: Delete the 60 duplicates?"
SENT_YES = 'Thanks, I passed on your answer "Yes". The long operation: tidy files carries on.'
RESULT = "Thanks for waiting. The long operation: tidy files has finished. Here is its result."
STATUS = 'Long operation tidy files: waiting for your answer to "Delete the 60 duplicates?" (50% done, step 1 of 2).'
NOT_BOBS = ("Sorry, User started the long operation: tidy files, so only User can answer its question. "
            "You can still ask for its status.")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = RunningStack(stack_config(tmp_path_factory.mktemp("stack"), {"OperationTimeoutSeconds": "300"}))
    running.run(running.stack.__aenter__())
    try:
        yield running
    finally:
        running.run(running.stack.__aexit__(None, None, None))
        running.loop.close()


async def asked(client: ChatClient) -> Conversation:
    conversation = await client.start_conversation()
    await conversation.say("hi")
    await conversation.wait_for_text(CHOOSE, WAIT)
    await conversation.say("tidy files")
    await conversation.wait_for_text(ASKED, WAIT)
    return conversation


def facts(card: dict[str, Any]) -> dict[str, str]:
    [fact_set] = [item for item in card["body"] if item["type"] == "FactSet"]
    return {fact["title"]: fact["value"] for fact in fact_set["facts"]}


def test_the_owners_answer_reaches_the_next_step_and_the_result_follows(running: RunningStack) -> None:
    async def scenario() -> tuple[list[str], list[str], dict[str, Any], dict[str, Any]]:
        async with ChatClient(ChatConfig(bot_url=running.config.messages_url)) as client:
            conversation = await asked(client)
            choices = [choice.value for choice in conversation.choices]
            await conversation.choose(1)
            await conversation.wait_for_text(SENT_YES, WAIT)
            result = await conversation.wait_for_text(RESULT, WAIT, since=0)
            await conversation.wait_for_text(CHOOSE, WAIT)
            instance = await running.wait_for_runtime_status(conversation, "Completed")
            return conversation.bot_texts(), choices, result, instance

    texts, choices, result, instance = running.run(scenario())
    assert choices == ["Yes", "No"]
    assert texts == [CHOOSE, ONE_MOMENT, ASKED, SENT_YES, RESULT, CHOOSE]
    assert facts(result["attachments"][0]["content"]) == {
        "Files scanned": "240", "Duplicates found": "60", "Your answer": "Yes", "Deleted": "60",
        "Space freed": "253,463 bytes", "Files left": "180", "Duplicates left": "0"}
    assert instance["customStatus"]["stage"] == "completed"


def test_status_while_waiting_names_the_question_and_another_member_cannot_answer(running: RunningStack) -> None:
    async def scenario() -> list[str]:
        async with ChatClient(ChatConfig(bot_url=running.config.messages_url)) as client:
            conversation = await asked(client)
            await conversation.say("status")
            await conversation.wait_for_text(STATUS, WAIT)
            await conversation.send_activity({"type": "message", "text": "Yes",
                                              "from": {"id": "bob-1", "name": "Bob", "role": "user"}})
            await conversation.wait_for_text(NOT_BOBS, WAIT)
            await conversation.say("No")
            await conversation.wait_for_text(RESULT, WAIT, since=0)
            await conversation.wait_for_text(CHOOSE, WAIT)
            return conversation.bot_texts()

    assert running.run(scenario()) == [
        CHOOSE, ONE_MOMENT, ASKED, STATUS, NOT_BOBS,
        'Thanks, I passed on your answer "No". The long operation: tidy files carries on.', RESULT, CHOOSE]


def test_cancel_while_waiting_for_the_answer_terminates_the_instance(running: RunningStack) -> None:
    async def scenario() -> tuple[list[str], dict[str, Any]]:
        async with ChatClient(ChatConfig(bot_url=running.config.messages_url)) as client:
            conversation = await asked(client)
            await conversation.say("cancel")
            await conversation.wait_for_text("Cancelled the long operation: tidy files.", WAIT)
            await conversation.wait_for_text(CHOOSE, WAIT)
            instance = await running.wait_for_runtime_status(conversation, "Terminated")
            return conversation.bot_texts(), instance

    texts, instance = running.run(scenario())
    assert texts == [CHOOSE, ONE_MOMENT, ASKED, "Cancelled the long operation: tidy files.", CHOOSE]
    assert instance["runtimeStatus"] == "Terminated"


def test_no_answer_before_the_deadline_ends_the_operation_with_that_reason(tmp_path: Path) -> None:
    unanswered = ('Sorry, the long operation: tidy files stopped: no answer to "Delete the 60 duplicates?" before '
                  "its deadline, 8 seconds after the start.")
    config = stack_config(tmp_path, {"OperationTimeoutSeconds": "8"})

    async def scenario() -> list[str]:
        async with Stack(config), ChatClient(ChatConfig(bot_url=config.messages_url)) as client:
            conversation = await asked(client)
            await conversation.wait_for_text(unanswered, WAIT, since=0)
            await conversation.wait_for_text(CHOOSE, WAIT)
            return conversation.bot_texts()

    assert asyncio.run(scenario()) == [CHOOSE, ONE_MOMENT, ASKED, unanswered, CHOOSE]
