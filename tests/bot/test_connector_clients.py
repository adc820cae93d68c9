"""The adapter reuses its Bot Connector client across turns (bot/connector_clients.py), and replies still arrive."""

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.adapter import create_adapter
from bot.connector_clients import ReusingBotFrameworkAuthentication
from bot.settings import BotSettings


class Connector:
    """A loopback Bot Connector: records the activities the bot sends, by conversation."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation_id}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation_id}/activities/{activity_id}", self._send)
        self.server = TestServer(app, host="127.0.0.1")

    async def _send(self, request: web.Request) -> web.Response:
        self.received.append((request.match_info["conversation_id"], await request.json()))
        return web.json_response({"id": f"reply-{len(self.received)}"})

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")


def _message(service_url: str, conversation_id: str, text: str) -> Activity:
    return Activity(
        type=ActivityTypes.message, id=f"in-{text}", text=text, channel_id="emulator", service_url=service_url,
        conversation=ConversationAccount(id=conversation_id), from_property=ChannelAccount(id="user"),
        recipient=ChannelAccount(id="bot"),
    )


async def _turns(activities: list[Activity], clients_kept: int | None = None) -> tuple[list[object], Any]:
    adapter = create_adapter(BotSettings(signing_key="k"))
    if clients_kept is not None:
        adapter.bot_framework_authentication = ReusingBotFrameworkAuthentication(
            adapter.bot_framework_authentication._inner, clients_kept
        )
    used: list[object] = []

    async def echo(context: TurnContext) -> None:
        used.append(context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY])
        await context.send_activity(f"echo {context.activity.text}")

    for activity in activities:
        await adapter.process_activity("", activity, echo)
    return used, adapter


def test_turns_to_one_service_url_share_one_connector_client_and_every_reply_arrives() -> None:
    async def main() -> None:
        connector = Connector()
        await connector.server.start_server()
        try:
            used, adapter = await _turns([_message(connector.url, "c1", "a"), _message(connector.url, "c2", "b"),
                                          _message(connector.url, "c1", "c")])
            assert used[0] is used[1] is used[2]
            assert [(c, a["text"]) for c, a in connector.received] == [("c1", "echo a"), ("c2", "echo b"),
                                                                       ("c1", "echo c")]
            # One connector client and one user-token client, however many turns.
            assert adapter.bot_framework_authentication.cached_clients == 2
        finally:
            await connector.server.close()

    asyncio.run(main())


def test_each_service_url_gets_its_own_client_and_replies_go_to_it() -> None:
    async def main() -> None:
        first, second = Connector(), Connector()
        await first.server.start_server()
        await second.server.start_server()
        try:
            used, _ = await _turns([_message(first.url, "c1", "a"), _message(second.url, "c1", "b")])
            assert used[0] is not used[1]
            assert [a["text"] for _, a in first.received] == ["echo a"]
            assert [a["text"] for _, a in second.received] == ["echo b"]
        finally:
            await first.server.close()
            await second.server.close()

    asyncio.run(main())


def test_proactive_turns_reuse_the_client_of_the_service_url() -> None:
    async def main() -> None:
        connector = Connector()
        await connector.server.start_server()
        try:
            incoming = _message(connector.url, "c1", "a")
            used, adapter = await _turns([incoming])
            reference = TurnContext.get_conversation_reference(incoming)

            async def proactive(context: TurnContext) -> None:
                used.append(context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY])
                await context.send_activity("later")

            await adapter.continue_conversation(reference, proactive, "")
            assert used[0] is used[1]
            assert [(c, a["text"]) for c, a in connector.received] == [("c1", "echo a"), ("c1", "later")]
        finally:
            await connector.server.close()

    asyncio.run(main())


def test_the_cache_is_bounded() -> None:
    async def main() -> None:
        connectors = [Connector() for _ in range(3)]
        for connector in connectors:
            await connector.server.start_server()
        try:
            _, adapter = await _turns([_message(c.url, "c1", "x") for c in connectors], clients_kept=2)
            assert adapter.bot_framework_authentication.cached_clients == 2
            assert all(len(c.received) == 1 for c in connectors)
        finally:
            for connector in connectors:
                await connector.server.close()

    asyncio.run(main())


def test_reused_clients_skip_the_empty_schema_validation_and_serialize_replies_the_same() -> None:
    from botbuilder.schema import Attachment, CardAction, Entity, SuggestedActions
    from botframework.connector import models
    from msrest import Serializer

    # The premise: no model of the schema has a constraint for the validation pass to check.
    assert all(not getattr(m, "_validation", {}) for m in vars(models).values() if isinstance(m, type))

    async def main() -> None:
        connector = Connector()
        await connector.server.start_server()
        try:
            used, _ = await _turns([_message(connector.url, "c1", "a")])
        finally:
            await connector.server.close()
        client: Any = used[0]
        assert client._serialize.client_side_validation is False
        reply = Activity(
            type=ActivityTypes.trace, text="t", value={"nested": [{"a": 1}, None, "x"]}, channel_id="emulator",
            conversation=ConversationAccount(id="c1"), from_property=ChannelAccount(id="bot", name="Bot"),
            attachments=[Attachment(content_type="text/plain", content={"k": [1, 2]})],
            entities=[Entity(type="mention")],
            suggested_actions=SuggestedActions(to=["u"], actions=[CardAction(type="imBack", title="A", value="a")]),
        )
        validating = Serializer({k: v for k, v in vars(models).items() if isinstance(v, type)})
        assert validating.client_side_validation is True
        assert client._serialize.body(reply, "Activity") == validating.body(reply, "Activity")

    asyncio.run(main())
