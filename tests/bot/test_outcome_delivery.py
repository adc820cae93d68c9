"""The proactive path: a LongOperationResponse event reaches the user's conversation exactly once, if genuine."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest
from botbuilder.schema import Activity

from contract import OutcomeStatus, StopReason, instance_id_prefix
from tests.bot.harness import (
    FUNCTION_APP_CONVERSATION,
    SIGNING_KEY,
    USER_CONVERSATION,
    BotHarness,
    bot_harness,
    texts,
)

CHOOSE = "Please select a long operation test option."
THANKS = "Thanks for waiting. (Result for long operation one!)"
REJECTED_SIGNATURE = "the outcome signature is missing or wrong, or the outcome or its routing was changed"


def run(test: Callable[[BotHarness], Awaitable[None]]) -> None:
    async def main() -> None:
        async with bot_harness() as harness:
            await test(harness)

    asyncio.run(main())


async def start_option_1(harness: BotHarness) -> None:
    await harness.say("hi")
    assert texts(await harness.say("option 1")) == ["...one moment please...."]


def assert_sent_to_user(replies: list[Activity]) -> None:
    assert replies, "expected replies"
    assert {reply.conversation.id for reply in replies} == {USER_CONVERSATION}


def dropped_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("bot.") and r.levelno == logging.WARNING]


@pytest.mark.parametrize(
    ("status", "result", "reason", "said"),
    [
        (OutcomeStatus.COMPLETED, "(Result for long operation one!)", None, THANKS),
        (OutcomeStatus.FAILED, "", StopReason(3, 5, 3, 30),
         "Sorry, the long operation: option 1 failed at step 3 of 5 after 3 attempts."),
        (OutcomeStatus.TIMED_OUT, "", StopReason(2, 5, 1, 90),
         "Sorry, the long operation: option 1 did not finish within 1 minute and 30 seconds, "
         "so it was stopped at step 2 of 5."),
    ],
    ids=["completed", "failed", "timed-out"],
)
def test_an_outcome_reaches_the_original_conversation_then_the_choice_prompt(
    status: OutcomeStatus, result: str, reason: StopReason | None, said: str
) -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        replies = await harness.post(harness.outcome_event(status, result, reason=reason))
        assert texts(replies) == [said, CHOOSE]
        assert_sent_to_user(replies)
        # The continuation turn saved its state: the prompt no longer waits, a new choice starts a new operation.
        assert texts(await harness.say("option 2")) == ["...one moment please...."]

    run(test)


def test_a_duplicate_outcome_is_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot")

    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        event = harness.outcome_event()
        assert texts(await harness.post(event)) == [THANKS, CHOOSE]
        before = harness.state_snapshot()
        caplog.clear()
        assert await harness.post(event) == []
        assert harness.state_snapshot() == before
        instance_id = harness.service.only_instance()[0]
        [record] = dropped_records(caplog)
        assert "duplicate" in record.getMessage()
        assert instance_id in record.getMessage()
        assert USER_CONVERSATION in record.getMessage()

    run(test)


@pytest.mark.parametrize(
    ("event_options", "why"),
    [
        ({"key": "not-the-signing-key"}, "signature"),
        ({"key": None}, "signature"),
        ({"signature": "00" * 32}, "signature"),
        ({"conversation_id": "another-conversation"}, "another conversation"),
    ],
    ids=["bad-signature", "missing-signature", "forged-signature", "outcome-for-another-conversation"],
)
def test_an_untrustworthy_event_changes_nothing_and_is_logged(
    event_options: dict[str, object], why: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")

    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        before = harness.state_snapshot()
        caplog.clear()
        assert await harness.post(harness.outcome_event(**event_options)) == []  # type: ignore[arg-type]
        assert harness.state_snapshot() == before
        [record] = dropped_records(caplog)
        message = record.getMessage()
        assert why in message
        assert harness.service.only_instance()[0] in message
        assert SIGNING_KEY not in message
        # Still waiting for the genuine outcome.
        assert texts(await harness.post(harness.outcome_event())) == [THANKS, CHOOSE]

    run(test)


def test_an_outcome_for_an_instance_nobody_waits_for_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot")

    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        before = harness.state_snapshot()
        caplog.clear()
        unknown = instance_id_prefix("directline", USER_CONVERSATION) + "unknown1"
        assert await harness.post(harness.outcome_event(instance_id=unknown)) == []
        assert harness.state_snapshot() == before
        [record] = dropped_records(caplog)
        assert "stale" in record.getMessage()
        assert unknown in record.getMessage()
        assert USER_CONVERSATION in record.getMessage()

    run(test)


def test_an_outcome_after_cancel_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot")

    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        event = harness.outcome_event()
        assert texts(await harness.say("cancel")) == ["Cancelled the long operation: option 1.", CHOOSE]
        before = harness.state_snapshot()
        caplog.clear()
        assert await harness.post(event) == []
        assert harness.state_snapshot() == before
        assert "stale" in dropped_records(caplog)[0].getMessage()

    run(test)


def test_another_conversations_genuine_outcome_reaches_nobody(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot")

    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        other = {**harness.continuation(), "conversation": {"id": "Convo2"}}
        instance_id = instance_id_prefix("directline", "Convo2") + "00000001"
        before = harness.state_snapshot()
        caplog.clear()
        assert await harness.post(harness.outcome_event(instance_id=instance_id, continuation=other)) == []
        assert harness.state_snapshot() == before
        [record] = dropped_records(caplog)
        assert "stale" in record.getMessage()
        assert "Convo2" in record.getMessage()

    run(test)


def test_an_instance_id_of_another_conversation_is_rejected(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot")

    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        before = harness.state_snapshot()
        caplog.clear()
        foreign = instance_id_prefix("directline", "Convo2") + "00000001"
        assert await harness.post(harness.outcome_event(instance_id=foreign)) == []
        assert harness.state_snapshot() == before
        assert "does not belong" in dropped_records(caplog)[0].getMessage()

    run(test)


ROUTING_CHANGES = {
    "channel": ("channelId", "msteams"),
    "serviceUrl": ("serviceUrl", "https://attacker.example/"),
    "conversation": ("conversation", {"id": "Convo2"}),
    "bot": ("recipient", {"id": "another-bot", "name": "Bot"}),
    "user": ("from", {"id": "another-user", "name": "user"}),
}


@pytest.mark.parametrize("change", list(ROUTING_CHANGES.values()), ids=list(ROUTING_CHANGES))
def test_a_genuine_outcome_whose_routing_was_changed_is_rejected_before_any_conversation_is_continued(
    change: tuple[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    field, value = change

    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        # Signed for the user's conversation, then posted with one routing field changed on the way.
        redirected = {**harness.continuation(), field: value}
        before = harness.state_snapshot()
        caplog.clear()
        assert await harness.post(harness.outcome_event(posted_continuation=redirected)) == []
        assert harness.adapter.continued == []
        assert harness.state_snapshot() == before
        [record] = dropped_records(caplog)
        assert record.getMessage() == (
            f"outcome event rejected: {REJECTED_SIGNATURE} instance_id={harness.service.only_instance()[0]} "
            f"conversation_id={redirected['conversation']['id']}"
        )
        # Still waiting for the genuine outcome.
        assert texts(await harness.post(harness.outcome_event())) == [THANKS, CHOOSE]
        assert len(harness.adapter.continued) == 1

    run(test)


@pytest.mark.parametrize(
    ("status", "result", "reason", "said"),
    [
        (OutcomeStatus.FAILED, "", StopReason(3, 5, 1, 30),
         "Sorry, the long operation: option 1 failed at step 3 of 5."),
        (OutcomeStatus.FAILED, "", None, "Sorry, the long operation: option 1 failed."),
        (OutcomeStatus.TIMED_OUT, "", None, "Sorry, the long operation: option 1 took too long and was stopped."),
        (OutcomeStatus.COMPLETED, "", None, "Thanks for waiting. The long operation: option 1 has finished."),
        # A sentence from a function app of the previous contract is not wrapped in the bot's own.
        (OutcomeStatus.FAILED, "Sorry, option 1 failed at step 1 of 4 (tried 3 times).", None,
         "Sorry, the long operation: option 1 failed."),
    ],
    ids=["failed-once", "failed-without-reason", "timed-out-without-reason", "completed-without-result",
         "failed-with-an-old-sentence"],
)
def test_every_outcome_is_told_in_one_plain_sentence(
    status: OutcomeStatus, result: str, reason: StopReason | None, said: str
) -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        assert texts(await harness.post(harness.outcome_event(status, result, reason=reason))) == [said, CHOOSE]

    run(test)


@pytest.mark.parametrize(
    ("status", "result", "said"),
    [
        (OutcomeStatus.COMPLETED, "(Result for long operation one!)", THANKS),
        (OutcomeStatus.FAILED, "Sorry, option 1 failed at step 1 of 4 (tried 3 times).",
         "Sorry, the long operation: option 1 failed."),
    ],
    ids=["completed", "failed"],
)
def test_an_outcome_signed_by_the_previous_contract_is_delivered_during_the_upgrade(
    status: OutcomeStatus, result: str, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")

    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        caplog.clear()
        assert texts(await harness.post(harness.outcome_event(status, result, legacy=True))) == [said, CHOOSE]
        logged = [r.getMessage() for r in caplog.records if "previous contract" in r.getMessage()]
        assert logged == [
            "outcome signed without its routing (a function app of the previous contract) accepted during the "
            f"upgrade instance_id={harness.service.only_instance()[0]} conversation_id={USER_CONVERSATION}"
        ]

    run(test)


def test_a_previous_contracts_outcome_with_a_redirected_service_url_is_still_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot")

    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        # Its signature does not cover the continuation: the proactive turn compares the serviceUrl with the one the
        # operation was started with.
        redirected = {**harness.continuation(), "serviceUrl": "https://attacker.example/"}
        before = harness.state_snapshot()
        caplog.clear()
        assert await harness.post(harness.outcome_event(continuation=redirected, legacy=True)) == []
        assert harness.state_snapshot() == before
        assert "serviceUrl differs" in dropped_records(caplog)[0].getMessage()

    run(test)


@pytest.mark.parametrize("value", [None, "text", {"conversation": {"id": "x"}}, {"type": 5}])
def test_a_malformed_event_value_is_rejected(value: object, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot")

    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        event = harness.outcome_event()
        event.value = value
        before = harness.state_snapshot()
        caplog.clear()
        assert await harness.post(event) == []
        assert harness.state_snapshot() == before
        assert "rejected" in dropped_records(caplog)[0].getMessage()

    run(test)


def test_nothing_is_sent_to_the_function_apps_conversation() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        replies = await harness.post(harness.outcome_event())
        assert FUNCTION_APP_CONVERSATION not in {reply.conversation.id for reply in replies}

    run(test)


async def race_outcome_with(harness: BotHarness, text: str) -> list[str]:
    """The user's turn ``text`` is held inside its call to the function app while the outcome event arrives."""
    gate = asyncio.Event()
    harness.service.gate = gate
    harness.adapter.activity_buffer.clear()
    user_turn = asyncio.create_task(harness.adapter.receive_activity(text))
    for _ in range(500):  # until the user's turn is inside its call (bounded)
        if harness.service.gated:
            break
        await asyncio.sleep(0.01)
    assert harness.service.gated == 1
    outcome_turn = asyncio.create_task(harness.adapter.receive_activity(harness.outcome_event()))
    # Give the outcome turn every chance to run ahead; correctness must not depend on how far it gets.
    await asyncio.wait({outcome_turn}, timeout=0.3)
    gate.set()
    await asyncio.gather(user_turn, outcome_turn)
    harness.service.gate = None
    sent = texts(harness.adapter.activity_buffer)
    harness.adapter.activity_buffer.clear()
    return sent


def test_an_outcome_arriving_during_a_status_turn_is_delivered_once() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        sent = await race_outcome_with(harness, "status")
        assert sent.count(THANKS) == 1
        # Neither turn's save undid the other: the outcome is delivered, the choice prompt is active.
        assert texts(await harness.say("option 2")) == ["...one moment please...."]

    run(test)


def test_an_outcome_racing_a_cancel_gives_the_user_exactly_one_ending() -> None:
    async def test(harness: BotHarness) -> None:
        await start_option_1(harness)
        sent = await race_outcome_with(harness, "cancel")
        thanked = THANKS in sent
        cancelled = "Cancelled the long operation: option 1." in sent
        assert thanked != cancelled, sent
        assert sent.count(CHOOSE) == 1
        assert texts(await harness.say("option 2")) == ["...one moment please...."]

    run(test)
