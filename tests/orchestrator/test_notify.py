"""The notify_bot activity end to end against a loopback Direct Line service."""

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from contract import (
    DELIVERY_RECEIPT_EVENT,
    LONG_OPERATION_RESPONSE_EVENT,
    ORCHESTRATOR_SENDER,
    DeliveryReceipt,
    Outcome,
    OutcomeStatus,
    Question,
    ReceiptVerdict,
    Routing,
    sign_receipt,
    verify_outcome,
    verify_question,
)
from devhost.functions.invoker import InvocationContext
from orchestrator import blueprint
from orchestrator.errors import BotTurnFailed, DirectLineError, SettingsError
from orchestrator.http_session import shared_session
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
                return await activity(request=NOTIFY_INPUT, context=InvocationContext("notify_bot", "."))
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


@pytest.mark.bot_framework
def test_the_bot_gets_one_conversation_update_for_several_notifications_through_the_stand_in(
    app_settings: Callable[..., None],
) -> None:
    # The harness serves a botbuilder bot behind the stand-in: imported here, so this module also runs where only
    # the function app's requirements are installed (`make pytest-py313` leaves the bot_framework tests out).
    from tests.devhost.directline.harness import SECRET as STAND_IN_SECRET
    from tests.devhost.directline.harness import running

    activity = blueprint.notify_bot._function.get_user_function()

    async def scenario() -> list[tuple[str, list[str]]]:
        async with running() as h:
            app_settings(DirectLineEndpoint=h.url, DirectLineSecret=STAND_IN_SECRET, OperationSigningKey=SIGNING_KEY)
            try:
                for _ in range(3):
                    await activity(request=NOTIFY_INPUT, context=InvocationContext("notify_bot", "."))
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


def receipt_activity(verdict: ReceiptVerdict, key: str = SIGNING_KEY, instance_id: str = "op-abc-1") -> dict[str, Any]:
    receipt = DeliveryReceipt(instance_id, verdict, 404 if verdict is ReceiptVerdict.REFUSED else 503,
                              "ConversationNotFound" if verdict is ReceiptVerdict.REFUSED else "ServiceError",
                              "conversation not found" if verdict is ReceiptVerdict.REFUSED else "later")
    return {"type": "event", "name": DELIVERY_RECEIPT_EVENT, "replyToId": f"{CONVERSATION_ID}|0000001",
            "value": sign_receipt(receipt, key).to_json()}


def bot_failed_with(*receipts: dict[str, Any]) -> FakeDirectLine:
    """Direct Line answering the post 502 (the bot's turn failed), with what the bot posted in the conversation."""
    fake = FakeDirectLine(failures={"post": (502, "BotRejectedActivity", "bot answered 410")})
    fake.transcript.extend([{"type": "event", "name": LONG_OPERATION_RESPONSE_EVENT, "value": {}}, *receipts])
    return fake


def test_a_refusal_receipt_ends_the_delivery_with_the_refusal_in_the_result(app_settings: Callable[..., None]) -> None:
    fake = bot_failed_with(receipt_activity(ReceiptVerdict.REFUSED))
    output = run_notify(fake, app_settings, DirectLineSecret="dl-secret-for-tests", OperationSigningKey=SIGNING_KEY)

    refusal = DeliveryReceipt.from_json(output["refusal"])
    assert (refusal.instance_id, refusal.verdict, refusal.describe()) == (
        "op-abc-1", ReceiptVerdict.REFUSED, "HTTP 404, code ConversationNotFound: conversation not found")
    assert output["directLineActivityId"] == ""
    # Read only after the failed post (page by page, until a page is empty).
    methods = [request.method for request in fake.requests]
    assert methods[:2] == ["POST", "POST"] and set(methods[2:]) == {"GET"}, methods


def test_a_deferral_receipt_fails_the_attempt_naming_the_channels_answer(app_settings: Callable[..., None]) -> None:
    fake = bot_failed_with(receipt_activity(ReceiptVerdict.DEFERRED))
    expected = ("Direct Line post activity failed: HTTP 502, code BotRejectedActivity, the bot could not deliver the "
                "outcome to the conversation yet (HTTP 503, code ServiceError: later)")
    with pytest.raises(DirectLineError) as raised:
        run_notify(fake, app_settings, DirectLineSecret="dl-secret-for-tests", OperationSigningKey=SIGNING_KEY)
    assert str(raised.value) == expected


@pytest.mark.parametrize("receipt", [
    receipt_activity(ReceiptVerdict.REFUSED, key="another-key"),
    receipt_activity(ReceiptVerdict.REFUSED, instance_id="op-other-2"),
])
def test_a_forged_or_foreign_receipt_is_ignored_and_the_attempt_fails_for_a_retry(
    app_settings: Callable[..., None], receipt: dict[str, Any]
) -> None:
    fake = bot_failed_with(receipt)
    with pytest.raises(BotTurnFailed, match="HTTP 502"):
        run_notify(fake, app_settings, DirectLineSecret="dl-secret-for-tests", OperationSigningKey=SIGNING_KEY)


