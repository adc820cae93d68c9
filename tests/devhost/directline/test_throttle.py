"""The stand-in's throttling: a sliding window per conversation, 429 with Retry-After on both faces when it is full."""

import asyncio

import pytest

from devhost.directline.cli import config_from_args, main, parse_args
from devhost.directline.throttle import ConversationThrottle, ThrottleRule, parse_throttle
from tests.devhost.directline.harness import running


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_a_full_window_refuses_with_the_whole_seconds_until_it_has_room() -> None:
    clock = Clock()
    throttle = ConversationThrottle((ThrottleRule(2, 3),), clock)
    assert [throttle.admit("c1"), throttle.admit("c1")] == [None, None]
    clock.now += 0.5
    assert throttle.admit("c1") == 3.0  # the first post leaves the window 2.5 s from now: whole seconds, rounded up
    clock.now += 2.4
    assert throttle.admit("c1") == 1.0  # coming back sooner than told is refused again
    clock.now += 0.1
    assert throttle.admit("c1") is None


def test_refused_posts_are_not_counted_and_conversations_are_throttled_apart() -> None:
    clock = Clock()
    throttle = ConversationThrottle((ThrottleRule(1, 1),), clock)
    assert throttle.admit("c1") is None
    assert [throttle.admit("c1") for _ in range(5)] == [1.0] * 5
    assert throttle.admit("c2") is None
    clock.now += 1
    assert throttle.admit("c1") is None


def test_every_window_applies_as_in_teams_published_table() -> None:
    clock = Clock()
    throttle = ConversationThrottle(parse_throttle("7/1,8/2"), clock)
    assert [throttle.admit("c") for _ in range(8)] == [None] * 7 + [1.0]
    clock.now += 1
    assert throttle.admit("c") is None  # the 1 s window is empty again, the 2 s window has one place left
    assert throttle.admit("c") == 1.0  # 8 in 2 s: room once the first seven leave, at 2 s
    clock.now += 1
    assert throttle.admit("c") is None


def test_throttle_text_is_parsed_and_a_bad_one_is_named() -> None:
    assert parse_throttle("1/1") == (ThrottleRule(1, 1.0),)
    assert parse_throttle("7/1s, 60/30s") == (ThrottleRule(7, 1.0), ThrottleRule(60, 30.0))
    with pytest.raises(ValueError) as bad_form:
        parse_throttle("7/1,fast")
    assert str(bad_form.value) == ("--throttle '7/1,fast': expected COUNT/SECONDS[,COUNT/SECONDS...] such as 1/1 or "
                                   "7/1s,60/30s, got 'fast'")
    with pytest.raises(ValueError) as zero:
        parse_throttle("0/1")
    assert str(zero.value) == "--throttle '0/1': a throttle rule allows at least 1 post, got 0"
    with pytest.raises(ValueError) as no_window:
        parse_throttle("3/0")
    assert str(no_window.value) == ("--throttle '3/0': a throttle rule's window is more than 0 and at most 86400 "
                                    "seconds, got 0")


def test_the_flag_turns_throttling_on_and_a_bad_one_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    environ = {"DirectLineSecret": "s"}
    assert config_from_args(parse_args([]), environ).throttle == ()
    assert config_from_args(parse_args(["--throttle", "2/1"]), environ).throttle == (ThrottleRule(2, 1.0),)
    assert main(["--secret", "s", "--throttle", "2 per second"]) == 2
    assert capsys.readouterr().err == (
        "devhost directline: --throttle '2 per second': expected COUNT/SECONDS[,COUNT/SECONDS...] such as 1/1 or "
        "7/1s,60/30s, got '2 per second'\n"
    )


def test_a_client_post_past_the_rate_is_429_with_retry_after_and_never_reaches_the_bot() -> None:
    async def scenario() -> None:
        async with running(throttle=(ThrottleRule(1, 60),)) as h:
            clock = Clock()
            service = h.directline.service
            assert service.client_posts is not None and service.bot_posts is not None
            service.client_posts.clock = service.bot_posts.clock = clock
            conversation_id = (await h.start())["conversationId"]
            other_id = (await h.start(user_id="user-2"))["conversationId"]
            assert (await h.say(conversation_id, "one"))[0] == 200
            url = f"{h.url}/conversations/{conversation_id}/activities"
            activity = {"type": "message", "text": "two", "from": {"id": "user-1"}}
            async with h.http.post(url, json=activity, headers=h.auth()) as response:
                assert response.status == 429
                assert response.headers["Retry-After"] == "60"
                assert await response.json() == {"error": {
                    "code": "TooManyRequests",
                    "message": f"too many requests to conversation {conversation_id!r} (at most 1/60s); retry "
                               "after 60 s",
                }}
            assert (await h.say(other_id, "elsewhere"))[0] == 200
            texts = [a.get("text") for a in (await h.activities(conversation_id))["activities"]]
            assert texts == ["one", "echo: one"]
            clock.now += 60
            assert (await h.say(conversation_id, "three"))[0] == 200

    asyncio.run(scenario())


def test_a_bot_post_past_the_rate_is_429_throttled_with_retry_after_and_is_not_stored() -> None:
    async def scenario() -> None:
        async with running(throttle=(ThrottleRule(1, 30),)) as h:
            conversation_id = (await h.start())["conversationId"]
            url = f"{h.directline.base_url}/v3/conversations/{conversation_id}/activities"
            reply = {"type": "message", "text": "from the bot", "from": {"id": "bot"}}
            async with h.http.post(url, json=reply) as response:
                assert response.status == 200
            async with h.http.post(url, json={**reply, "text": "too soon"}) as response:
                assert response.status == 429
                assert response.headers["Retry-After"] == "30"
                assert await response.json() == {"error": {
                    "code": "Throttled",
                    "message": f"too many requests to conversation {conversation_id!r} (at most 1/30s); retry "
                               "after 30 s",
                }}
            texts = [a.get("text") for a in (await h.activities(conversation_id))["activities"]]
            assert texts == ["from the bot"]

    asyncio.run(scenario())


def test_without_the_flag_nothing_is_throttled() -> None:
    async def scenario() -> None:
        async with running() as h:
            assert h.directline.service.client_posts is None
            conversation_id = (await h.start())["conversationId"]
            statuses = [(await h.say(conversation_id, str(n)))[0] for n in range(20)]
            assert statuses == [200] * 20

    asyncio.run(scenario())
