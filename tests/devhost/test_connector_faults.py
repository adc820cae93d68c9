"""Fault mode of the Bot Connector routes (devhost/connector_faults.py): the chat's Python API and the stand-in's
``/devhost/faults`` control route, each answering the bot's posts as a failing channel would."""

import asyncio
from typing import Any

import aiohttp
import pytest

from devhost.chat import ChatClient, ChatConfig
from devhost.connector_faults import ConnectorFaults, FaultKind, parse_fault
from tests.devhost.directline.harness import Harness, running
from tests.faults.harness import poll

REPLY = {"type": "message", "text": "the result", "from": {"id": "bot"}}


async def bot_posts(h: Harness, conversation_id: str, times: int = 1) -> list[tuple[int, Any, str | None]]:
    """What the stand-in answers the bot's next ``times`` posts to the conversation: status, body, Retry-After."""
    answers = []
    for _ in range(times):
        url = f"{h.directline.base_url}/v3/conversations/{conversation_id}/activities"
        async with h.http.post(url, json=REPLY) as response:
            answers.append((response.status, await response.json(), response.headers.get("Retry-After")))
    return answers


async def control(h: Harness, method: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """Call /devhost/faults with the Direct Line secret."""
    url = f"{h.directline.base_url}/devhost/faults"
    async with h.http.request(method, url, json=body, headers=h.auth()) as response:
        return response.status, await response.json()


def test_the_control_route_needs_the_secret() -> None:
    async def scenario() -> None:
        async with running() as h:
            token = (await h.start())["token"]
            url = f"{h.directline.base_url}/devhost/faults"
            async with h.http.post(url, json={"kind": "unavailable"}) as response:
                assert response.status == 401
                assert (await response.json())["error"] == {"code": "BadArgument", "message": "Missing token or secret"}
            async with h.http.post(url, json={"kind": "unavailable"}, headers=h.auth(token)) as response:
                assert response.status == 403
                assert (await response.json())["error"]["message"] == (
                    "the fault control needs the Direct Line secret, not a conversation's token")
            assert h.directline.faults.planned() == []

    asyncio.run(scenario())


@pytest.mark.parametrize(("body", "message"), [
    ({}, "kind is required"),
    ({"kind": "explode"}, "kind must be one of unavailable, throttled, hang, gone, lost, got 'explode'"),
    ({"kind": "gone", "count": 0}, "count must be a whole number of posts, at least 1, got 0"),
    ({"kind": "gone", "color": "red"}, "unknown field(s) color; expected some of after, conversationId, count, kind, "
                                       "retryAfter"),
    ({"kind": "throttled", "retryAfter": "soon"}, "retryAfter must be a number of seconds, got 'soon'"),
])
def test_a_bad_fault_is_400_naming_what_is_wrong(body: dict[str, Any], message: str) -> None:
    async def scenario() -> None:
        async with running() as h:
            status, answer = await control(h, "POST", body)
            assert (status, answer["error"]["message"]) == (400, message)

    asyncio.run(scenario())


def test_the_next_posts_to_a_conversation_fail_as_planned_in_the_bot_connectors_error_shape() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            other = (await h.start(user_id="user-2"))["conversationId"]
            for fault in ({"kind": "unavailable", "conversationId": conversation_id, "count": 2},
                          {"kind": "gone", "conversationId": conversation_id}):
                status, _ = await control(h, "POST", fault)
                assert status == 201
            answers = await bot_posts(h, conversation_id, 4)
            assert [(status, body.get("error", {}).get("code")) for status, body, _ in answers] == [
                (503, "ServiceError"), (503, "ServiceError"), (404, "ConversationNotFound"), (200, None)]
            assert answers[2][1]["error"]["message"] == f"conversation {conversation_id!r} not found (devhost fault)"
            # Another conversation is untouched, and the stored transcript has only the post that passed.
            assert (await bot_posts(h, other))[0][0] == 200
            texts = [a.get("text") for a in (await h.activities(conversation_id))["activities"]]
            assert texts.count("the result") == 1
            status, listed = await control(h, "GET")
            assert status == 200 and listed["planned"] == []
            assert [(a["kind"], a["status"]) for a in listed["answered"]] == [
                ("unavailable", 503), ("unavailable", 503), ("gone", 404)]
            await control(h, "POST", {"kind": "gone"})
            assert await control(h, "DELETE") == (200, {"planned": []})
            assert (await bot_posts(h, conversation_id))[0][0] == 200

    asyncio.run(scenario())


def test_a_throttled_conversation_answers_429_with_retry_after_until_it_has_passed() -> None:
    now = [100.0]
    faults = ConnectorFaults(clock=lambda: now[0])

    async def scenario() -> None:
        faults.inject(FaultKind.THROTTLED, conversation_id="c1", retry_after_seconds=3)
        first = await faults.answer("c1")
        assert first is not None and (first.status, first.headers["Retry-After"]) == (429, "3")
        now[0] += 1.5  # too soon: throttled again, for what is left, without using up another planned fault
        again = await faults.answer("c1")
        assert again is not None and (again.status, again.headers["Retry-After"]) == (429, "2")
        now[0] += 1.5
        assert await faults.answer("c1") is None
        assert [fault.kind for fault in faults.answered] == [FaultKind.THROTTLED, FaultKind.THROTTLED]

    asyncio.run(scenario())


def test_after_lets_posts_through_first_and_none_means_any_conversation() -> None:
    faults = ConnectorFaults()

    async def scenario() -> list[int | None]:
        faults.inject("unavailable", after=1)
        answers = [await faults.answer(conversation) for conversation in ("a", "b", "c")]
        return [None if answer is None else answer.status for answer in answers]

    assert asyncio.run(scenario()) == [None, 503, None]


def test_a_hanging_post_is_seen_at_once_and_released_when_the_app_shuts_down() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            h.directline.faults.inject(FaultKind.HANG, conversation_id=conversation_id)
            hanging = asyncio.create_task(bot_posts(h, conversation_id))
            faults = h.directline.faults

            async def seen() -> bool:
                return bool(faults.answered)

            await poll(seen, lambda: "the hanging post to arrive", timeout=10)
            assert not hanging.done()
            faults.release()
            [(status, body, _)] = await asyncio.wait_for(hanging, 10)
            assert (status, body["error"]["code"]) == (503, "ServiceError")

    asyncio.run(scenario())


def test_a_lost_answer_stores_the_post_and_answers_the_bot_504_only_later() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            faults = h.directline.faults
            faults.inject(FaultKind.LOST, conversation_id=conversation_id)
            losing = asyncio.create_task(bot_posts(h, conversation_id, 2))

            async def shown() -> bool:
                texts = [a.get("text") for a in (await h.activities(conversation_id))["activities"]]
                return texts == ["the result"]

            # The user already sees the post while the bot still waits for its answer.
            await poll(shown, lambda: "the post to be shown", timeout=10)
            assert not losing.done()
            assert [(fault.kind, fault.status) for fault in faults.answered] == [(FaultKind.LOST, 504)]
            faults.release()
            [(status, body, _), (next_status, _, _)] = await asyncio.wait_for(losing, 10)
            assert (status, body) == (504, {"error": {"code": "GatewayTimeout",
                                                      "message": "no answer for 120 s (devhost fault)"}})
            # Only the one post lost its answer; the bot's send again is stored a second time, as Azure would.
            assert next_status == 200
            texts = [a.get("text") for a in (await h.activities(conversation_id))["activities"]]
            assert texts == ["the result", "the result"]

    asyncio.run(scenario())


def test_the_chat_serves_the_same_fault_mode_to_the_bot() -> None:
    async def scenario() -> None:
        async with ChatClient(ChatConfig(faults=(parse_fault("gone"),))) as chat:
            conversation_id = "c|livechat"
            async with aiohttp.ClientSession() as http:
                url = f"{chat.service_url}/v3/conversations/{conversation_id}/activities"
                async with http.post(url, json=REPLY) as response:
                    assert response.status == 404
                    assert (await response.json())["error"]["code"] == "ConversationNotFound"
            assert [fault.kind for fault in chat.faults.answered] == [FaultKind.GONE]

    asyncio.run(scenario())


@pytest.mark.parametrize(("text", "expected"), [
    ("unavailable", {"kind": "unavailable", "count": 1, "after": 0}),
    ("throttledx2:3", {"kind": "throttled", "count": 2, "after": 0, "retry_after_seconds": 3.0}),
    ("gone@1", {"kind": "gone", "count": 1, "after": 1}),
    ("lostx2", {"kind": "lost", "count": 2, "after": 0}),
])
def test_the_fault_flag_parses(text: str, expected: dict[str, Any]) -> None:
    assert parse_fault(text) == expected


def test_a_bad_fault_flag_names_the_problem() -> None:
    with pytest.raises(ValueError,
                       match="--fault 'boom': the kind must be one of unavailable, throttled, hang, gone, lost"):
        parse_fault("boom")


def test_the_stand_in_starts_with_the_faults_of_its_config() -> None:
    async def scenario() -> None:
        async with running(faults=(parse_fault("unavailable"),)) as h:
            conversation_id = (await h.start())["conversationId"]
            assert [status for status, _, _ in await bot_posts(h, conversation_id, 2)] == [503, 200]

    asyncio.run(scenario())



def test_a_fault_flag_with_a_bad_retry_after_is_refused_when_parsed() -> None:
    with pytest.raises(ValueError, match=r"--fault 'throttled:-1': retry_after_seconds must be 0-3600, got -1.0"):
        parse_fault("throttled:-1")


def test_the_chat_cli_refuses_a_bad_fault_flag(capsys: pytest.CaptureFixture[str]) -> None:
    from devhost.chat.cli import main

    assert main(["--fault", "gonex0"]) == 2
    assert "--fault 'gonex0': count must be a whole number of posts, at least 1, got 0" in capsys.readouterr().err
