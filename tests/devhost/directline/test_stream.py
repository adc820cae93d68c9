"""The WebSocket stream at the protocol level, with aiohttp's WebSocket client: the streamUrl's short-lived token,
ActivitySets and watermarks, keep-alives, one socket per conversation, reconnecting with a watermark."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType

from tests.devhost.chat.chat_bot import ChatTestBot
from tests.devhost.directline.echo_bot import make_adapter, poll_until
from tests.devhost.directline.harness import Harness, running

RECEIVE_TIMEOUT = 10.0


@asynccontextmanager
async def opened(h: Harness, stream_url: str) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    async with h.http.ws_connect(stream_url) as socket:
        yield socket


async def next_set(socket: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next ActivitySet, skipping keep-alives (empty messages), as a client must."""
    while True:
        message = await socket.receive(timeout=RECEIVE_TIMEOUT)
        assert message.type == WSMsgType.TEXT, f"expected an ActivitySet, got {message.type}: {message.data!r}"
        if message.data:
            activity_set: dict[str, Any] = message.json()
            return activity_set


async def sets_until(socket: aiohttp.ClientWebSocketResponse, last_text: str) -> list[dict[str, Any]]:
    """ActivitySets until one holds a message with ``last_text``."""
    received = []
    while True:
        activity_set = await next_set(socket)
        received.append(activity_set)
        if any(a.get("text") == last_text for a in activity_set["activities"]):
            return received


def texts(sets: list[dict[str, Any]]) -> list[str]:
    return [a.get("text", a["type"]) for s in sets for a in s["activities"]]


async def bot_says(h: Harness, conversation_id: str, text: str) -> None:
    """A proactive message, posted on the Bot Connector face as the bot's continue_conversation does."""
    activity = {"type": "message", "text": text, "from": {"id": "bot", "name": "Bot"}}
    async with h.http.post(f"{h.directline.base_url}/v3/conversations/{conversation_id}/activities",
                           json=activity) as response:
        assert response.status == 200, await response.text()


async def handshake_refusal(h: Harness, stream_url: str) -> tuple[int, dict[str, Any]]:
    """The status a WebSocket client gets, and the Direct Line error body of the same URL fetched plainly."""
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await h.http.ws_connect(stream_url)
    async with h.http.get(stream_url.replace("ws://", "http://", 1)) as response:
        assert response.status == refused.value.status
        body: dict[str, Any] = await response.json()
    return refused.value.status, body


def test_a_stream_replays_what_came_after_the_start_then_carries_echoes_and_replies_with_watermarks() -> None:
    async def scenario() -> None:
        async with running() as h:
            started = await h.start()
            conversation_id = started["conversationId"]
            # Sent after the start but before the socket opens: replayed first ("Timing considerations").
            assert (await h.say(conversation_id, "early"))[0] == 200
            async with opened(h, started["streamUrl"]) as socket:
                first = await sets_until(socket, "echo: early")
                assert texts(first) == ["early", "echo: early"]
                status, posted = await h.say(conversation_id, "hello")
                assert status == 200
                later = await sets_until(socket, "echo: hello")
                assert texts(later) == ["hello", "echo: hello"]
                # Watermarks are strings; the last one is where GET .../activities stands too.
                watermarks = [s["watermark"] for s in first + later]
                assert all(isinstance(w, str) for w in watermarks)
                assert [int(w) for w in watermarks] == sorted(int(w) for w in watermarks)
                assert watermarks[-1] == (await h.activities(conversation_id))["watermark"]
                echo = later[0]["activities"][0]
                assert echo["id"] == posted["id"]
                assert echo["channelId"] == "directline"

    asyncio.run(scenario())


def test_the_bots_welcome_sent_while_the_start_is_answered_is_the_first_set() -> None:
    async def scenario() -> None:
        adapter = make_adapter()
        async with running(ChatTestBot(adapter), adapter=adapter) as h:
            started = await h.start()
            async with opened(h, started["streamUrl"]) as socket:
                assert texts([await next_set(socket)]) == ["Welcome to the test bot"]

    asyncio.run(scenario())


def test_starting_a_token_bound_conversation_again_streams_only_what_follows_that_start() -> None:
    async def scenario() -> None:
        async with running() as h:
            status, generated = await h.call("POST", "/tokens/generate", json={})
            assert status == 200
            first = await h.start(credential=generated["token"])
            assert (await h.say(first["conversationId"], "before"))[0] == 200
            status, again = await h.call("POST", "/conversations", credential=generated["token"], json={})
            assert status == 200
            async with opened(h, again["streamUrl"]) as socket:
                await bot_says(h, first["conversationId"], "after")
                assert texts([await next_set(socket)]) == ["after"]

    asyncio.run(scenario())


