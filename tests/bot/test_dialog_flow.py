"""Transcripts of the whole conversation: choose, start, progress, status, cancel, start failures."""

import asyncio
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

import pytest
from botbuilder.schema import Activity

from contract import Progress, Stage, instance_id_prefix
from tests.bot.harness import USER_CONVERSATION, BotHarness, bot_harness, texts

CHOOSE = "Please select a long operation test option."


def run(test: Callable[[BotHarness], Awaitable[None]], operations_url: str | None = None) -> None:
    async def main() -> None:
        async with bot_harness(operations_url=operations_url) as harness:
            await test(harness)

    asyncio.run(main())


def assert_choice_prompt(reply: Activity) -> None:
    assert reply.text == CHOOSE
    assert [action.title for action in reply.suggested_actions.actions] == [
        "option 1", "option 2", "option 3", "count primes", "tidy files"
    ]


async def start_option_1(harness: BotHarness) -> None:
    assert_choice_prompt((await harness.say("hi"))[0])
    assert texts(await harness.say("option 1")) == ["...one moment please...."]


def test_hi_shows_the_choice_prompt_with_suggested_actions() -> None:
    async def test(harness: BotHarness) -> None:
        replies = await harness.say("hi")
        assert len(replies) == 1
        assert_choice_prompt(replies[0])

    run(test)


def test_choosing_an_option_starts_the_operation_with_the_continuation() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        instance_id, instance = harness.service.only_instance()
        assert instance.request.option == "option 1"
        continuation = instance.request.continuation
        assert continuation["type"] == "event"
        assert continuation["name"] == "ContinueConversation"
        assert continuation["channelId"] == "directline"
        assert continuation["conversation"]["id"] == USER_CONVERSATION
        assert instance_id.startswith(instance_id_prefix("directline", USER_CONVERSATION))

    run(test)


def test_a_message_while_running_gets_live_progress() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        harness.service.only_instance()[1].progress = Progress.of("option 1", Stage.RUNNING, 2, 5, "working")
        assert texts(await harness.say("hello?")) == [
            "Still performing the long operation: option 1 ... 40% done (step 2 of 5)."
        ]
        harness.service.only_instance()[1].progress = Progress.of("option 1", Stage.RUNNING, 3, 5, "working")
        assert texts(await harness.say("and now?")) == [
            "Still performing the long operation: option 1 ... 60% done (step 3 of 5)."
        ]

    run(test)


def test_a_message_while_running_degrades_when_progress_is_unavailable() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        harness.service.status_error = 500
        assert texts(await harness.say("hello?")) == [
            "Still performing the long operation: option 1 ... (progress is not available right now)"
        ]

    run(test)


def test_status_answers_progress() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        harness.service.only_instance()[1].progress = Progress.of("option 1", Stage.RUNNING, 2, 5, "working")
        assert texts(await harness.say("status")) == ["Long operation option 1: 40% done (step 2 of 5)."]
        harness.service.status_error = 503
        assert texts(await harness.say("Status")) == ["Long operation option 1: progress is not available right now."]

    run(test)


def test_cancel_terminates_the_orchestration_and_starts_over() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        replies = await harness.say("cancel")
        assert texts(replies)[0] == "Cancelled the long operation: option 1."
        assert_choice_prompt(replies[1])
        assert len(replies) == 2
        _, instance = harness.service.only_instance()
        assert instance.runtime_status == "Terminated"
        assert [unquote(reason) for reason in instance.terminate_reasons] == ["cancelled by the user"]

    run(test)


def test_cancel_after_the_orchestration_finished_says_so_and_starts_over() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        harness.service.only_instance()[1].runtime_status = "Completed"
        replies = await harness.say("cancel")
        assert texts(replies)[0] == "The long operation: option 1 had already finished, so there was nothing to cancel."
        assert_choice_prompt(replies[1])

    run(test)


def test_cancel_when_the_service_fails_says_so_and_keeps_waiting() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        harness.service.terminate_error = 500
        assert texts(await harness.say("cancel")) == [
            "Sorry, I could not cancel the long operation: option 1: the operations service refused it "
            "(terminate failed). It is still running; please try again."
        ]
        harness.service.terminate_error = None
        assert texts(await harness.say("cancel")) == ["Cancelled the long operation: option 1.", CHOOSE]

    run(test)


def test_cancel_of_an_instance_the_service_no_longer_knows_starts_over() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        # Terminate of an instance the service no longer knows answers 404: nothing left to wait for.
        harness.service.instances.clear()
        replies = await harness.say("cancel")
        assert texts(replies)[0] == "The long operation: option 1 had already finished, so there was nothing to cancel."
        assert_choice_prompt(replies[1])

    run(test)


