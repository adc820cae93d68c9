"""The aiohttp endpoint with the real CloudAdapter, a fake Bot Connector and the fake function app on loopback."""

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.cloud import BotFrameworkCloud
from bot.conversation_leases import LeaseHolder
from bot.settings import BotSettings
from bot.sqlite_coordination import SqliteCoordination, SqliteLeases
from contract import DeliveryReceipt, Outcome, OutcomeStatus, ReceiptVerdict, Routing, sign_outcome, verify_receipt
from tests.bot.fake_operations_service import FakeOperationsService
from tests.bot.harness import SIGNING_KEY, CopyingMemoryStorage


class FakeBotConnector:
    """The channel's side of ``serviceUrl``: records what the bot sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        # conversation id -> what its next posts answer: an error status (with an error body), or 0 to take it
        self.failures: dict[str, list[int]] = {}
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._send)
        self.server = TestServer(app, host="127.0.0.1")

    async def _send(self, request: web.Request) -> web.Response:
        planned = self.failures.get(request.match_info["cid"])
        status = planned.pop(0) if planned else 0
        if status:
            return web.json_response({"error": {"code": "ConversationNotFound" if status == 404 else "ServiceError",
                                                "message": f"failed on purpose ({status})"}}, status=status)
        activity = await request.json()
        activity["_posted_to"] = request.match_info["cid"]
        activity["_authorization"] = request.headers.get("Authorization")
        activity["_reply_route"] = request.match_info.get("aid")  # the reply route's activity id, or None
        self.sent.append(activity)
        return web.json_response({"id": f"sent-{len(self.sent)}"})

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def texts(self) -> list[str]:
        return [str(activity.get("text")) for activity in self.sent]


Test = Callable[[TestClient[web.Request, web.Application], FakeBotConnector, FakeOperationsService], Awaitable[None]]


def run(test: Test, app_id: str = "", max_concurrent_turns: int = 8, cloud: BotFrameworkCloud | None = None) -> None:
    async def main() -> None:
        connector = FakeBotConnector()
        await connector.server.start_server()
        try:
            async with FakeOperationsService() as service:
                settings = BotSettings(signing_key=SIGNING_KEY, operations_url=service.url, app_id=app_id,
                                       app_password="secret" if app_id else "",
                                       max_concurrent_turns=max_concurrent_turns,
                                       cloud=cloud or BotFrameworkCloud())
                async with TestClient(TestServer(create_app(settings, CopyingMemoryStorage()))) as client:
                    await test(client, connector, service)
        finally:
            await connector.server.close()

    asyncio.run(main())


def message(connector: FakeBotConnector, text: str, conversation: str = "user-conversation") -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"in-{text}",
        "text": text,
        "channelId": "directline",
        "serviceUrl": connector.url,
        "conversation": {"id": conversation},
        "from": {"id": "user-1"},
        "recipient": {"id": "bot"},
    }


def test_health_answers_ok() -> None:
    async def test(client: TestClient[web.Request, web.Application], *_: object) -> None:
        response = await client.get("/api/health")
        assert response.status == 200
        assert await response.json() == {"status": "ok"}

    run(test)


def test_a_message_is_accepted_with_201_and_answered_through_the_connector() -> None:
    async def test(client: TestClient[web.Request, web.Application], connector: FakeBotConnector, *_: object) -> None:
        response = await client.post("/api/messages", json=message(connector, "hi"))
        assert response.status == 201
        assert connector.texts() == ["Please select a long operation test option."]
        assert connector.sent[0]["_posted_to"] == "user-conversation"

    run(test)


def test_a_non_json_body_is_refused_with_415() -> None:
    async def test(client: TestClient[web.Request, web.Application], *_: object) -> None:
        response = await client.post("/api/messages", data="hi", headers={"Content-Type": "text/plain"})
        assert response.status == 415

    run(test)


def test_without_authorization_a_bot_with_an_app_id_answers_401() -> None:
    async def test(client: TestClient[web.Request, web.Application], connector: FakeBotConnector, *_: object) -> None:
        response = await client.post("/api/messages", json=message(connector, "hi"))
        assert response.status == 401
        assert connector.sent == []

    run(test, app_id="00000000-0000-0000-0000-000000000001")


def test_the_whole_flow_over_http_delivers_the_outcome_to_the_users_conversation() -> None:
    async def test(
        client: TestClient[web.Request, web.Application], connector: FakeBotConnector, service: FakeOperationsService
    ) -> None:
        event = await start_option_1(client, connector, service)
        assert (await client.post("/api/messages", json=event)).status == 201
        assert connector.texts() == [
            "Thanks for waiting. (Result for long operation one!)",
            "Please select a long operation test option.",
        ]
        assert {activity["_posted_to"] for activity in connector.sent} == {"user-conversation"}

    run(test)


async def start_option_1(client: TestClient[web.Request, web.Application], connector: FakeBotConnector,
                         service: FakeOperationsService) -> dict[str, Any]:
    """The user waits for option 1; returns the outcome event the function app would post for it."""
    for text in ("hi", "option 1"):
        assert (await client.post("/api/messages", json=message(connector, text))).status == 201
    instance_id, instance = service.only_instance()
    continuation = dict(instance.request.continuation)
    outcome = sign_outcome(
        Outcome(instance_id, "user-conversation", OutcomeStatus.COMPLETED, "(Result for long operation one!)"),
        Routing.of(continuation),
        SIGNING_KEY,
    )
    continuation["value"] = outcome.to_json()
    event = {**message(connector, "", conversation="function-app-conversation"), "type": "event",
             "name": "LongOperationResponse", "value": continuation, "id": "function-app-conversation|0000001"}
    del event["text"]
    connector.sent.clear()
    return event


def test_a_user_conversation_that_is_gone_fails_the_events_turn_with_410_and_a_signed_receipt() -> None:
    async def test(
        client: TestClient[web.Request, web.Application], connector: FakeBotConnector, service: FakeOperationsService
    ) -> None:
        event = await start_option_1(client, connector, service)
        connector.failures["user-conversation"] = [404]
        response = await client.post("/api/messages", json=event)
        assert response.status == 410
        assert (await response.json())["error"]["code"] == "ConversationGone"
        [receipt_activity] = connector.sent
        assert receipt_activity["_posted_to"] == "function-app-conversation"
        assert (receipt_activity["type"], receipt_activity["name"], receipt_activity["replyToId"]) == (
            "event", "LongOperationDeliveryReceipt", "function-app-conversation|0000001")
        receipt = DeliveryReceipt.from_json(receipt_activity["value"])
        assert verify_receipt(receipt, SIGNING_KEY)
        assert (receipt.instance_id, receipt.verdict, receipt.describe()) == (
            service.only_instance()[0], ReceiptVerdict.REFUSED,
            "HTTP 404, code ConversationNotFound: failed on purpose (404)")

    run(test)


def test_a_user_conversation_failing_once_fails_the_events_turn_and_the_retry_delivers_once() -> None:
    async def test(
        client: TestClient[web.Request, web.Application], connector: FakeBotConnector, service: FakeOperationsService
    ) -> None:
        event = await start_option_1(client, connector, service)
        connector.failures["user-conversation"] = [503]
        response = await client.post("/api/messages", json=event)
        assert response.status == 503
        assert (await response.json())["error"]["code"] == "DeliveryDeferred"
        [receipt_activity] = connector.sent
        assert DeliveryReceipt.from_json(receipt_activity["value"]).verdict is ReceiptVerdict.DEFERRED
        connector.sent.clear()
        # notify_bot's retry: the prompt still waited (no apology, no reset), so the result arrives now, once.
        assert (await client.post("/api/messages", json=event)).status == 201
        assert connector.texts() == ["Thanks for waiting. (Result for long operation one!)",
                                     "Please select a long operation test option."]
        # And a third copy (at-least-once) is dropped.
        connector.sent.clear()
        assert (await client.post("/api/messages", json=event)).status == 201
        assert connector.sent == []

    run(test)


def test_a_retry_after_the_result_went_out_sends_only_what_is_missing() -> None:
    async def test(
        client: TestClient[web.Request, web.Application], connector: FakeBotConnector, service: FakeOperationsService
    ) -> None:
        event = await start_option_1(client, connector, service)
        connector.failures["user-conversation"] = [0, 503]  # the result goes out, the prompt after it fails
        assert (await client.post("/api/messages", json=event)).status == 503
        assert connector.texts()[0] == "Thanks for waiting. (Result for long operation one!)"
        connector.sent.clear()
        assert (await client.post("/api/messages", json=event)).status == 201
        assert connector.texts() == ["Please select a long operation test option."]

    run(test)


def test_a_turn_waiting_on_a_hung_function_app_leaves_its_slot_to_other_users() -> None:
    """One turn slot; user A's start hangs at the function app; user B is still answered (bot/turn_slots.py)."""

    async def test(
        client: TestClient[web.Request, web.Application], connector: FakeBotConnector, service: FakeOperationsService
    ) -> None:
        await client.post("/api/messages", json=message(connector, "hi", conversation="a"))
        service.hang_until = asyncio.Event()
        starting = asyncio.ensure_future(client.post("/api/messages", json=message(connector, "option 1", "a")))
        for _ in range(500):
            if service.seen_keys and service.seen_keys[-1][0] == "/api/operations":
                break
            await asyncio.sleep(0.01)
        assert service.seen_keys[-1][0] == "/api/operations"

        response = await asyncio.wait_for(client.post("/api/messages", json=message(connector, "hi", "b")), 30)

        assert response.status == 201
        assert [a["text"] for a in connector.sent if a["_posted_to"] == "b"] == [
            "Please select a long operation test option."]
        assert not starting.done()
        service.hang_until.set()
        assert (await starting).status == 201
        assert "...one moment please...." in [a["text"] for a in connector.sent if a["_posted_to"] == "a"]

    run(test, max_concurrent_turns=1)


