"""Issue 5, fault 4: the function app is down when the user picks an option.

The bot cannot start the operation, says so in plain words, and the dialog starts over; once the function app is
back, the same choice works.
"""

import asyncio
from pathlib import Path

from tests.faults.harness import CHOOSE, ONE_MOMENT, RESULT_1, WAIT, count, running_stack

SETTINGS = {"OperationSeconds": "0.5", "OperationSteps": "1"}
NOT_STARTED = "Sorry, I could not start the long operation: the operations service is not reachable. Please try again."


def test_function_app_down_when_the_user_picks_an_option_says_so_and_starts_over(tmp_path: Path, auth: bool) -> None:
    async def scenario() -> None:
        async with running_stack(tmp_path, SETTINGS, auth=auth) as faults:
            conversation = await faults.user_at_choice()
            faults.stack.kill("functions")
            # say() returns once the bot's turn is over: every reply of the turn has arrived.
            await conversation.say("option 1")
            assert conversation.bot_texts() == [CHOOSE, NOT_STARTED, CHOOSE]

            await faults.stack.start("functions")
            assert await faults.instances(conversation) == []  # nothing was started, nothing runs unseen
            await conversation.say("option 1")
            await conversation.wait_for_text(RESULT_1, WAIT)
            await conversation.wait_for_text(CHOOSE, WAIT)
            assert conversation.bot_texts()[-4:] == [CHOOSE, ONE_MOMENT, RESULT_1, CHOOSE]
            assert count(conversation, RESULT_1) == 1

    asyncio.run(scenario())
