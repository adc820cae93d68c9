"""ChatClient against a real botbuilder bot: Emulator fields, choices, proactive messages, waiting, failures."""

import asyncio
import re
import uuid
from datetime import datetime

import pytest

from devhost.chat import BotUnreachable, ChatClient, ChatConfig, WaitTimeout
from tests.devhost.chat.chat_bot import PROACTIVE_TEXT
from tests.devhost.chat.harness import chatting
from tests.devhost.directline.harness import closed_port


def test_start_conversation_sends_conversation_update_with_user_and_bot_first() -> None:
    async def scenario() -> None:
        async with chatting() as h:
            conversation = await h.client.start_conversation(h.view)
            update = h.served.received[0]
            assert update["type"] == "conversationUpdate"
            assert [m["id"] for m in update["membersAdded"]] == [conversation.user["id"], "bot"]
            assert update["channelId"] == "emulator"
            assert re.fullmatch(r"[0-9a-f-]{36}\|livechat", update["conversation"]["id"])
            assert update["serviceUrl"] == h.client.service_url
            assert update["from"]["id"] == conversation.user["id"]
            assert update["recipient"] == {"id": "bot", "name": "Bot", "role": "bot"}
            # The bot's welcome (sent during the conversationUpdate turn) is already shown.
            assert h.lines() == ["bot: Welcome to the test bot"]

    asyncio.run(scenario())


def test_message_carries_emulator_fields_and_reply_comes_back_on_the_reply_route() -> None:
    async def scenario() -> None:
        async with chatting() as h:
            conversation = await h.client.start_conversation(h.view)
            sent = await conversation.say("hi")
            message = h.served.received[-1]
            assert (message["type"], message["text"], message["channelId"]) == ("message", "hi", "emulator")
            assert message["conversation"] == {"id": conversation.id}
            assert message["from"] == conversation.user
            assert message["recipient"] == conversation.bot
            assert message["serviceUrl"] == h.client.service_url
            assert message["locale"] == "en-US"
            assert uuid.UUID(message["id"]) and message["id"] == sent["id"]
            assert datetime.fromisoformat(message["timestamp"]).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
            assert datetime.fromisoformat(message["localTimestamp"]).utcoffset() is not None
            reply = conversation.bot_activities[-1]
            assert reply["text"] == "echo: hi"
            # botbuilder replies to .../activities/{replyToId} with the "|" of the conversation id percent-encoded.
            assert reply["replyToId"] == sent["id"]
            assert reply["recipient"] == conversation.user
            assert h.lines()[-2:] == ["user: hi", "bot: echo: hi"]

    asyncio.run(scenario())


def test_choice_prompt_is_shown_as_numbered_options_and_a_number_sends_its_value() -> None:
    async def scenario() -> None:
        async with chatting() as h:
            conversation = await h.client.start_conversation(h.view)
            await conversation.say("menu")
            assert h.lines()[-4:] == ["bot: Pick one", "  1. option 1", "  2. option 2", "  3. option 3"]
            await conversation.send_line("2")
            assert h.served.received[-1]["text"] == "option 2"
            assert conversation.bot_texts()[-1] == "You picked option 2"
            assert h.lines()[-2:] == ["user: option 2", "bot: You picked option 2"]
            # Choices are withdrawn once a message without them arrives: "2" is now just text.
            await conversation.send_line("2")
            assert conversation.bot_texts()[-1] == "echo: 2"

    asyncio.run(scenario())


def test_hero_card_buttons_are_choices_too() -> None:
    async def scenario() -> None:
        async with chatting() as h:
            conversation = await h.client.start_conversation(h.view)
            await conversation.say("hero")
            assert h.lines()[-3:] == ["bot: [Colours]", "  1. Red", "  2. Blue"]
            await conversation.choose(2)
            assert conversation.bot_texts()[-1] == "echo: blue"
            with pytest.raises(ValueError, match="no choice 5"):
                await conversation.choose(5)

    asyncio.run(scenario())


def test_proactive_message_from_continue_conversation_is_shown_when_it_arrives() -> None:
    async def scenario() -> None:
        async with chatting() as h:
            conversation = await h.client.start_conversation(h.view)
            await conversation.say("later")
            assert conversation.bot_texts()[-1] == "I will tell you later"
            proactive = await conversation.wait_for_text("thanks for waiting", timeout=10)
            assert proactive["text"] == PROACTIVE_TEXT
            assert h.lines()[-1] == f"bot: {PROACTIVE_TEXT}"
            assert conversation.bot_activities[-1] is proactive

    asyncio.run(scenario())


def test_wait_for_looks_after_the_last_send_and_times_out_with_a_clear_error() -> None:
    async def scenario() -> None:
        async with chatting() as h:
            conversation = await h.client.start_conversation()
            await conversation.say("one")
            await conversation.say("two")
            with pytest.raises(WaitTimeout, match="'echo: one'"):
                await conversation.wait_for_text("echo: one", timeout=0.2)
            assert (await conversation.wait_for_text("echo: one", timeout=1, since=0))["text"] == "echo: one"

    asyncio.run(scenario())


def test_unreachable_bot_raises_bot_unreachable_naming_the_url() -> None:
    async def scenario() -> None:
        url = f"http://127.0.0.1:{closed_port()}/api/messages"
        async with ChatClient(ChatConfig(bot_url=url)) as client:
            with pytest.raises(BotUnreachable, match=re.escape(url)):
                await client.start_conversation()
            assert client.conversations == {}

    asyncio.run(scenario())


def test_many_conversations_share_one_server() -> None:
    async def scenario() -> None:
        async with chatting() as h:
            first = await h.client.start_conversation()
            second = await h.client.start_conversation()
            await asyncio.gather(first.say("a"), second.say("b"))
            assert first.bot_texts() == ["Welcome to the test bot", "echo: a"]
            assert second.bot_texts() == ["Welcome to the test bot", "echo: b"]

    asyncio.run(scenario())
