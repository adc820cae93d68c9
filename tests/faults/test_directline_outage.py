"""Issue 5, fault 3: the Direct Line service is down when the orchestration notifies the bot.

``notify_bot`` is retried with backoff (NotifyRetryAttempts attempts; the first delay NotifyFirstRetrySeconds, each next
one NotifyBackoffCoefficient times longer, at most NotifyMaxRetrySeconds): Direct Line back inside that window -> the
user gets the result once; still down after it -> the orchestration ends Failed with an output saying why, and the
bot, asked by the user, reads that from the status API, says so and starts over.
"""

import asyncio
from pathlib import Path

from tests.faults.harness import (
    CHOOSE,
    RESULT_1,
    WAIT,
    count,
    failed_notify_attempts,
    running_stack,
    runtime_status_is,
)

# Long enough that Direct Line is down before the outcome is ready, even on a loaded machine.
OPERATION = {"OperationSeconds": "2", "OperationSteps": "1"}
# Window 0.25 + 0.5 + 10 x 1 s = 10.75 s: ample for restarting Direct Line; capped at 1 s so the test stays quick.
WIDE_WINDOW = {**OPERATION, "NotifyRetryAttempts": "13", "NotifyFirstRetrySeconds": "0.25",
               "NotifyBackoffCoefficient": "2", "NotifyMaxRetrySeconds": "1"}
# Window 0.5 + 1 s = 1.5 s: over while Direct Line stays down.
NARROW_WINDOW = {**OPERATION, "NotifyRetryAttempts": "3", "NotifyFirstRetrySeconds": "0.5",
                 "NotifyBackoffCoefficient": "2", "NotifyMaxRetrySeconds": "60"}
FAILED_TEXT = "The long operation: option 1 failed. Let's start over."


def test_directline_back_within_the_retry_window_delivers_the_result_once(tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, WIDE_WINDOW, auth=auth) as faults:
            conversation, instance_id = await faults.user_waiting("option 1")
            faults.stack.kill("directline")
            await faults.wait_for_failed_notify(instance_id)
            # A restarted stand-in has forgotten every conversation; notify_bot starts a new one per attempt.
            await faults.stack.start("directline")

            final = await faults.wait_for_status(instance_id, runtime_status_is("Completed", "Failed"), "finished",
                                                 history=True)
            assert final["runtimeStatus"] == "Completed", final
            assert failed_notify_attempts(final) >= 1
            assert final["output"]["outcome"]["instanceId"] == instance_id
            assert count(conversation, RESULT_1) == 1, conversation.bot_texts()
            assert conversation.bot_texts()[-2:] == [RESULT_1, CHOOSE]

    asyncio.run(scenario())


def test_directline_down_past_the_retry_window_fails_the_orchestration_and_the_bot_says_so(
        tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, NARROW_WINDOW, auth=auth) as faults:
            conversation, instance_id = await faults.user_waiting("option 1")
            faults.stack.kill("directline")
            final = await faults.wait_for_status(instance_id, runtime_status_is("Completed", "Failed"), "finished",
                                                 history=True)
            assert final["runtimeStatus"] == "Failed", final
            assert failed_notify_attempts(final) == 3
            output = str(final["output"])
            assert "Could not deliver the completed outcome to the bot after 3 attempts" in output, output
            assert "Direct Line start conversation failed" in output, output
            assert final["customStatus"]["stage"] == "failed"
            assert final["customStatus"]["message"] == "The outcome could not be delivered to the conversation."
            assert conversation.bot_texts() == [CHOOSE, "...one moment please...."]

            # Direct Line stays down: the user talks to the bot directly, and the bot asks the status API.
            await conversation.say("status")
            await conversation.wait_for_text(CHOOSE, WAIT)
            assert conversation.bot_texts() == [CHOOSE, "...one moment please....", FAILED_TEXT, CHOOSE]

    asyncio.run(scenario())
