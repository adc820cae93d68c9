"""Issue 5, fault 1: the functions host is killed (SIGKILL) during a step and restarted.

The Durable history survives in SQLite; the restarted host replays the orchestration, runs the interrupted step
again (activities are at least once) and the user gets the result exactly once. The same holds when the host dies
while ``notify_bot`` runs: the outcome is posted again and the bot drops the duplicate.
"""

import asyncio
from pathlib import Path
from typing import Any

from devhost.chat import TranscriptEntry
from tests.faults.harness import (
    CHOOSE,
    RESULT_1,
    WAIT,
    count,
    log_lines,
    running_stack,
    runtime_status_is,
    wait_for_bot_warning,
)

# Three steps of 1 s: long enough to see a step in flight and kill the host in the middle of it.
SETTINGS = {"OperationSeconds": "3", "OperationSteps": "3", "OperationTimeoutSeconds": "120"}
# Only the notification matters in the second test: one short step.
ONE_SHORT_STEP = {"OperationSeconds": "0.5", "OperationSteps": "1"}


def _step_in_progress(status: dict[str, Any]) -> bool:
    # The custom status right after step 1 (or 2) is checkpointed: the next step's activity has just been
    # scheduled and is running. Waiting for a checkpoint (not step 0) also proves the checkpoint survives the kill.
    custom = status.get("customStatus") or {}
    running = status.get("runtimeStatus") == "Running" and custom.get("stage") == "running"
    return running and custom.get("step") in (1, 2)


def _completed_steps(status: dict[str, Any]) -> list[int]:
    return [
        int(event["Result"]["step"]) for event in status["historyEvents"]
        if event.get("EventType") == "TaskCompleted" and event.get("FunctionName") == "run_operation_step"
    ]


def test_functions_host_killed_during_a_step_completes_and_tells_the_user_once(tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            conversation, instance_id = await faults.user_waiting("option 1")
            seen = await faults.wait_for_status(instance_id, _step_in_progress, "step 2 or 3 in progress")
            faults.stack.kill("functions")
            in_flight = int(seen["customStatus"]["step"]) + 1
            await faults.stack.start("functions")

            await conversation.wait_for_text(RESULT_1, WAIT, since=0)
            final = await faults.wait_for_status(instance_id, runtime_status_is("Completed", "Failed"), "finished",
                                                 history=True)
            # Completed means notify_bot returned, and Direct Line answers only after the bot's turn, in which the
            # proactive message was posted to the chat client: every message the user will get has arrived.
            assert final["runtimeStatus"] == "Completed", final
            assert final["customStatus"]["stage"] == "completed"
            # Checkpoints: each step's result is in the history once; step 1 was not lost with the host.
            assert _completed_steps(final) == [1, 2, 3]
            # The kill really hit that step in flight: the restarted host ran it again (at least once).
            runs = [line for line in log_lines(faults.stack, "functions")
                    if "running step" in line and instance_id in line and f"step={in_flight}/3" in line]
            assert len(runs) == 2, runs
            assert count(conversation, RESULT_1) == 1, conversation.bot_texts()
            assert conversation.bot_texts()[-2:] == [RESULT_1, CHOOSE]

    asyncio.run(scenario())


def test_functions_host_killed_while_notifying_posts_again_and_the_bot_drops_the_duplicate(
        tmp_path: Path, auth: bool) -> None:
    """At least once inside, exactly once to the user: the outcome reached the bot, but the host died before
    ``notify_bot`` returned, so the restarted host runs ``notify_bot`` again and the bot gets the outcome twice."""

    async def scenario() -> None:
        async with running_stack(tmp_path, ONE_SHORT_STEP, auth=auth) as faults:
            conversation, instance_id = await faults.user_waiting("option 1")

            def kill_on_result(entry: TranscriptEntry) -> None:
                # Called as the result arrives, inside the bot's delivery turn: Direct Line has not answered
                # notify_bot's POST yet, so its completion is not in the history when the host dies.
                if entry.sender == "bot" and entry.activity.get("text") == RESULT_1 and not killed:
                    killed.append(True)
                    faults.stack.kill("functions")

            killed: list[bool] = []
            conversation.listeners.append(kill_on_result)
            await conversation.wait_for_text(RESULT_1, WAIT, since=0)
            assert killed
            await faults.stack.start("functions")

            final = await faults.wait_for_status(instance_id, runtime_status_is("Completed", "Failed"), "finished",
                                                 history=True)
            assert final["runtimeStatus"] == "Completed", final
            await wait_for_bot_warning(faults, "duplicate outcome dropped", f"instance_id={instance_id}")
            assert count(conversation, RESULT_1) == 1, conversation.bot_texts()
            assert conversation.bot_texts()[-2:] == [RESULT_1, CHOOSE]

    asyncio.run(scenario())
