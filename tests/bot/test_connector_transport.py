"""Bot Connector calls through the bot's aiohttp session (bot/connector_transport.py), against a loopback connector."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.models import ErrorResponseException

from bot.connector_transport import AiohttpSender, use_aiohttp


class FakeAadCredentials(MicrosoftAppCredentials):  # type: ignore[misc]
    """Credentials whose token needs no AAD: the token endpoint is a boundary we cannot run."""

    def get_access_token(self, force_refresh: bool = False) -> str:
        return "token-123"


Answer = Callable[[web.Request], Awaitable[web.Response]]


async def _with_connector(answer: Answer, test: Callable[[str, aiohttp.ClientSession], Awaitable[None]]) -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            await test(str(server.make_url("")).rstrip("/"), session)
    finally:
        await server.close()


def _client(url: str, session: aiohttp.ClientSession, credentials: Any = None) -> ConnectorClient:
    client = ConnectorClient(credentials or MicrosoftAppCredentials("", ""), base_url=url)
    use_aiohttp(client, session, backoff_seconds=0.01)
    return client


def _reply(text: str) -> Activity:
    return Activity(type=ActivityTypes.message, text=text)


def test_a_reply_is_posted_with_aiohttp_and_its_answer_deserialized() -> None:
    seen: list[tuple[str, str, dict[str, Any], str | None]] = []
    agents: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, await request.json(), request.headers.get("Authorization")))
        agents.append(request.headers.get("User-Agent", ""))
        return web.json_response({"id": "reply-1"})

    async def test(url: str, session: aiohttp.ClientSession) -> None:
        client = _client(url, session)
        assert isinstance(client._client.config.pipeline._sender, AiohttpSender)
        response = await client.conversations.reply_to_activity("conv|1", "act-1", _reply("hello"))
        assert response.id == "reply-1"

    asyncio.run(_with_connector(answer, test))
    [(method, path, body, authorization)] = seen
    assert (method, path, body["text"], authorization) == ("POST", "/v3/conversations/conv|1/activities/act-1",
                                                           "hello", None)
    assert "msrest/" in agents[0]  # msrest's own policies (user agent, deserializer) still run


def test_with_an_app_id_the_bearer_token_is_sent() -> None:
    seen: list[str | None] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({"id": "x"})

    async def test(url: str, session: aiohttp.ClientSession) -> None:
        client = _client(url, session, FakeAadCredentials("app-id", "secret"))
        await client.conversations.send_to_conversation("c", _reply("hi"))

    asyncio.run(_with_connector(answer, test))
    assert seen == ["Bearer token-123"]


def test_a_transient_failure_is_retried() -> None:
    statuses = [503, 502, 200]
    calls = 0

    async def answer(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        status = statuses.pop(0)
        return web.json_response({"id": "ok"} if status == 200 else {"error": {"code": "x"}}, status=status)

    async def test(url: str, session: aiohttp.ClientSession) -> None:
        response = await _client(url, session).conversations.send_to_conversation("c", _reply("hi"))
        assert response.id == "ok"

    asyncio.run(_with_connector(answer, test))
    assert calls == 3


def test_a_client_error_is_not_retried_and_raises_the_sdks_error() -> None:
    calls = 0

    async def answer(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response({"error": {"code": "BadArgument", "message": "no"}}, status=400)

    async def test(url: str, session: aiohttp.ClientSession) -> None:
        with pytest.raises(ErrorResponseException):
            await _client(url, session).conversations.send_to_conversation("c", _reply("hi"))

    asyncio.run(_with_connector(answer, test))
    assert calls == 1


def test_an_unreachable_connector_fails_after_the_retries() -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            # A port nobody listens on: bind one, close it.
            probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
            port = probe.sockets[0].getsockname()[1]
            probe.close()
            await probe.wait_closed()
            client = _client(f"http://127.0.0.1:{port}", session)
            with pytest.raises(aiohttp.ClientConnectionError):
                await client.conversations.send_to_conversation("c", _reply("hi"))

    asyncio.run(main())
