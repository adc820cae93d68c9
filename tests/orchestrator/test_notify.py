"""The notify_bot activity end to end against a loopback Direct Line service."""

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from contract import (
    LONG_OPERATION_RESPONSE_EVENT,
    ORCHESTRATOR_SENDER,
    Outcome,
    OutcomeStatus,
    Routing,
    verify_outcome,
)
from orchestrator import blueprint
from orchestrator.errors import DirectLineError, SettingsError
from orchestrator.http_session import shared_session
from tests.devhost.directline.harness import SECRET as STAND_IN_SECRET
from tests.devhost.directline.harness import running
from tests.orchestrator.conftest import SIGNING_KEY
from tests.orchestrator.fake_directline import CONVERSATION_ID, TOKEN, FakeDirectLine, server_for

CONTINUATION = {
    "type": "event",
    "channelId": "emulator",
    "serviceUrl": "http://127.0.0.1:9/",
    "conversation": {"id": "user-conv-1"},
    "from": {"id": "user-1"},
    "recipient": {"id": "bot"},
}
UNSIGNED = Outcome("op-abc-1", "user-conv-1", OutcomeStatus.COMPLETED, "(Result for long operation one!)")
NOTIFY_INPUT = {"instanceId": "op-abc-1", "continuation": CONTINUATION, "outcome": UNSIGNED.to_json()}


def run_notify(fake: FakeDirectLine, app_settings: Callable[..., None], endpoint_suffix: str = "/v3/directline",
               **settings: str) -> Any:
    activity = blueprint.notify_bot._function.get_user_function()

    async def main() -> Any:
        async with server_for(fake) as server:
            app_settings(DirectLineEndpoint=str(server.make_url(endpoint_suffix)), **settings)
            try:
                return await activity(request=NOTIFY_INPUT)
            finally:
                await shared_session.close()

    return asyncio.run(main())


def test_posts_continuation_with_signed_outcome_the_bot_can_verify(app_settings: Callable[..., None]) -> None:
    fake = FakeDirectLine()
    output = run_notify(fake, app_settings, DirectLineSecret="dl-secret-for-tests", OperationSigningKey=SIGNING_KEY)

    posted = fake.requests[-1]
    assert posted.authorization == f"Bearer {TOKEN}"
    event = posted.body
    assert event["type"] == "event"
    assert event["name"] == LONG_OPERATION_RESPONSE_EVENT
    assert event["from"]["id"] == "dl_long-operation-orchestrator"  # the prefix enhanced authentication requires
    value = event["value"]
    assert {k: v for k, v in value.items() if k != "value"} == CONTINUATION
    outcome = Outcome.from_json(value["value"])
    routing = Routing("emulator", "http://127.0.0.1:9/", "user-conv-1", "bot", "user-1")
    assert verify_outcome(outcome, routing, SIGNING_KEY)
    assert not verify_outcome(outcome, routing, "another-key")
    # The signature covers where the continuation sends the bot, field by field.
    for changed in ({"channel_id": "msteams"}, {"service_url": "https://attacker.example/"},
                    {"conversation_id": "user-conv-2"}, {"bot_id": "another-bot"}, {"user_id": "user-2"}):
        assert not verify_outcome(outcome, replace(routing, **changed), SIGNING_KEY), changed
    # Exactly the outcome the orchestrator made, plus the signature: no timestamp (README, "No freshness window").
    assert outcome.unsigned() == UNSIGNED
    assert set(value["value"]) == {"kind", "instanceId", "conversationId", "status", "result", "reason", "signature"}

    assert output == {
        "outcome": outcome.to_json(),
        "directLineConversationId": CONVERSATION_ID,
        "directLineActivityId": f"{CONVERSATION_ID}|0000001",
    }


def test_the_conversation_starts_with_the_event_sender_as_its_user(app_settings: Callable[..., None]) -> None:
    fake = FakeDirectLine()
    run_notify(fake, app_settings, DirectLineSecret="dl-secret-for-tests", OperationSigningKey=SIGNING_KEY)

    start, post = fake.requests
    assert start.path.endswith("/conversations")
    # TokenParameters, as DirectLineJS sends them; the same account the event comes from.
    assert start.body == {"user": ORCHESTRATOR_SENDER}
    assert post.body["from"] == ORCHESTRATOR_SENDER


def test_the_bot_gets_one_conversation_update_for_several_notifications_through_the_stand_in(
    app_settings: Callable[..., None],
) -> None:
    activity = blueprint.notify_bot._function.get_user_function()

    async def scenario() -> list[tuple[str, list[str]]]:
        async with running() as h:
            app_settings(DirectLineEndpoint=h.url, DirectLineSecret=STAND_IN_SECRET, OperationSigningKey=SIGNING_KEY)
            try:
                for _ in range(3):
                    await activity(request=NOTIFY_INPUT)
            finally:
                await shared_session.close()
            assert h.bot is not None
            return [(a["type"], [m["id"] for m in a.get("membersAdded", [])]) for a in h.bot.received]

    # Without the user at the start, the first post added them with a second conversationUpdate; without the carrier
    # every outcome started its own conversation. Each was one more bot turn, awaited in front of the event.
    assert asyncio.run(scenario()) == [
        ("conversationUpdate", ["bot", ORCHESTRATOR_SENDER["id"]]),
        ("event", []),
        ("event", []),
        ("event", []),
    ]


def test_local_endpoint_with_trailing_slash_works(app_settings: Callable[..., None]) -> None:
    fake = FakeDirectLine()
    run_notify(fake, app_settings, endpoint_suffix="/v3/directline/", DirectLineSecret="dl-secret-for-tests",
               OperationSigningKey=SIGNING_KEY)
    assert len(fake.requests) == 2


def test_direct_line_error_propagates_so_the_retry_policy_acts(app_settings: Callable[..., None]) -> None:
    fake = FakeDirectLine(failures={"post": (502, "BotRejectedActivity", "bot answered 500")})
    with pytest.raises(DirectLineError, match="HTTP 502"):
        run_notify(fake, app_settings, DirectLineSecret="dl-secret-for-tests", OperationSigningKey=SIGNING_KEY)


def test_missing_secrets_fail_naming_the_settings(app_settings: Callable[..., None]) -> None:
    fake = FakeDirectLine()
    with pytest.raises(SettingsError, match="DirectLineSecret, OperationSigningKey"):
        run_notify(fake, app_settings)
    assert fake.requests == []