def test_a_delivered_outcome_costs_no_read_of_the_conversation(app_settings: Callable[..., None]) -> None:
    fake = FakeDirectLine()
    run_notify(fake, app_settings, DirectLineSecret="dl-secret-for-tests", OperationSigningKey=SIGNING_KEY)
    assert [request.method for request in fake.requests] == ["POST", "POST"]


QUESTION = Question("op-abc-1", "user-conv-1", 1, "Delete the 60 duplicates?", ("Yes", "No"), 120.0,
                    "2026-12-02T00:02:00+00:00")
ASK_INPUT = {"instanceId": "op-abc-1", "continuation": CONTINUATION, "question": QUESTION.to_json()}


def run_ask(fake: FakeDirectLine, app_settings: Callable[..., None]) -> Any:
    activity = blueprint.ask_bot._function.get_user_function()

    async def main() -> Any:
        async with server_for(fake) as server:
            app_settings(DirectLineEndpoint=str(server.make_url("/v3/directline")),
                         DirectLineSecret="dl-secret-for-tests", OperationSigningKey=SIGNING_KEY)
            try:
                return await activity(request=ASK_INPUT, context=InvocationContext("ask_bot", "."))
            finally:
                await shared_session.close()

    return asyncio.run(main())


def test_ask_bot_posts_the_signed_question_in_the_outcomes_event(app_settings: Callable[..., None]) -> None:
    fake = FakeDirectLine()
    output = run_ask(fake, app_settings)

    posted = fake.requests[-1].body
    assert (posted["type"], posted["name"], posted["from"]) == ("event", LONG_OPERATION_RESPONSE_EVENT,
                                                               ORCHESTRATOR_SENDER)
    question = Question.from_json(posted["value"]["value"])
    assert verify_question(question, Routing.of(CONTINUATION), SIGNING_KEY)
    assert question.unsigned() == QUESTION
    assert output == {"directLineConversationId": CONVERSATION_ID, "directLineActivityId": f"{CONVERSATION_ID}|0000001"}


def test_ask_bot_reports_the_conversations_refusal_and_names_a_deferral(app_settings: Callable[..., None]) -> None:
    refused = run_ask(bot_failed_with(receipt_activity(ReceiptVerdict.REFUSED)), app_settings)
    assert DeliveryReceipt.from_json(refused["refusal"]).describe() == (
        "HTTP 404, code ConversationNotFound: conversation not found")
    with pytest.raises(DirectLineError) as raised:
        run_ask(bot_failed_with(receipt_activity(ReceiptVerdict.DEFERRED)), app_settings)
    assert str(raised.value) == ("Direct Line post activity failed: HTTP 502, code BotRejectedActivity, the bot could "
                                 "not deliver the question to the conversation yet (HTTP 503, code ServiceError: "
                                 "later)")


@pytest.mark.bot_framework
def test_a_burst_of_outcomes_through_the_throttling_stand_in_is_delivered_each_once(
    app_settings: Callable[..., None],
) -> None:
    from devhost.directline.throttle import ThrottleRule
    from tests.devhost.directline.harness import SECRET as STAND_IN_SECRET
    from tests.devhost.directline.harness import running

    activity = blueprint.notify_bot._function.get_user_function()
    instance_ids = [f"op-burst-{n}" for n in range(12)]

    def request(instance_id: str) -> dict[str, Any]:
        outcome = replace(UNSIGNED, instance_id=instance_id)
        return {"instanceId": instance_id, "continuation": CONTINUATION, "outcome": outcome.to_json()}

    async def scenario() -> tuple[list[Any], list[str], int]:
        # 3 posts per conversation in a minute: the burst outruns its carrier three times over, deterministically.
        async with running(throttle=(ThrottleRule(3, 60),)) as h:
            app_settings(DirectLineEndpoint=h.url, DirectLineSecret=STAND_IN_SECRET, OperationSigningKey=SIGNING_KEY)
            try:
                results = await asyncio.gather(*(activity(request=request(i),
                                                          context=InvocationContext("notify_bot", "."))
                                                 for i in instance_ids))
            finally:
                await shared_session.close()
            assert h.bot is not None
            delivered = [a["value"]["value"]["instanceId"] for a in h.bot.received if a["type"] == "event"]
            started = sum(1 for a in h.bot.received if a["type"] == "conversationUpdate")
            return results, delivered, started

    results, delivered, started = asyncio.run(scenario())
    assert [result["outcome"]["instanceId"] for result in results] == instance_ids
    # Every outcome reached the bot exactly once; 12 posts at 3 per conversation took at least 4 carriers.
    assert sorted(delivered) == sorted(instance_ids)
    assert started >= 4
