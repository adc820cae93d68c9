"""A question mid-run meets a failing channel: the user's channel answers the question's post 503 once. The question
event's turn fails, Direct Line answers ask_bot 502, the orchestrator posts the question again, and the user sees it
exactly once, answers it, and gets the result."""

import asyncio
from pathlib import Path

from devhost.connector_faults import FaultKind
from tests.faults.harness import CHOOSE, WAIT, count, running_stack, runtime_status_is

SETTINGS = {"NotifyRetryAttempts": "6", "NotifyFirstRetrySeconds": "0.25", "NotifyMaxRetrySeconds": "1",
            "ProactiveSendTimeout": "1"}
ASKED = "The long operation: tidy files asks: Delete the 60 duplicates?"
RESULT = "Thanks for waiting. The long operation: tidy files has finished. Here is its result."


def test_a_question_the_channel_refuses_once_is_shown_exactly_once(tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            conversation = await faults.user_at_choice()
            # "...one moment please...." goes through; the next post into the conversation, the question, fails.
            faults.chat.faults.inject(FaultKind.UNAVAILABLE, conversation_id=conversation.id, after=1)
            await conversation.say("tidy files")
            await conversation.wait_for_text(ASKED, WAIT)
            [instance] = await faults.instances(conversation)
            asked = await faults.wait_for_status(
                str(instance["instanceId"]), lambda status: (status.get("customStatus") or {}).get("stage") == "waiting"
                and any(e.get("FunctionName") == "ask_bot" and e.get("EventType") == "TaskCompleted"
                        for e in status.get("historyEvents") or []), "the question delivered", history=True)
            assert [e["EventType"] for e in asked["historyEvents"] if e.get("FunctionName") == "ask_bot"] == [
                "TaskFailed", "TaskCompleted"]
            await conversation.say("Yes")
            await conversation.wait_for_text(RESULT, WAIT, since=0)
            await conversation.wait_for_text(CHOOSE, WAIT)
            await faults.wait_for_status(str(instance["instanceId"]), runtime_status_is("Completed"), "completed")
            assert count(conversation, ASKED) == 1, conversation.bot_texts()

    asyncio.run(scenario())
