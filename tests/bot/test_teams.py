"""Teams channels and group chats: @mentions, hero-card choices, and one member's operation in a shared dialog."""

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from botbuilder.schema import Activity, ChannelAccount, Entity

from bot.long_operation_bot import DIALOG_STATE
from bot.long_operation_prompt import OWNER_KEY, PROMPT_ID
from contract import Progress, Stage
from tests.bot.fake_operations_service import FakeOperationsService
from tests.bot.harness import (
    ALICE,
    BOB,
    TEAMS_BOT,
    TEAMS_CONVERSATIONS,
    TEAMS_TENANT,
    BotHarness,
    CopyingMemoryStorage,
    bot_harness,
    make_harness,
    teams_group_conversation,
    teams_message,
    texts,
)
from tests.bot.test_app import FakeBotConnector
from tests.bot.test_app import run as run_app

CHOOSE = "Please select a long operation test option."
RESULT = "Thanks for waiting. (Result for long operation one!)"
NOT_BOBS = ("Sorry, Alice started the long operation: option 1, so only Alice can cancel it. "
            "You can still ask for its status.")
HERO_CARD = "application/vnd.microsoft.card.hero"
CONVERSATION_TYPES = pytest.mark.parametrize("conversation_type", sorted(TEAMS_CONVERSATIONS))


def assert_hero_card_choices(reply: Activity) -> None:
    """The choices on msteams: a hero card with a button per operation (Teams shows no suggested actions, and
    botbuilder's own choice of style for more than 3 choices there would be a plain list)."""
    assert reply.text is None
    assert reply.suggested_actions is None
    [attachment] = reply.attachments
    assert attachment.content_type == HERO_CARD
    card = attachment.content
    assert card.text == CHOOSE
    assert [(button.type, button.title, button.value) for button in card.buttons] == [
        ("imBack", option, option) for option in ("option 1", "option 2", "option 3", "count primes", "tidy files")
    ]


async def alice_starts_option_1(harness: BotHarness) -> Activity:
    [prompt] = await harness.post(teams_message(ALICE, "hi"))
    assert_hero_card_choices(prompt)
    started = teams_message(ALICE, "option 1")
    started.id = "1700000000123"
    assert texts(await harness.post(started)) == ["...one moment please...."]
    return started


@CONVERSATION_TYPES
def test_choices_are_a_hero_card_and_a_mentioned_choice_starts_the_operation(conversation_type: str) -> None:
    async def main() -> None:
        async with bot_harness(conversation=teams_group_conversation(conversation_type)) as harness:
            await alice_starts_option_1(harness)
            _, instance = harness.service.only_instance()
            assert instance.request.option == "option 1"
            continuation = instance.request.continuation
            assert continuation["channelId"] == "msteams"
            assert continuation["conversation"]["id"] == TEAMS_CONVERSATIONS[conversation_type]
            assert continuation["conversation"]["isGroup"] is True
            assert continuation["conversation"]["conversationType"] == conversation_type

    asyncio.run(main())


@CONVERSATION_TYPES
def test_another_member_may_ask_the_status_but_only_the_owner_cancels(conversation_type: str) -> None:
    async def main() -> None:
        async with bot_harness(conversation=teams_group_conversation(conversation_type)) as harness:
            await alice_starts_option_1(harness)
            _, instance = harness.service.only_instance()
            instance.progress = Progress.of("option 1", Stage.RUNNING, 2, 5, "working")
            assert texts(await harness.post(teams_message(BOB, "status"))) == [
                "Long operation option 1: 40% done (step 2 of 5)."
            ]
            assert texts(await harness.post(teams_message(BOB, "how is it going?"))) == [
                "Still performing the long operation: option 1 ... 40% done (step 2 of 5)."
            ]
            assert texts(await harness.post(teams_message(BOB, "cancel"))) == [NOT_BOBS]
            assert instance.terminate_reasons == []
            replies = await harness.post(teams_message(ALICE, "cancel"))
            assert texts(replies)[0] == "Cancelled the long operation: option 1."
            assert_hero_card_choices(replies[1])
            assert instance.runtime_status == "Terminated"

    asyncio.run(main())


def test_the_result_replies_in_the_group_to_the_message_that_started_it() -> None:
    async def main() -> None:
        async with bot_harness(conversation=teams_group_conversation("channel")) as harness:
            started = await alice_starts_option_1(harness)
            result, prompt = await harness.post(harness.outcome_event())
            assert result.text == RESULT
            assert_hero_card_choices(prompt)
            assert {result.conversation.id, prompt.conversation.id} == {TEAMS_CONVERSATIONS["channel"]}
            assert [result.reply_to_id, prompt.reply_to_id] == [started.id, started.id]

    asyncio.run(main())