def test_a_waiting_conversation_whose_instance_was_purged_is_told_and_starts_over() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        # The history purge removed the instance (finished, its outcome lost): the status API answers 404.
        harness.service.instances.clear()
        replies = await harness.say("status")
        assert texts(replies)[0] == "The long operation: option 1 is no longer known to the operations service. " \
                                    "Let's start over."
        assert_choice_prompt(replies[1])
        assert texts(await harness.say("option 2")) == ["...one moment please...."]

    run(test)


@pytest.mark.parametrize(
    ("runtime_status", "said"),
    [
        ("Failed", "The long operation: option 1 failed. Let's start over."),
        ("Terminated", "The long operation: option 1 was stopped. Let's start over."),
    ],
)
def test_an_orchestration_that_ended_without_an_outcome_is_reported_and_the_dialog_starts_over(
    runtime_status: str, said: str
) -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        harness.service.only_instance()[1].runtime_status = runtime_status
        replies = await harness.say("status")
        assert texts(replies)[0] == said
        assert_choice_prompt(replies[1])
        # The prompt no longer waits: the next message is an answer to the choice prompt.
        assert texts(await harness.say("option 2")) == ["...one moment please...."]

    run(test)


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ((400, {"error": "option: unknown option"}),
         "Sorry, I could not start the long operation: the operations service refused it (option: unknown option). "
         "Please try again."),
        ((413, {"error": "body: larger than 65536 bytes"}),
         "Sorry, I could not start the long operation: the operations service refused it "
         "(body: larger than 65536 bytes). Please try again."),
        ((503, {"error": "durable unavailable"}),
         "Sorry, I could not start the long operation: the operations service is not available right now. "
         "Please try again."),
    ],
)
def test_a_refused_start_is_explained_and_the_choice_prompt_returns(answer: tuple[int, object], said: str) -> None:
    async def test(harness: BotHarness) -> None:
        assert_choice_prompt((await harness.say("hi"))[0])
        harness.service.start_answer = answer
        replies = await harness.say("option 1")
        assert len(replies) == 2
        assert replies[0].text == said
        assert_choice_prompt(replies[1])
        # Nothing waits: the next choice starts an operation normally.
        harness.service.start_answer = None
        assert texts(await harness.say("option 3")) == ["...one moment please...."]

    run(test)


def test_an_unreachable_service_is_explained_and_the_choice_prompt_returns() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{probe.getsockname()[1]}"

    async def test(harness: BotHarness) -> None:
        assert_choice_prompt((await harness.say("hi"))[0])
        replies = await harness.say("option 1")
        assert texts(replies)[0] == (
            "Sorry, I could not start the long operation: the operations service is not reachable. Please try again."
        )
        assert_choice_prompt(replies[1])

    run(test, operations_url=closed_url)


def test_an_error_in_a_turn_is_logged_told_and_the_dialog_starts_over(caplog: pytest.LogCaptureFixture) -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        # Poison the stored state: the waiting prompt loses its operation.
        state = harness.storage.memory[f"directline/conversations/{USER_CONVERSATION}"]
        prompt = state["DialogState"].dialog_stack[0].state["dialogs"].dialog_stack[0]
        del prompt.state["state"]["operation"]
        assert texts(await harness.say("hello?")) == ["Sorry, something went wrong on my side, so let's start over."]
        errors = [record for record in caplog.records if record.levelname == "ERROR"]
        assert errors and errors[0].exc_info is not None
        assert USER_CONVERSATION in errors[0].getMessage()
        # The poisoned dialog is gone: the conversation starts afresh.
        assert_choice_prompt((await harness.say("hi"))[0])

    run(test)


def test_a_completed_orchestration_whose_outcome_is_still_on_its_way_keeps_the_prompt_waiting() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        instance = harness.service.only_instance()[1]
        instance.runtime_status = "Completed"
        instance.progress = Progress.of("option 1", Stage.COMPLETED, 5, 5, "done")
        assert texts(await harness.say("status")) == ["Long operation option 1: finished; the result is on its way."]
        assert texts(await harness.say("hello?")) == [
            "Still performing the long operation: option 1 ... finished; the result is on its way."
        ]
        replies = await harness.post(harness.outcome_event())
        assert texts(replies) == ["Thanks for waiting. (Result for long operation one!)", CHOOSE]

    run(test)