def test_typing_comes_over_the_stream_only() -> None:
    async def scenario() -> None:
        async with running() as h:
            started = await h.start()
            conversation_id = started["conversationId"]
            async with opened(h, started["streamUrl"]) as socket:
                assert (await h.say(conversation_id, "typing"))[0] == 200
                assert texts(await sets_until(socket, "echo: typing")) == ["typing", "typing", "echo: typing"]
            polled = await h.activities(conversation_id)
            assert [a["text"] for a in polled["activities"]] == ["typing", "echo: typing"]

    asyncio.run(scenario())


def test_a_bots_proactive_message_reaches_the_open_socket() -> None:
    async def scenario() -> None:
        async with running() as h:
            started = await h.start()
            async with opened(h, started["streamUrl"]) as socket:
                await poll_until(lambda: h.directline.service.streams.is_open(started["conversationId"]))
                await bot_says(h, started["conversationId"], "your result is ready")
                activity_set = await next_set(socket)
                assert [a["text"] for a in activity_set["activities"]] == ["your result is ready"]

    asyncio.run(scenario())


def test_an_idle_stream_gets_empty_keep_alives_and_ignores_the_clients_empty_messages() -> None:
    async def scenario() -> None:
        async with running(stream_keepalive_seconds=0.05) as h:
            started = await h.start()
            async with opened(h, started["streamUrl"]) as socket:
                for _ in range(3):
                    message = await socket.receive(timeout=RECEIVE_TIMEOUT)
                    assert (message.type, message.data) == (WSMsgType.TEXT, "")
                # DirectLineJS pings with empty messages; the socket stays open and keeps delivering.
                await socket.send_str("")
                assert (await h.say(started["conversationId"], "still there"))[0] == 200
                assert texts(await sets_until(socket, "echo: still there")) == ["still there", "echo: still there"]

    asyncio.run(scenario())


def test_a_second_socket_on_the_same_conversation_is_closed_as_a_collision_and_the_first_keeps_the_stream() -> None:
    async def scenario() -> None:
        async with running() as h:
            started = await h.start()
            conversation_id = started["conversationId"]
            async with opened(h, started["streamUrl"]) as first:
                await poll_until(lambda: h.directline.service.streams.is_open(conversation_id))
                status, again = await h.call("GET", f"/conversations/{conversation_id}")
                assert status == 200
                async with opened(h, again["streamUrl"]) as second:
                    message = await second.receive(timeout=RECEIVE_TIMEOUT)
                    assert message.type == WSMsgType.CLOSE
                    assert (message.data, message.extra) == (1008, "collision")
                assert (await h.say(conversation_id, "after"))[0] == 200
                assert texts(await sets_until(first, "echo: after")) == ["after", "echo: after"]

    asyncio.run(scenario())


def test_reconnecting_with_the_watermark_resumes_without_loss_or_duplicates() -> None:
    async def scenario() -> None:
        async with running() as h:
            started = await h.start()
            conversation_id = started["conversationId"]
            async with opened(h, started["streamUrl"]) as socket:
                assert (await h.say(conversation_id, "one"))[0] == 200
                before = await sets_until(socket, "echo: one")
            watermark = before[-1]["watermark"]
            await poll_until(lambda: not h.directline.service.streams.is_open(conversation_id))
            # While no socket is open: the bot's proactive messages and another exchange.
            await bot_says(h, conversation_id, "proactive 1")
            await bot_says(h, conversation_id, "proactive 2")
            assert (await h.say(conversation_id, "two"))[0] == 200

            status, reconnected = await h.call(
                "GET", f"/conversations/{conversation_id}", credential=started["token"], params={"watermark": watermark}
            )
            assert status == 200
            assert reconnected["conversationId"] == conversation_id
            assert f"/stream?watermark={watermark}&t=" in reconnected["streamUrl"]
            async with opened(h, reconnected["streamUrl"]) as socket:
                after = await sets_until(socket, "echo: two")
            assert texts(after) == ["proactive 1", "proactive 2", "two", "echo: two"]
            ids = [a["id"] for s in before + after for a in s["activities"]]
            assert len(ids) == len(set(ids))
            everything = await h.activities(conversation_id)
            assert [a["id"] for a in everything["activities"]] == ids

    asyncio.run(scenario())


