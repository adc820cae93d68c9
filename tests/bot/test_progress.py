"""Proactive progress on TestAdapter: a card updated in place where the channel updates activities (Teams, the
Emulator), a short message where it does not (Direct Line); stale, duplicate and forged reports dropped; the
still-working reply's bar."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from contract import Progress, ProgressReport, Routing, Stage, sign_progress
from tests.bot.fake_operations_service import FakeOperationsService
from tests.bot.harness import (
    ALICE,
    EMULATOR_CONVERSATION,
    FUNCTION_APP_CONVERSATION,
    SIGNING_KEY,
    BotHarness,
    RecordingTestAdapter,
    bot_harness,
    make_harness,
    teams_group_conversation,
    teams_message,
    texts,
)

OPTION = "count primes"
CARD = "application/vnd.microsoft.card.adaptive"


def progress_event(harness: BotHarness, step: int, steps: int = 4, *, key: str = SIGNING_KEY,
                   instance_id: str | None = None) -> Activity:
    """The event as notify_progress posts it through Direct Line: the continuation with the signed report inside."""
    continuation = harness.continuation()
    report = ProgressReport(instance_id or harness.service.only_instance()[0], continuation["conversation"]["id"],
                            OPTION, step, steps)
    signed = sign_progress(report, Routing.of(continuation), key)
    return Activity(type=ActivityTypes.event, name="LongOperationResponse", channel_id="directline",
                    conversation=ConversationAccount(id=FUNCTION_APP_CONVERSATION),
                    from_property=ChannelAccount(id="function-app"), value={**continuation, "value": signed.to_json()})


def bar_of(activity: Activity) -> dict[str, Any]:
    """The progress card's title, bar weights and caption."""
    [attachment] = activity.attachments
    assert attachment.content_type == CARD
    title, bar, caption = attachment.content["body"]
    return {"title": title["text"], "bar": [(c["id"], c["width"], c["style"]) for c in bar["columns"]],
            "caption": caption["text"]}


async def start_count_primes(harness: BotHarness, teams: bool = False) -> None:
    def said(words: str) -> str | Activity:
        return teams_message(ALICE, words) if teams else words

    await harness.post(said("hi")) if teams else await harness.say("hi")
    assert texts(await harness.post(said(OPTION))) == [
        "Please enter the upper limit (a whole number from 1000 to 5000000)."]
    assert texts(await harness.post(said("2000"))) == ["...one moment please...."]


def run(test: Callable[[BotHarness], Awaitable[None]], conversation: Activity | None = None) -> None:
    async def main() -> None:
        async with bot_harness(conversation=conversation) as harness:
            await test(harness)

    asyncio.run(main())


def test_direct_line_gets_a_short_message_per_report_and_stale_or_repeated_ones_are_dropped() -> None:
    async def test(harness: BotHarness) -> None:
        await start_count_primes(harness)
        assert texts(await harness.post(progress_event(harness, 2))) == ["count primes: step 2 of 4 (50%)"]
        # Activities run at least once and posts may cross: never back, never twice.
        assert await harness.post(progress_event(harness, 2)) == []
        assert await harness.post(progress_event(harness, 1)) == []
        replies = await harness.post(progress_event(harness, 3))
        assert texts(replies) == ["count primes: step 3 of 4 (75%)"] and not replies[0].attachments
        assert harness.adapter.updated_activities == []

    run(test)


