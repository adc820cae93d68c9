"""A question an operation asks mid-run, on TestAdapter: shown once with its choices, answered by the owner through
the instance's sendEventPostUri, and status, cancel and the still-working reply working while it waits."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import jsonpickle
import pytest
from botbuilder.schema import Activity

from bot import texts as bot_texts
from bot.awaited import Owner
from bot.long_operation_bot import DIALOG_STATE
from bot.long_operation_prompt import LongOperationPrompt
from contract import Outcome, OutcomeStatus, Progress, Stage, StartRequest, StopReason, Unanswered
from tests.bot.fake_operations_service import FakeOperationsService, Instance
from tests.bot.harness import (
    ALICE,
    BOB,
    BotHarness,
    CopyingMemoryStorage,
    bot_harness,
    make_harness,
    teams_group_conversation,
    teams_message,
    texts,
)

FIXTURES = Path(__file__).parent / "fixtures"
CHOOSE = "Please select a long operation test option."
ASKED = "The long operation: tidy files asks: Delete the 60 duplicates?"
SENT_YES = 'Thanks, I passed on your answer "Yes". The long operation: tidy files carries on.'
QUESTION = "Delete the 60 duplicates?"


def run(test: Callable[[BotHarness], Awaitable[None]], storage: CopyingMemoryStorage | None = None,
        conversation: Activity | None = None) -> None:
    async def main() -> None:
        async with bot_harness(storage=storage, conversation=conversation) as harness:
            await test(harness)

    asyncio.run(main())


def buttons(reply: Activity) -> list[str]:
    return [action.value for action in reply.suggested_actions.actions]


async def start_tidy_files(harness: BotHarness) -> None:
    await harness.say("hi")
    assert texts(await harness.say("tidy files")) == ["...one moment please...."]


def raised(harness: BotHarness) -> list[tuple[str, object]]:
    return harness.service.only_instance()[1].raised


def test_the_question_is_shown_once_with_its_choices_and_the_owners_answer_reaches_the_instance() -> None:
    async def test(harness: BotHarness) -> None:
        await start_tidy_files(harness)
        [question] = await harness.post(harness.question_event())
        assert question.text == ASKED
        assert buttons(question) == ["Yes", "No"]
        # notify retries are at-least-once: the same question again shows nothing.
        assert await harness.post(harness.question_event()) == []

        assert texts(await harness.say("yes")) == [SENT_YES]
        instance_id = harness.service.only_instance()[0]
        assert raised(harness) == [("LongOperationAnswer-1", {"questionId": f"{instance_id}:1", "answer": "Yes"})]
        # Answered: a later message is no answer but gets the still-working reply, and the question is not shown again.
        assert texts(await harness.say("and now?")) == [
            "Still performing the long operation: tidy files ... (progress is not available right now)"]
        assert await harness.post(harness.question_event()) == []
        reply, prompt = await harness.post(harness.outcome_event(data={"kind": "facts", "facts": []}))
        assert reply.text == "Thanks for waiting. The long operation: tidy files has finished. Here is its result."
        assert prompt.text == CHOOSE

    run(test)


def test_an_answer_that_is_none_of_the_choices_is_asked_again_and_not_sent() -> None:
    async def test(harness: BotHarness) -> None:
        await start_tidy_files(harness)
        await harness.post(harness.question_event())
        [again] = await harness.say("maybe later")
        assert again.text == "Sorry, that is not one of the answers. Please choose Yes or No."
        assert buttons(again) == ["Yes", "No"]
        assert raised(harness) == []
        # The choice's number works as in a ChoicePrompt; the choice's own text is sent.
        assert texts(await harness.say("2")) == [
            'Thanks, I passed on your answer "No". The long operation: tidy files carries on.']
        assert [payload for _, payload in raised(harness)] == [
            {"questionId": f"{harness.service.only_instance()[0]}:1", "answer": "No"}]

    run(test)


def test_a_free_text_question_takes_the_words_as_typed() -> None:
    async def test(harness: BotHarness) -> None:
        await start_tidy_files(harness)
        [question] = await harness.post(harness.question_event("Which folder should I keep?", None))
        assert question.text == ("The long operation: tidy files asks: Which folder should I keep? "
                                 "Please type your answer.")
        assert question.suggested_actions is None
        assert texts(await harness.say("x" * 1001)) == [
            "Sorry, that answer is 1001 characters long; please answer in at most 1000 characters."]
        assert texts(await harness.say("  the newest one  ")) == [
            'Thanks, I passed on your answer "the newest one". The long operation: tidy files carries on.']
        assert [payload["answer"] for _, payload in raised(harness)] == ["the newest one"]  # type: ignore[index]

    run(test)


def test_status_says_it_waits_for_the_answer_before_and_after_the_question_arrives() -> None:
    async def test(harness: BotHarness) -> None:
        await start_tidy_files(harness)
        instance = harness.service.only_instance()[1]
        instance.progress = Progress.of("tidy files", Stage.WAITING, 1, 2, "waiting")
        assert texts(await harness.say("status")) == [
            "Long operation tidy files: waiting for an answer to a question that is on its way to this "
            "conversation (50% done, step 1 of 2)."]
        await harness.post(harness.question_event())
        assert texts(await harness.say("status")) == [
            'Long operation tidy files: waiting for your answer to "Delete the 60 duplicates?" '
            "(50% done, step 1 of 2)."]
        assert raised(harness) == []

    run(test)


def test_cancel_while_the_question_is_open_stops_the_operation() -> None:
    async def test(harness: BotHarness) -> None:
        await start_tidy_files(harness)
        await harness.post(harness.question_event())
        replies = await harness.say("cancel")
        assert texts(replies) == ["Cancelled the long operation: tidy files.", CHOOSE]
        assert harness.service.only_instance()[1].runtime_status == "Terminated"
        assert raised(harness) == []

    run(test)


def test_only_the_member_who_started_it_may_answer() -> None:
    async def test(harness: BotHarness) -> None:
        await harness.post(teams_message(ALICE, "hi"))
        await harness.post(teams_message(ALICE, "tidy files"))
        [question] = await harness.post(harness.question_event())
        # Teams shows no suggested actions: botbuilder's ChoiceFactory gives it a hero card.
        assert question.attachments[0].content.text == ASKED
        assert [b.value for b in question.attachments[0].content.buttons] == ["Yes", "No"]
        assert texts(await harness.post(teams_message(BOB, "Yes"))) == [
            "Sorry, Alice started the long operation: tidy files, so only Alice can answer its question. "
            "You can still ask for its status."]
        assert raised(harness) == []
        assert texts(await harness.post(teams_message(ALICE, "Yes"))) == [SENT_YES]
        assert len(raised(harness)) == 1

    run(test, conversation=teams_group_conversation())


def test_an_answer_after_the_question_expired_is_not_sent_and_says_so() -> None:
    async def test(harness: BotHarness) -> None:
        await start_tidy_files(harness)
        await harness.post(harness.question_event(expires_at="2020-01-01T00:00:00+00:00"))
        too_late = 'Sorry, the question "Delete the 60 duplicates?" is no longer open: it was not answered in time.'
        assert texts(await harness.say("Yes")) == [too_late]
        assert raised(harness) == []

    run(test)


def test_an_answer_the_instance_no_longer_takes_says_it_came_too_late() -> None:
    async def test(harness: BotHarness) -> None:
        await start_tidy_files(harness)
        await harness.post(harness.question_event())
        # Completed (its outcome on the way): the raiseEvent answers 410 Gone, as the extension's does.
        harness.service.only_instance()[1].runtime_status = "Completed"
        assert texts(await harness.say("Yes")) == [
            'Sorry, the question "Delete the 60 duplicates?" is no longer open: it was not answered in time.']
        assert raised(harness) == []

    run(test)


def test_no_answer_in_time_is_worded_from_the_outcomes_reason() -> None:
    async def test(harness: BotHarness) -> None:
        await start_tidy_files(harness)
        await harness.post(harness.question_event())
        replies = await harness.post(harness.outcome_event(
            OutcomeStatus.TIMED_OUT, "", reason=StopReason(2, 2, 0, 600, unanswered=Unanswered(QUESTION, 120))))
        assert texts(replies) == [
            'Sorry, the long operation: tidy files stopped: no answer to "Delete the 60 duplicates?" within 2 minutes.',
            CHOOSE]

    run(test)


def test_no_answer_before_the_deadline_names_the_deadline() -> None:
    cut = StopReason(2, 2, 0, 30, unanswered=Unanswered(QUESTION, 120, by_deadline=True))
    outcome = Outcome("op-1", "c-1", OutcomeStatus.TIMED_OUT, reason=cut)
    assert bot_texts.outcome_text(outcome, "tidy files") == (
        'Sorry, the long operation: tidy files stopped: no answer to "Delete the 60 duplicates?" before its '
        "deadline, 30 seconds after the start.")


def test_a_forged_question_is_rejected_and_shows_nothing(caplog: pytest.LogCaptureFixture) -> None:
    async def test(harness: BotHarness) -> None:
        await start_tidy_files(harness)
        with caplog.at_level(logging.WARNING):
            assert await harness.post(harness.question_event(key="not-the-key")) == []
        assert any(record.getMessage().startswith(
            "question event rejected: the question signature is missing or wrong, or the question or its routing "
            "was changed") for record in caplog.records)
        assert texts(await harness.say("Yes")) == [
            "Still performing the long operation: tidy files ... (progress is not available right now)"]

    run(test)


def test_a_question_of_another_instance_is_dropped_as_stale(caplog: pytest.LogCaptureFixture) -> None:
    async def test(harness: BotHarness) -> None:
        await start_tidy_files(harness)
        other = harness.service.only_instance()[0][:-8] + "99999999"
        with caplog.at_level(logging.WARNING):
            assert await harness.post(harness.question_event(instance_id=other)) == []
        assert any(record.getMessage().startswith("stale question dropped (no prompt waits for it)")
                   for record in caplog.records)

    run(test)


def _load(fixture: str, harness_url: str | None = None) -> tuple[dict[str, object], CopyingMemoryStorage]:
    raw = (FIXTURES / fixture).read_text()
    if harness_url is not None:
        raw = raw.replace("http://operations.invalid", harness_url)
    saved = json.loads(raw)
    storage = CopyingMemoryStorage()
    storage.memory.update(jsonpickle.decode(json.dumps(saved["storage"])))
    return saved, storage


def test_a_conversation_saved_with_an_open_question_takes_the_answer_after_a_restart() -> None:
    # Written by this version: "hi", "tidy files", then the question shown and saved, waiting for the answer.
    async def main() -> None:
        async with FakeOperationsService() as service, aiohttp.ClientSession() as session:
            saved, storage = _load("waiting_question_state.json", service.url)
            instance_id = str(saved["instanceId"])
            continuation = dict(saved["continuation"])  # type: ignore[call-overload]
            service.instances[instance_id] = Instance(StartRequest("tidy files", continuation))
            harness = make_harness(service, session, storage)
            assert texts(await harness.say("status")) == [
                'Long operation tidy files: waiting for your answer to "Delete the 60 duplicates?" '
                "(progress is not available right now)."]
            assert texts(await harness.say("Yes")) == [SENT_YES]
            assert service.instances[instance_id].raised == [
                ("LongOperationAnswer-1", {"questionId": f"{instance_id}:1", "answer": "Yes"})]
            reply, _ = await harness.post(harness.outcome_event(
                instance_id=instance_id, continuation=continuation, data={"kind": "facts", "facts": []}))
            assert reply.text == "Thanks for waiting. The long operation: tidy files has finished. Here is its result."

    asyncio.run(main())


def test_a_conversation_saved_before_questions_existed_shows_the_question_but_says_it_cannot_answer() -> None:
    # The previous version kept no sendEventPostUri: nowhere to send an answer to.
    saved, storage = _load("previous_version_waiting_state.json")

    async def test(harness: BotHarness) -> None:
        continuation = dict(saved["continuation"])  # type: ignore[call-overload]
        event = harness.question_event(instance_id=str(saved["instanceId"]), continuation=continuation)
        assert texts(await harness.post(event)) == [
            "The long operation: option 1 asks: Delete the 60 duplicates?"]
        assert texts(await harness.say("Yes")) == [
            "Sorry, I cannot pass on answers to the long operation: option 1: it was started before I could take "
            "answers. You can cancel it; otherwise it stops when its question is not answered in time."]

    run(test, storage)


def test_the_prompt_says_what_it_waits_for_the_operation_its_owner_and_the_open_question() -> None:
    async def test(harness: BotHarness) -> None:
        await start_tidy_files(harness)
        [key] = [k for k in harness.storage.memory if "conversations" in k]  # type: ignore[attr-defined]
        dialog_state = harness.storage.memory[key][DIALOG_STATE]  # type: ignore[attr-defined]
        before = LongOperationPrompt.awaited(dialog_state)
        assert before is not None and before.question is None
        assert (before.operation.option, before.owner) == ("tidy files", Owner("User1", "user"))
        await harness.post(harness.question_event())
        after = LongOperationPrompt.awaited(harness.storage.memory[key][DIALOG_STATE])  # type: ignore[attr-defined]
        assert after is not None and after.question is not None
        assert (after.question.text, after.question.choices) == (QUESTION, ("Yes", "No"))
        assert after.operation.instance_id == after.question.instance_id
        await harness.say("Yes")
        answered = LongOperationPrompt.awaited(harness.storage.memory[key][DIALOG_STATE])  # type: ignore[attr-defined]
        assert answered is not None
        assert (answered.question, answered.answered) == (None, (f"{answered.operation.instance_id}:1",))
        assert LongOperationPrompt.awaited(None) is None

    run(test)
