"""What the stand-in sends to the bot, and how the bot's answer (or silence) maps to the client's status."""

import asyncio
import re
from datetime import datetime

from tests.devhost.chat.chat_bot import PROACTIVE_TEXT, ChatTestBot
from tests.devhost.directline.echo_bot import EchoBot, make_adapter, poll_until
from tests.devhost.directline.harness import running


def test_start_sends_conversation_update_with_bot_and_user_added() -> None:
    async def scenario() -> None:
        async with running() as h:
            started = await h.start(user_id="user-7")
            assert h.bot is not None
            (update,) = h.bot.received
            assert update["type"] == "conversationUpdate"
            assert [member["id"] for member in update["membersAdded"]] == ["bot", "user-7"]
            assert update["channelId"] == "directline"
            assert update["serviceUrl"] == h.directline.service_url
            assert update["conversation"] == {"id": started["conversationId"]}
            assert update["from"]["id"] == "user-7"
            assert update["recipient"]["id"] == "bot"

    asyncio.run(scenario())


def test_start_without_user_adds_the_bot_then_the_user_on_first_post() -> None:
    async def scenario() -> None:
        async with running() as h:
            # DirectLineJS sends {"user": {}} when it was given no user id.
            status, started = await h.call("POST", "/conversations", json={"user": {}, "locale": "en-US"})
            assert status == 201
            assert h.bot is not None
            assert [m["id"] for m in h.bot.received[0]["membersAdded"]] == ["bot"]
            assert h.bot.received[0]["from"]["id"]  # botbuilder handlers read from.id
            await h.say(started["conversationId"], "hi")
            await h.say(started["conversationId"], "again")
            types = [(a["type"], [m["id"] for m in a.get("membersAdded", [])]) for a in h.bot.received]
            assert types == [("conversationUpdate", ["bot"]), ("conversationUpdate", ["user-1"]),
                             ("message", []), ("message", [])]

    asyncio.run(scenario())


def test_post_forwards_exact_fields_and_leaves_name_value_channel_data_untouched() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            value = {"kind": "LongOperationComplete", "nested": {"list": [1, "two", None]}, "unicode": "ü"}
            channel_data = {"clientActivityID": "abc", "extra": {"x": True}}
            event = {
                "type": "event", "name": "LongOperationResponse", "value": value, "channelData": channel_data,
                "from": {"id": "function-app", "name": "Functions"}, "locale": "en-GB",
                "localTimestamp": "2024-05-01T10:00:00+02:00",
                "channelId": "spoofed", "serviceUrl": "http://elsewhere/", "conversation": {"id": "spoofed"},
            }
            status, posted = await h.call("POST", f"/conversations/{conversation_id}/activities", json=event)
            assert status == 200
            assert h.bot is not None
            forwarded = h.bot.received[-1]
            assert forwarded["channelId"] == "directline"
            assert forwarded["serviceUrl"] == f"{h.directline.base_url}/"
            assert forwarded["serviceUrl"].endswith("/")
            assert forwarded["conversation"] == {"id": conversation_id}
            assert forwarded["id"] == posted["id"]
            assert re.fullmatch(rf"{conversation_id}\|\d{{7}}", forwarded["id"])
            assert forwarded["recipient"] == {"id": "bot", "name": "Bot", "role": "bot"}
            assert forwarded["from"] == {"id": "function-app", "name": "Functions"}
            assert (forwarded["name"], forwarded["value"], forwarded["channelData"]) == (
                "LongOperationResponse", value, channel_data)
            assert (forwarded["locale"], forwarded["localTimestamp"]) == ("en-GB", "2024-05-01T10:00:00+02:00")
            timestamp = datetime.fromisoformat(forwarded["timestamp"])
            assert timestamp.utcoffset() is not None
            assert timestamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
            assert "Authorization" not in forwarded

    asyncio.run(scenario())


def test_token_user_overrides_the_posted_from_id() -> None:
    async def scenario() -> None:
        async with running() as h:
            _, generated = await h.call("POST", "/tokens/generate", json={"user": {"id": "dl_alice", "name": "A"}})
            started = await h.start(credential=generated["token"], user_id="ignored")
            await h.say(started["conversationId"], "hi", credential=generated["token"])
            assert h.bot is not None
            assert [m["id"] for m in h.bot.received[0]["membersAdded"]] == ["bot", "dl_alice"]
            assert h.bot.received[-1]["from"]["id"] == "dl_alice"

    asyncio.run(scenario())


def test_bot_down_is_502_bot_unreachable_and_the_service_keeps_serving() -> None:
    async def scenario() -> None:
        async with running(bot_down=True) as h:
            status, started = await h.call("POST", "/conversations")
            assert status == 201  # the conversation exists even though the bot did not hear about it
            for _ in range(3):
                status, body = await h.say(started["conversationId"], "hi")
                assert status == 502
                assert body["error"]["code"] == "BotUnreachable"
            assert await h.call("GET", "/health", credential=None) == (200, {"status": "ok"})
            assert (await h.call("POST", "/conversations"))[0] == 201

    asyncio.run(scenario())


def test_bot_500_is_502_bot_rejected_activity() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            status, body = await h.say(conversation_id, "fail")
            assert status == 502
            assert body["error"]["code"] == "BotRejectedActivity"
            assert "500" in body["error"]["message"]
            assert (await h.say(conversation_id, "hi"))[0] == 200

    asyncio.run(scenario())


def test_slow_bot_is_504_and_its_late_reply_still_lands() -> None:
    async def scenario() -> None:
        bot = EchoBot()
        async with running(bot, bot_timeout_seconds=0.3) as h:
            conversation_id = (await h.start())["conversationId"]
            status, body = await h.say(conversation_id, "slow")
            assert status == 504
            assert body["error"]["code"] == "GatewayTimeout"
            bot.release_slow.set()

            async def reply_arrived() -> bool:
                texts = [a.get("text") for a in (await h.activities(conversation_id))["activities"]]
                return "echo: slow" in texts

            await poll_until(reply_arrived)

    asyncio.run(scenario())


def test_proactive_continue_conversation_reaches_the_transcript() -> None:
    """The bot's later continue_conversation uses the trailing-slash serviceUrl it was given."""

    async def scenario() -> None:
        adapter = make_adapter()
        async with running(ChatTestBot(adapter, proactive_delay=0.05), adapter=adapter) as h:
            conversation_id = (await h.start())["conversationId"]
            assert (await h.say(conversation_id, "later"))[0] == 200

            async def proactive_arrived() -> bool:
                texts = [a.get("text") for a in (await h.activities(conversation_id))["activities"]]
                return PROACTIVE_TEXT in texts

            await poll_until(proactive_arrived)

    asyncio.run(scenario())