def test_reconnecting_without_a_watermark_streams_only_what_comes_after_the_reconnect() -> None:
    async def scenario() -> None:
        async with running() as h:
            started = await h.start()
            conversation_id = started["conversationId"]
            assert (await h.say(conversation_id, "old"))[0] == 200
            # DirectLineJS sends an empty watermark before it has one: the same as none.
            for params in ({}, {"watermark": ""}):
                status, reconnected = await h.call("GET", f"/conversations/{conversation_id}", params=params)
                assert status == 200
                assert "/stream?watermark=-&t=" in reconnected["streamUrl"]
                async with opened(h, reconnected["streamUrl"]) as socket:
                    await bot_says(h, conversation_id, f"new {params}")
                    assert texts([await next_set(socket)]) == [f"new {params}"]

    asyncio.run(scenario())


def test_a_bad_watermark_on_reconnect_is_400_naming_it() -> None:
    async def scenario() -> None:
        async with running() as h:
            started = await h.start()
            status, body = await h.call(
                "GET", f"/conversations/{started['conversationId']}", params={"watermark": "abc"}
            )
            assert (status, body) == (400, {"error": {"code": "BadArgument",
                                                      "message": "watermark must be a number, got 'abc'"}})

    asyncio.run(scenario())


def test_the_stream_token_is_bound_to_its_conversation_and_refused_as_direct_line_refuses_it() -> None:
    async def scenario() -> None:
        async with running() as h:
            mine = await h.start()
            other = await h.start(user_id="user-2")
            base = mine["streamUrl"].split("/conversations/")[0] + "/conversations"
            my_token = mine["streamUrl"].split("&t=")[1]

            # Another conversation's stream with my token.
            status, body = await handshake_refusal(
                h, f"{base}/{other['conversationId']}/stream?watermark=-&t={my_token}"
            )
            assert (status, body["error"]) == (403, {"code": "BadArgument",
                                                     "message": "token is not valid for this conversation"})
            # The conversation token, the secret, or no token at all: the stream takes only its own token.
            for credential in (mine["token"], "test-directline-secret"):
                status, body = await handshake_refusal(
                    h, f"{base}/{mine['conversationId']}/stream?watermark=-&t={credential}"
                )
                assert (status, body["error"]) == (403, {"code": "BadArgument",
                                                         "message": "Security token not valid for this conversation"})
            status, body = await handshake_refusal(h, f"{base}/{mine['conversationId']}/stream?watermark=-")
            assert (status, body["error"]) == (401, {
                "code": "BadArgument", "message": "Missing token: a stream URL carries its token in the t parameter",
            })
            # The stream token is no Bearer credential for the REST routes either.
            status, body = await h.call("GET", f"/conversations/{mine['conversationId']}/activities",
                                        credential=my_token)
            assert status == 403
            # A plain GET of a valid stream URL asks for the upgrade.
            async with h.http.get(mine["streamUrl"].replace("ws://", "http://", 1)) as response:
                assert response.status == 400
                assert (await response.json())["error"]["message"] == (
                    "the stream URL takes a WebSocket upgrade request (Connection: Upgrade, Upgrade: websocket)"
                )

    asyncio.run(scenario())


def test_an_expired_stream_url_is_refused_with_403_token_expired() -> None:
    async def scenario() -> None:
        async with running(stream_url_ttl_seconds=0.05) as h:
            started = await h.start()

            async def expired() -> bool:
                async with h.http.get(started["streamUrl"].replace("ws://", "http://", 1)) as response:
                    return response.status == 403

            await poll_until(expired)
            status, body = await handshake_refusal(h, started["streamUrl"])
            assert (status, body["error"]) == (403, {
                "code": "TokenExpired",
                "message": "Token expired: get a new streamUrl by reconnecting to the conversation",
            })

    asyncio.run(scenario())


def test_stopping_the_service_closes_open_streams_as_going_away() -> None:
    async def scenario() -> None:
        async with running() as h:
            started = await h.start()
            async with opened(h, started["streamUrl"]) as socket:
                await poll_until(lambda: h.directline.service.streams.is_open(started["conversationId"]))
                await asyncio.wait_for(h.directline.close(), timeout=10)
                message = await socket.receive(timeout=RECEIVE_TIMEOUT)
                assert (message.type, message.data) == (WSMsgType.CLOSE, 1001)

    asyncio.run(scenario())