@pytest.mark.parametrize("channel", ["emulator", "msteams"])
def test_a_channel_that_updates_activities_gets_one_card_updated_in_place(channel: str) -> None:
    teams = channel == "msteams"

    async def test(harness: BotHarness) -> None:
        await start_count_primes(harness, teams)
        [card] = await harness.post(progress_event(harness, 1))
        assert card.text == "count primes: step 1 of 4 (25%)"
        assert bar_of(card) == {"title": "Working on count primes",
                                "bar": [("progress-done", 25, "accent"), ("progress-left", 75, "emphasis")],
                                "caption": "Step 1 of 4 (25%)"}

        assert await harness.post(progress_event(harness, 2)) == []
        assert await harness.post(progress_event(harness, 3)) == []
        first, second = harness.adapter.updated_activities
        # Both replace the card by the id the channel gave it when it was sent (TestAdapter's ids count from 0).
        assert first.id == second.id and first.id is not None
        assert second.text == "count primes: step 3 of 4 (75%)"
        assert bar_of(second)["bar"] == [("progress-done", 75, "accent"), ("progress-left", 25, "emphasis")]
        # A stale report touches nothing.
        assert await harness.post(progress_event(harness, 2)) == []
        assert len(harness.adapter.updated_activities) == 2

    run(test, teams_group_conversation() if teams else EMULATOR_CONVERSATION)


def test_a_forged_or_foreign_report_is_dropped_and_so_is_one_nobody_waits_for() -> None:
    async def test(harness: BotHarness) -> None:
        await start_count_primes(harness)
        assert await harness.post(progress_event(harness, 2, key="not the key")) == []
        instance_id = harness.service.only_instance()[0]
        other = instance_id[:-4] + "ffff"
        assert await harness.post(progress_event(harness, 2, instance_id=other)) == []
        # The outcome ends the wait: a late report is dropped.
        outcome = harness.outcome_event(data={"kind": "facts", "facts": [{"name": "Primes found", "value": "303"}]})
        assert (await harness.post(outcome))[0].text == (
            "Thanks for waiting. The long operation: count primes has finished. Here is its result.")
        assert await harness.post(progress_event(harness, 3)) == []

    run(test)


def test_the_still_working_reply_shows_the_same_bar_and_none_without_progress() -> None:
    async def test(harness: BotHarness) -> None:
        await start_count_primes(harness)
        harness.service.only_instance()[1].progress = Progress.of(OPTION, Stage.RUNNING, 2, 4, "working")
        [reply] = await harness.say("are you done?")
        assert reply.text == "Still performing the long operation: count primes ... 50% done (step 2 of 4)."
        assert bar_of(reply) == {"title": "Working on count primes",
                                 "bar": [("progress-done", 50, "accent"), ("progress-left", 50, "emphasis")],
                                 "caption": "Step 2 of 4 (50%)"}
        harness.service.only_instance()[1].progress = Progress.of(OPTION, Stage.RUNNING, 0, 4, "started")
        [reply] = await harness.say("and now?")
        assert bar_of(reply)["bar"] == [("progress-left", 100, "emphasis")]
        harness.service.status_error = 500
        [reply] = await harness.say("still?")
        assert reply.text == ("Still performing the long operation: count primes ... "
                              "(progress is not available right now)")
        assert not reply.attachments

    run(test)


class ForgetfulChannel(RecordingTestAdapter):
    """A channel that no longer has the card (deleted by the user, or gone with its history): updates fail as the
    Emulator's PUT answers an unknown activity, 404."""

    async def update_activity(self, context: Any, activity: Activity) -> None:
        raise LookupError(f"404 activity {activity.id!r} not found")


def test_a_card_the_channel_cannot_update_is_followed_by_a_new_one_that_is_updated_next() -> None:
    async def main() -> None:
        async with FakeOperationsService() as service, aiohttp.ClientSession() as session:
            harness = make_harness(service, session, conversation=EMULATOR_CONVERSATION)
            adapter = ForgetfulChannel(harness.bot.on_turn, EMULATOR_CONVERSATION, send_trace_activities=True)
            adapter.on_turn_error = harness.bot.on_turn_error
            harness.adapter = adapter
            await start_count_primes(harness)
            [first] = [a for a in await harness.post(progress_event(harness, 1)) if a.type == "message"]
            [second] = [a for a in await harness.post(progress_event(harness, 2)) if a.type == "message"]
            assert (first.text, second.text) == ("count primes: step 1 of 4 (25%)", "count primes: step 2 of 4 (50%)")
            assert bar_of(second)["bar"] == [("progress-done", 50, "accent"), ("progress-left", 50, "emphasis")]

    asyncio.run(main())
