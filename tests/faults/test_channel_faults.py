"""Issue 10, item 2: the user's channel fails once when the bot sends the result, and the result is not lost.

The chat client's Bot Connector routes (the channel the bot sends the result to) are told to fail the bot's next
posts to the user's conversation (devhost/connector_faults.py). A transient failure fails the outcome event's turn,
Direct Line answers notify_bot 502 and the orchestrator retries: the user gets the result exactly once. A final
refusal (404: the conversation is gone) ends the delivery at once, logged by the bot with the instance id and shown
in the orchestration's custom status and output.
"""

import asyncio
from pathlib import Path
from typing import Any

from devhost.chat import Conversation
from devhost.connector_faults import FaultKind
from tests.faults.harness import (
    CHOOSE,
    RESULT_1,
    FaultStack,
    count,
    failed_notify_attempts,
    log_lines,
    running_stack,
    runtime_status_is,
    wait_for_bot_warning,
)

# Two seconds of work: the fault is planted well before the outcome is ready. Short notify retries keep tests quick;
# a short ProactiveSendTimeout makes the hang test quick (its default is 5 s).
SETTINGS = {
    "OperationSeconds": "2",
    "OperationSteps": "1",
    "NotifyRetryAttempts": "6",
    "NotifyFirstRetrySeconds": "0.25",
    "NotifyMaxRetrySeconds": "1",
    "ProactiveSendTimeout": "1",
}


async def finished(faults: FaultStack, instance_id: str) -> dict[str, object]:
    return await faults.wait_for_status(instance_id, runtime_status_is("Completed", "Failed", "Terminated"),
                                        "finished", history=True)


def kinds(faults: FaultStack, conversation: Conversation) -> list[FaultKind]:
    return [fault.kind for fault in faults.chat.faults.answered_for(conversation.id)]


def assert_result_once_then_the_prompt(conversation: Conversation) -> None:
    assert count(conversation, RESULT_1) == 1, conversation.bot_texts()
    assert count(conversation, CHOOSE) == 2, conversation.bot_texts()
    assert conversation.bot_texts()[-2:] == [RESULT_1, CHOOSE]


