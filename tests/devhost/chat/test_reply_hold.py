"""The chat holds a reply to an activity it never showed, as the Emulator's Web Chat does, and warns.

Web Chat: BotFramework-WebChat packages/core/src/sagas/queueIncomingActivitySaga.ts (REPLY_TIMEOUT 5000 ms).
The Emulator's routes: replyToId is the reply route's activity id; the send-to-conversation route clears it.
"""

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from devhost.chat import ChatConfig, Conversation
from tests.devhost.chat.harness import chatting

WELCOME = "Welcome to the test bot"  # the test bot's first activity, the reply to the conversationUpdate
# Seconds: long enough that a loaded machine finishes each test's steps before a release, short enough to wait
# for one. Nothing asserts how long anything took.
HOLD = 2.0
WAIT = 30.0


def test_the_default_hold_is_web_chats_five_seconds() -> None:
    assert ChatConfig().reply_hold_seconds == 5.0


async def _post(http: aiohttp.ClientSession, url: str, text: str) -> str:
    async with http.post(url, json={"type": "message", "text": text}) as response:
        assert response.status == 200, await response.text()
        activity_id: str = (await response.json())["id"]
        return activity_id


def _base(service_url: str, conversation: Conversation) -> str:
    return f"{service_url}/v3/conversations/{quote(conversation.id, safe='')}/activities"


async def _shown(conversation: Conversation, text: str) -> dict[str, Any]:
    return await conversation.wait_for(lambda a: a.get("text") == text, WAIT, since=0, description=repr(text))


def test_a_reply_to_an_unseen_activity_is_held_with_a_warning_then_shown(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with chatting(reply_hold_seconds=HOLD) as h, aiohttp.ClientSession() as http:
            conversation = await h.client.start_conversation()
            base = _base(h.client.service_url, conversation)
            with caplog.at_level(logging.WARNING, logger="devhost.chat.conversation"):
                held_id = await _post(http, f"{base}/never-seen", "held")
            assert conversation.bot_texts() == [WELCOME]
            assert [(a["id"], a["replyToId"]) for a in conversation.held] == [(held_id, "never-seen")]
            assert [r.getMessage() for r in caplog.records] == [
                f"holding the bot's activity {held_id} for up to 2 s, as Web Chat does: its replyToId "
                f"'never-seen' names an activity conversation {conversation.id} has not shown"
            ]
            # Not held: replies to the user's own message, and activities that reply to nothing overtake it.
            user_message = await conversation.say("hello")
            await _post(http, f"{base}/{user_message['id']}", "answer")
            await _post(http, base, "plain")
            assert conversation.bot_texts() == [WELCOME, "echo: hello", "answer", "plain"]
            assert (await _shown(conversation, "held"))["replyToId"] == "never-seen"
            assert conversation.bot_texts() == [WELCOME, "echo: hello", "answer", "plain", "held"]
            # Web Chat waited for "never-seen" once: a later reply to it is shown at once.
            await _post(http, f"{base}/never-seen", "again")
            assert conversation.bot_texts()[-1] == "again"
            assert len(conversation.held) == 1

    asyncio.run(scenario())


def test_the_bots_first_activity_is_never_held() -> None:
    async def post(activity: dict[str, Any]) -> None:
        raise AssertionError("nothing is sent to the bot here")

    async def scenario() -> None:
        conversation = Conversation("c|livechat", user={"id": "u"}, bot={"id": "bot"}, channel_id="emulator",
                                    service_url="http://127.0.0.1:1", locale="en-US", post=post,
                                    reply_hold_seconds=WAIT)
        conversation.receive({"type": "message", "id": "1", "text": "welcome", "replyToId": "update-id"})
        conversation.receive({"type": "message", "id": "2", "text": "held", "replyToId": "other-id"})
        assert conversation.bot_texts() == ["welcome"]
        assert [a["id"] for a in conversation.held] == ["2"]

    asyncio.run(scenario())


def test_the_reply_route_sets_reply_to_id_and_the_send_route_clears_it() -> None:
    async def scenario() -> None:
        async with chatting(reply_hold_seconds=HOLD) as h, aiohttp.ClientSession() as http:
            conversation = await h.client.start_conversation()
            base = _base(h.client.service_url, conversation)
            user_message = await conversation.say("hello")
            await _post(http, base, "after echo")  # the test bot's echo came first
            for url in (base, f"{base}/{user_message['id']}"):
                async with http.post(url, json={"type": "message", "text": "body", "replyToId": "x"}) as r:
                    assert r.status == 200
            assert [a.get("replyToId") for a in conversation.bot_activities[-2:]] == [None, user_message["id"]]
            assert conversation.held == []

    asyncio.run(scenario())


def test_replies_to_the_same_unseen_activity_are_shown_together_in_order() -> None:
    async def scenario() -> None:
        async with chatting(reply_hold_seconds=HOLD) as h, aiohttp.ClientSession() as http:
            conversation = await h.client.start_conversation()
            base = _base(h.client.service_url, conversation)
            await _post(http, f"{base}/made-up-id", "result")
            await _post(http, f"{base}/made-up-id", "next prompt")
            assert conversation.bot_texts() == [WELCOME]
            await _shown(conversation, "next prompt")
            assert conversation.bot_texts() == [WELCOME, "result", "next prompt"]
            assert [a["text"] for a in conversation.held] == ["result", "next prompt"]

    asyncio.run(scenario())


def test_a_held_activity_can_be_updated_or_deleted_before_it_is_shown() -> None:
    async def scenario() -> None:
        async with chatting(reply_hold_seconds=HOLD) as h, aiohttp.ClientSession() as http:
            conversation = await h.client.start_conversation()
            base = _base(h.client.service_url, conversation)
            updated = await _post(http, f"{base}/unseen", "draft")
            deleted = await _post(http, f"{base}/unseen", "gone")
            final = {"type": "message", "id": updated, "text": "final"}
            async with http.put(f"{base}/{updated}", json=final) as response:
                assert response.status == 200
            async with http.delete(f"{base}/{deleted}") as response:
                assert response.status == 200
            await _shown(conversation, "final")
            assert conversation.bot_texts() == [WELCOME, "final"]

    asyncio.run(scenario())
