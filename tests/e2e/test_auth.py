"""The seed's conversation through the authenticated stack (``devhost up --auth``): the Emulator's token to the bot,
the bot's tokens to the chat and to Direct Line, the Direct Line stand-in's channel token on the outcome event, all
checked by botbuilder's own code and by the devhost's channels; the proactive result arrives once.

And the refusals a real deployment shows: the chat without a token is refused by the bot (401), a reply without the
bot's token is refused by either channel (401 with the Bot Connector's body).
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from devhost.chat import ChatClient, ChatConfig, ChatError
from devhost.stack import Stack, StackConfig
from orchestrator.directline import DirectLineClient
from tests.e2e.stack_fixture import stack_config

SETTINGS = {"OperationSeconds": "1", "OperationSteps": "2", "OperationTimeoutSeconds": "60"}
WAIT = 60.0
CHOOSE = "Please select a long operation test option."
ONE_MOMENT = "...one moment please...."
RESULT = "Thanks for waiting. (Result for long operation one!)"
DENIED = {"message": "Authorization has been denied for this request."}


class AuthStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.stack = Stack(config)

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    def chat(self, **overrides: object) -> ChatConfig:
        assert self.stack.auth is not None
        options: dict[str, object] = {"bot_url": self.config.messages_url, "auth": self.stack.auth.emulator_auth()}
        options.update(overrides)
        return ChatConfig(**options)  # type: ignore[arg-type]


def auth_stack(data_dir: Path, single_tenant: bool) -> Iterator[AuthStack]:
    running = AuthStack(stack_config(data_dir, SETTINGS, auth=True, single_tenant=single_tenant))
    running.run(running.stack.__aenter__())
    try:
        yield running
    finally:
        running.run(running.stack.__aexit__(None, None, None))
        running.loop.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthStack]:
    yield from auth_stack(tmp_path_factory.mktemp("auth"), single_tenant=False)


@pytest.fixture(scope="module")
def single_tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthStack]:
    yield from auth_stack(tmp_path_factory.mktemp("auth-single"), single_tenant=True)


def test_the_seed_conversation_and_its_proactive_result_work_with_authentication(running: AuthStack) -> None:
    async def scenario() -> list[str]:
        async with ChatClient(running.chat()) as client:
            conversation = await client.start_conversation()
            await conversation.say("hi")
            await conversation.wait_for_text(CHOOSE, WAIT)
            await conversation.choose(1)
            await conversation.wait_for_text(ONE_MOMENT, WAIT)
            await conversation.wait_for_text(RESULT, WAIT, since=0)
            # The choice again, after the result: the fourth message of the conversation.
            await conversation.wait_for(lambda a: a.get("text") == CHOOSE, WAIT, since=3)
            return conversation.bot_texts()

    assert running.run(scenario()) == [CHOOSE, ONE_MOMENT, RESULT, CHOOSE]
    assert running.stack.secrets.app_id and not running.stack.secrets.app_tenant_id


def test_a_single_tenant_bot_talks_with_a_direct_line_user_and_gets_its_result(single_tenant: AuthStack) -> None:
    # The channel token's audience is the app id, the bot's own tokens come from its tenant's login URL.
    async def scenario() -> list[str]:
        async with aiohttp.ClientSession() as session:
            client = DirectLineClient(session, single_tenant.config.directline_url,
                                      single_tenant.stack.secrets.directline_secret)
            conversation = await client.start_conversation({"id": "dl_alice", "name": "Alice"})

            async def bot_texts(count: int) -> list[str]:
                deadline = asyncio.get_running_loop().time() + WAIT
                while True:
                    texts = [str(a.get("text")) for a in await client.activities(conversation)
                             if a.get("type") == "message" and (a.get("from") or {}).get("id") != "dl_alice"]
                    if len(texts) >= count or asyncio.get_running_loop().time() > deadline:
                        return texts
                    await asyncio.sleep(0.1)

            await client.post_activity(conversation, {"type": "message", "text": "hi", "from": {"id": "dl_alice"}})
            await bot_texts(1)
            await client.post_activity(conversation, {"type": "message", "text": "option 1",
                                                      "from": {"id": "dl_alice"}})
            return await bot_texts(4)

    assert single_tenant.run(scenario()) == [CHOOSE, ONE_MOMENT, RESULT, CHOOSE]
    assert single_tenant.stack.secrets.app_tenant_id


def test_the_emulator_cannot_reach_a_single_tenant_bot_as_with_botbuilder_python_4_17(
        single_tenant: AuthStack) -> None:
    # botbuilder-python 4.17.1 checks an Emulator token's issuer against a fixed list of the Bot Framework's own
    # tenants; the Emulator's token for a SingleTenant app carries its tenant's issuer, so the bot answers 401
    # (microsoft/botbuilder-python#2233, open). The devhost reproduces it, as the README's "Run it for real" says.
    async def scenario() -> str:
        async with ChatClient(single_tenant.chat()) as client:
            with pytest.raises(ChatError) as refused:
                await client.start_conversation()
            return str(refused.value)

    assert single_tenant.run(scenario()) == (
        f"the bot at {single_tenant.config.messages_url} answered 401: {{\"error\": {{\"code\": \"Unauthorized\", "
        "\"message\": \"the request is not authorized for this bot\"}}")


def test_the_bot_refuses_the_chat_without_a_token(running: AuthStack) -> None:
    async def scenario() -> str:
        async with ChatClient(running.chat(auth=None)) as client:
            with pytest.raises(ChatError) as refused:
                await client.start_conversation()
            return str(refused.value)

    assert running.run(scenario()) == (
        f"the bot at {running.config.messages_url} answered 401: {{\"error\": {{\"code\": \"Unauthorized\", "
        "\"message\": \"the request is not authorized for this bot\"}}")


def test_both_channels_refuse_a_reply_without_the_bots_token(running: AuthStack) -> None:
    async def scenario() -> list[tuple[int, object]]:
        answers: list[tuple[int, object]] = []
        async with ChatClient(running.chat()) as client, aiohttp.ClientSession() as session:
            conversation = await client.start_conversation()
            directline_root = running.config.directline_url.removesuffix("/v3/directline")
            for root in (client.service_url, directline_root):
                async with session.post(f"{root}/v3/conversations/{conversation.id}/activities",
                                        json={"type": "message", "text": "forged"}) as response:
                    answers.append((response.status, await response.json()))
            assert "forged" not in conversation.bot_texts()
        return answers

    assert running.run(scenario()) == [(401, DENIED), (401, DENIED)]


def test_attachment_routes_need_the_bots_token_where_each_channel_asks_for_it(running: AuthStack) -> None:
    """Uploads need the bot's token on both channels; the views need it on the Bot Connector (the stand-in) but not
    on the Emulator's face (the chat), which serves them to a bot fetching a user's file with a plain GET."""

    async def scenario() -> list[tuple[int, object]]:
        answers: list[tuple[int, object]] = []
        async with ChatClient(running.chat()) as client, aiohttp.ClientSession() as session:
            conversation = await client.start_conversation()
            directline_root = running.config.directline_url.removesuffix("/v3/directline")
            for root in (client.service_url, directline_root):
                async with session.post(f"{root}/v3/conversations/{conversation.id}/attachments",
                                        json={"type": "text/plain", "originalBase64": "YQ=="}) as response:
                    answers.append((response.status, await response.json()))
                async with session.get(f"{root}/v3/attachments/unknown/views/original") as response:
                    answers.append((response.status, await response.json()))
            assert len(client.attachments) == 0
        return answers

    assert running.run(scenario()) == [
        (401, DENIED), (404, {"error": {"code": "BadArgument", "message": "attachment 'unknown' not found"}}),
        (401, DENIED), (401, DENIED),
    ]