def test_unmentioned_words_still_work_as_in_a_personal_chat() -> None:
    async def main() -> None:
        async with bot_harness(conversation=teams_group_conversation()) as harness:
            await harness.post(teams_message(ALICE, "hi", mention=False))
            assert texts(await harness.post(teams_message(ALICE, "option 1", mention=False))) == [
                "...one moment please...."
            ]
            replies = await harness.post(teams_message(ALICE, "cancel", mention=False))
            assert texts(replies)[0] == "Cancelled the long operation: option 1."

    asyncio.run(main())


def _forget_owner(storage: CopyingMemoryStorage) -> int:
    """Make the stored dialog state look like one saved before owners were kept; how many owners it removed."""
    removed = 0

    def walk(dialog_state: Any) -> None:
        nonlocal removed
        for instance in dialog_state.dialog_stack:
            if instance.id == PROMPT_ID:
                removed += instance.state["state"].pop(OWNER_KEY, None) is not None
            elif isinstance(instance.state, dict) and "dialogs" in instance.state:
                walk(instance.state["dialogs"])

    for item in storage.memory.values():
        if isinstance(item, dict) and DIALOG_STATE in item:
            walk(item[DIALOG_STATE])
    return removed


def test_a_state_saved_without_an_owner_still_loads_and_any_member_may_cancel() -> None:
    async def main() -> None:
        storage = CopyingMemoryStorage()
        async with FakeOperationsService() as service, aiohttp.ClientSession() as session:
            before = make_harness(service, session, storage, conversation=teams_group_conversation())
            await alice_starts_option_1(before)
            assert _forget_owner(storage) == 1
            # A fresh bot, as after an upgrade, over the state the previous version saved.
            after = make_harness(service, session, storage, conversation=teams_group_conversation())
            assert texts(await after.post(teams_message(BOB, "status"))) == [
                "Long operation option 1: progress is not available right now."
            ]
            replies = await after.post(teams_message(BOB, "cancel"))
            assert texts(replies)[0] == "Cancelled the long operation: option 1."
            assert service.only_instance()[1].runtime_status == "Terminated"

    asyncio.run(main())


def _teams_wire_message(connector: FakeBotConnector, sender: ChannelAccount, words: str, message_id: str,
                        conversation_type: str = "channel") -> dict[str, Any]:
    """A Teams message as it reaches /api/messages: wire JSON, a mention entity, the tenant in two places."""
    conversation = teams_group_conversation(conversation_type).serialize()
    return {
        **conversation,
        "type": "message",
        "id": message_id,
        "serviceUrl": connector.url,
        "from": sender.serialize(),
        "text": f"<at>{TEAMS_BOT.name}</at> {words}",
        "entities": [{"type": "mention", "mentioned": TEAMS_BOT.serialize(), "text": f"<at>{TEAMS_BOT.name}</at>"}],
        # msrest drops the unknown "tenantId" when it serializes (it maps tenant_id to "tenantID").
        "conversation": {**conversation["conversation"], "tenantId": TEAMS_TENANT},
    }


def test_over_http_a_teams_channel_mention_is_understood_and_replies_go_to_the_reply_route() -> None:
    async def test(
        client: TestClient[web.Request, web.Application], connector: FakeBotConnector, service: FakeOperationsService
    ) -> None:
        async def say(sender: ChannelAccount, words: str, message_id: str) -> None:
            body = _teams_wire_message(connector, sender, words, message_id)
            assert (await client.post("/api/messages", json=body)).status == 201

        await say(ALICE, "hi", "1700000000001")
        [prompt] = connector.sent
        assert prompt["attachments"][0]["contentType"] == HERO_CARD
        assert prompt["attachments"][0]["content"]["text"] == CHOOSE
        await say(ALICE, "option 1", "1700000000002")
        await say(BOB, "cancel", "1700000000003")
        assert connector.texts()[1:] == ["...one moment please....", NOT_BOBS]
        assert [(a["_posted_to"], a["_reply_route"], a["replyToId"]) for a in connector.sent] == [
            (TEAMS_CONVERSATIONS["channel"], message_id, message_id)
            for message_id in ("1700000000001", "1700000000002", "1700000000003")
        ]
        assert service.only_instance()[1].terminate_reasons == []

    run_app(test)


def test_a_malformed_mention_entity_leaves_the_text_as_sent_instead_of_failing_the_turn() -> None:
    async def main() -> None:
        async with bot_harness(conversation=teams_group_conversation()) as harness:
            await alice_starts_option_1(harness)
            odd = teams_message(ALICE, "cancel")
            odd.entities = [Entity(type="mention")]  # no "mentioned", no "text": botbuilder would raise KeyError
            assert texts(await harness.post(odd)) == [
                "Still performing the long operation: option 1 ... (progress is not available right now)"
            ]

    asyncio.run(main())