def test_a_channel_answering_503_once_gets_the_result_exactly_once(tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            conversation, instance_id = await faults.user_waiting("option 1")
            faults.chat.faults.inject(FaultKind.UNAVAILABLE, conversation_id=conversation.id)

            final = await finished(faults, instance_id)
            assert final["runtimeStatus"] == "Completed", final
            # The failed send failed the event's turn, so notify_bot's first attempt failed and was retried.
            assert failed_notify_attempts(final) == 1
            assert kinds(faults, conversation) == [FaultKind.UNAVAILABLE]
            assert_result_once_then_the_prompt(conversation)

    asyncio.run(scenario())


def test_a_prompt_that_fails_after_the_result_went_out_does_not_show_the_result_twice(
        tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            conversation, instance_id = await faults.user_waiting("option 1")
            # The result's post passes; the choice prompt after it answers 503.
            faults.chat.faults.inject(FaultKind.UNAVAILABLE, conversation_id=conversation.id, after=1)

            final = await finished(faults, instance_id)
            assert final["runtimeStatus"] == "Completed", final
            assert failed_notify_attempts(final) == 1
            assert kinds(faults, conversation) == [FaultKind.UNAVAILABLE]
            # The retry sent only what was missing: the prompt.
            assert_result_once_then_the_prompt(conversation)

    asyncio.run(scenario())


def test_a_throttled_channel_is_waited_for_as_its_retry_after_says(tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            conversation, instance_id = await faults.user_waiting("option 1")
            # The conversation stays throttled for 2 s: a post sooner than that would be answered 429 again.
            faults.chat.faults.inject(FaultKind.THROTTLED, conversation_id=conversation.id, retry_after_seconds=2)

            final = await finished(faults, instance_id)
            assert final["runtimeStatus"] == "Completed", final
            # Retried inside the bot's own turn, after Retry-After: notify_bot's first attempt delivered.
            assert failed_notify_attempts(final) == 0
            assert kinds(faults, conversation) == [FaultKind.THROTTLED]
            assert_result_once_then_the_prompt(conversation)
            await wait_for_bot_warning(faults, "Bot Connector call answered 429, retrying after its Retry-After of 2 s")

    asyncio.run(scenario())


def test_a_hanging_channel_times_out_quickly_and_the_retry_delivers_the_result_once(tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            conversation, instance_id = await faults.user_waiting("option 1")
            # The post hangs for 120 s (longer than msrest's 100 s), holding the conversation's lock in the bot.
            faults.chat.faults.inject(FaultKind.HANG, conversation_id=conversation.id)

            final = await finished(faults, instance_id)
            assert final["runtimeStatus"] == "Completed", final
            assert failed_notify_attempts(final) == 1
            assert kinds(faults, conversation) == [FaultKind.HANG]
            assert_result_once_then_the_prompt(conversation)
            warning = await wait_for_bot_warning(faults, "outcome not delivered yet, the function app retries",
                                                 instance_id)
            assert "the channel did not answer in time" in warning, warning

    asyncio.run(scenario())


def test_a_result_whose_answer_the_channel_loses_is_sent_again_shown_twice_never_lost(
        tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            conversation, instance_id = await faults.user_waiting("option 1")
            # The result's post is stored and shown, but its answer never comes back: the bot cannot tell that from a
            # send that failed, and the Bot Connector has no idempotency key to send it again safely with.
            faults.chat.faults.inject(FaultKind.LOST, conversation_id=conversation.id)

            final = await finished(faults, instance_id)
            assert final["runtimeStatus"] == "Completed", final
            assert failed_notify_attempts(final) == 1
            assert kinds(faults, conversation) == [FaultKind.LOST]
            # At least once: the retry sends the result again; the user sees it twice rather than never.
            assert count(conversation, RESULT_1) == 2, conversation.bot_texts()
            assert conversation.bot_texts()[-3:] == [RESULT_1, RESULT_1, CHOOSE]
            warning = await wait_for_bot_warning(faults, "outcome not delivered yet, the function app retries",
                                                 instance_id)
            assert "the channel did not answer in time" in warning, warning

    asyncio.run(scenario())


def test_a_conversation_that_is_gone_ends_the_delivery_logged_and_in_the_status(tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            conversation, instance_id = await faults.user_waiting("option 1")
            # Gone for good: every post to it is refused.
            faults.chat.faults.inject(FaultKind.GONE, conversation_id=conversation.id, count=100)

            final = await finished(faults, instance_id)
            assert final["runtimeStatus"] == "Failed", final
            # Not retried: the first attempt returned the refusal, and only one post reached the channel.
            assert failed_notify_attempts(final) == 0
            assert kinds(faults, conversation) == [FaultKind.GONE]
            output = str(final["output"])
            assert ("The completed outcome was refused by the user's conversation, not retried: HTTP 404, code "
                    f"ConversationNotFound: conversation {conversation.id!r} not found (devhost fault) "
                    f"(instance {instance_id})") in output, output
            custom = final["customStatus"]
            assert isinstance(custom, dict)
            assert custom["stage"] == "failed"
            assert custom["message"] == "The outcome could not be delivered: the conversation is gone."
            await wait_for_bot_warning(faults, "outcome refused by the user's channel, not retried", instance_id)
            assert count(conversation, RESULT_1) == 0
            assert not any("Sorry" in line for line in conversation.bot_texts()), conversation.bot_texts()
            assert any(instance_id in line and "refused" in line for line in log_lines(faults.stack, "functions"))

    asyncio.run(scenario())


class DirectLineUser:
    """A Web Chat-like user of the stack's Direct Line stand-in (polling, as DirectLineJS with webSocket: false)."""

    def __init__(self, faults: FaultStack) -> None:
        self.faults = faults
        self.root = faults.config.directline_url.removesuffix("/v3/directline")
        self.headers = {"Authorization": f"Bearer {faults.stack.secrets.directline_secret}"}
        self.conversation_id = ""

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.faults.session.request(method, self.root + path, json=body, headers=self.headers) as response:
            assert response.status in (200, 201), await response.text()
            return await response.json()

    async def start(self) -> None:
        started = await self.call("POST", "/v3/directline/conversations", {"user": {"id": "web-user"}})
        self.conversation_id = started["conversationId"]

    async def say(self, text: str) -> None:
        activity = {"type": "message", "text": text, "from": {"id": "web-user"}}
        await self.call("POST", f"/v3/directline/conversations/{self.conversation_id}/activities", activity)

    async def bot_texts(self) -> list[str]:
        body = await self.call("GET", f"/v3/directline/conversations/{self.conversation_id}/activities")
        return [a.get("text") or "" for a in body["activities"]
                if a.get("type") == "message" and a.get("from", {}).get("id") != "web-user"]


def test_the_stand_ins_fault_control_fails_a_direct_line_users_result_once_and_it_still_arrives_once(
    tmp_path: Path, auth: bool,
) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            user = DirectLineUser(faults)
            await user.start()
            await user.say("hi")
            await user.say("option 1")
            [instance] = await faults.instances_of("directline", user.conversation_id)
            # The stand-in is its own process: its fault mode is driven over HTTP, with the Direct Line secret.
            fault = {"kind": "unavailable", "conversationId": user.conversation_id}
            planned = await user.call("POST", "/devhost/faults", fault)
            assert planned["planned"][0]["kind"] == "unavailable"

            final = await finished(faults, str(instance["instanceId"]))
            assert final["runtimeStatus"] == "Completed", final
            assert failed_notify_attempts(final) == 1
            answered = (await user.call("GET", "/devhost/faults"))["answered"]
            assert answered == [{"conversationId": user.conversation_id, "kind": "unavailable", "status": 503}]
            texts = await user.bot_texts()
            assert texts.count(RESULT_1) == 1, texts
            assert texts[-2:] == [RESULT_1, CHOOSE]

    asyncio.run(scenario())
