"""Issue 5, fault 2: the bot is killed while operations run and restarted on the same port with the same state.

While the bot is down the outcome's notify reaches Direct Line, which answers 502 (the bot is unreachable), so
``notify_bot`` fails and is retried; once the bot is back, the retry delivers. The waiting prompt was saved in the
bot's SQLite state after the user's turn, so the restarted bot finishes each waterfall in its own conversation.
"""

import asyncio
from pathlib import Path

from tests.faults.harness import CHOOSE, RESULT_1, WAIT, count, failed_notify_attempts, running_stack, runtime_status_is

RESULT_3 = "Thanks for waiting. (Yet another result, this one for operation three!)"
# A notify window of about 19 s (0.5 s doubling, capped at 1 s): room for a bot restart on a loaded machine,
# with short retries so the test is quick.
# The operations must outlast starting both of them and killing the bot, even on a loaded machine: 4 s of work.
SETTINGS = {
    "OperationSeconds": "4",
    "OperationSteps": "2",
    "NotifyRetryAttempts": "20",
    "NotifyFirstRetrySeconds": "0.5",
    "NotifyMaxRetrySeconds": "1",
}


def test_bot_killed_while_operations_run_finishes_each_waterfall_once_in_its_conversation(
        tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            first, first_id = await faults.user_waiting("option 1")
            third, third_id = await faults.user_waiting("option 3")
            faults.stack.kill("bot")
            # Both outcomes met the dead bot at least once before it comes back.
            for instance_id in (first_id, third_id):
                await faults.wait_for_failed_notify(instance_id)
            await faults.stack.start("bot")

            for instance_id in (first_id, third_id):
                final = await faults.wait_for_status(instance_id, runtime_status_is("Completed", "Failed"), "finished",
                                                     history=True)
                assert final["runtimeStatus"] == "Completed", final
                assert failed_notify_attempts(final) >= 1
            # Completed: the delivering notify returned after the bot's turn, so every message has arrived.
            assert first.bot_texts()[-2:] == [RESULT_1, CHOOSE], first.bot_texts()
            assert third.bot_texts()[-2:] == [RESULT_3, CHOOSE], third.bot_texts()
            assert count(first, RESULT_1) == 1 and count(first, RESULT_3) == 0
            assert count(third, RESULT_3) == 1 and count(third, RESULT_1) == 0
            # The restarted bot carries on with the conversation: the next operation starts as usual.
            await first.say("option 3")
            await first.wait_for_text(RESULT_3, WAIT)
            await first.wait_for_text(CHOOSE, WAIT)

    asyncio.run(scenario())