def test_a_conversation_another_instance_keeps_leased_answers_503_and_runs_no_turn_until_the_lease_lapses(
        tmp_path: Path) -> None:
    async def main() -> None:
        connector = FakeBotConnector()
        await connector.server.start_server()
        path = tmp_path / "state.sqlite"
        other = SqliteCoordination(path)
        try:
            async with FakeOperationsService() as service:
                settings = BotSettings(signing_key=SIGNING_KEY, operations_url=service.url,
                                       state_store=f"sqlite:{path}", lease_seconds=1)
                async with TestClient(TestServer(create_app(settings))) as client:
                    leases, stuck = SqliteLeases(other), LeaseHolder(str(uuid.uuid4()), "another-host:1")
                    assert await leases.try_acquire("directline/user-conversation", stuck, 1) is not None

                    async def keep_renewing() -> None:
                        while True:
                            await leases.renew("directline/user-conversation", stuck, 1)
                            await asyncio.sleep(0.2)

                    renewing = asyncio.create_task(keep_renewing())
                    response = await client.post("/api/messages", json=message(connector, "hi"))
                    renewing.cancel()
                    assert response.status == 503
                    body = await response.json()
                    assert body["error"]["code"] == "ConversationBusy"
                    assert re.fullmatch(r"the conversation 'directline/user-conversation' stayed leased by another "
                                        r"bot instance for \d+(\.\d)? s", body["error"]["message"])
                    assert connector.sent == []
                    # The other instance is gone: its lease lapses and the next message is answered.
                    response = await client.post("/api/messages", json=message(connector, "hi"))
                    assert response.status == 201
                    assert connector.texts() == ["Please select a long operation test option."]
        finally:
            other.close()
            await connector.server.close()

    asyncio.run(main())
