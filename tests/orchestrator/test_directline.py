"""DirectLineClient against a loopback Direct Line 3.0 service."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from orchestrator.directline import DirectLineClient, DirectLineConversation
from orchestrator.errors import DirectLineError, OrchestratorError
from tests.orchestrator.fake_directline import CONVERSATION_ID, SECRET, TOKEN, FakeDirectLine, server_for

EVENT = {"type": "event", "name": "LongOperationResponse", "from": {"id": "x"}, "value": {"a": 1}}


def run_with_client(
    fake: FakeDirectLine,
    scenario: Callable[[DirectLineClient], Awaitable[Any]],
    prefix: str = "/v3/directline",
    endpoint_suffix: str = "/v3/directline",
) -> Any:
    async def main() -> Any:
        async with server_for(fake, prefix) as server, aiohttp.ClientSession() as session:
            endpoint = str(server.make_url(endpoint_suffix))
            return await scenario(DirectLineClient(session, endpoint, SECRET))

    return asyncio.run(main())


def send(client: DirectLineClient) -> Awaitable[str]:
    async def go() -> str:
        conversation = await client.start_conversation()
        return await client.post_activity(conversation, EVENT)

    return go()


def test_start_then_post_uses_secret_then_conversation_token() -> None:
    fake = FakeDirectLine()
    activity_id = run_with_client(fake, send)
    assert activity_id == f"{CONVERSATION_ID}|0000001"
    start, post = fake.requests
    assert (start.method, start.path) == ("POST", "/v3/directline/conversations")
    assert start.authorization == f"Bearer {SECRET}"
    assert post.path == f"/v3/directline/conversations/{CONVERSATION_ID}/activities"
    assert post.authorization == f"Bearer {TOKEN}"
    assert post.body == EVENT


def test_post_falls_back_to_the_secret_when_no_token_is_issued() -> None:
    fake = FakeDirectLine(issue_token=False)
    run_with_client(fake, send)
    assert fake.requests[1].authorization == f"Bearer {SECRET}"


def test_start_conversation_returns_id_and_token() -> None:
    conversation = run_with_client(FakeDirectLine(), lambda client: client.start_conversation())
    assert conversation == DirectLineConversation(CONVERSATION_ID, TOKEN)


def test_endpoint_with_trailing_slash_is_tolerated() -> None:
    fake = FakeDirectLine()
    run_with_client(fake, send, endpoint_suffix="/v3/directline/")
    assert [r.path for r in fake.requests] == [
        "/v3/directline/conversations",
        f"/v3/directline/conversations/{CONVERSATION_ID}/activities",
    ]


def test_regional_style_prefix_is_used_verbatim() -> None:
    # A regional or custom host is just another full prefix, as DirectLineJS takes its `domain`.
    fake = FakeDirectLine()
    run_with_client(fake, send, prefix="/europe/v3/directline", endpoint_suffix="/europe/v3/directline")
    assert fake.requests[0].path == "/europe/v3/directline/conversations"


@pytest.mark.parametrize(
    ("operation", "status", "code"),
    [
        ("start", 401, "BadArgument"),
        ("start", 403, "TokenExpired"),
        ("post", 404, "BadArgument"),
        ("post", 500, "ServiceError"),
        ("post", 502, "BotRejectedActivity"),
    ],
)
def test_error_status_raises_typed_error_naming_status_and_code(operation: str, status: int, code: str) -> None:
    fake = FakeDirectLine(failures={operation: (status, code, "explained by the service")})
    with pytest.raises(DirectLineError) as caught:
        run_with_client(fake, send)
    error = caught.value
    assert isinstance(error, OrchestratorError)
    assert (error.status, error.code, error.detail) == (status, code, "explained by the service")
    assert f"HTTP {status}" in str(error)
    assert code in str(error)
    assert SECRET not in str(error) and TOKEN not in str(error)


@pytest.mark.parametrize("status", [200, 201])
def test_an_answer_without_conversation_id_raises_naming_the_real_status(status: int) -> None:
    async def answer_without_id(request: web.Request) -> web.Response:
        return web.json_response({"expires_in": 1800}, status=status)

    async def scenario() -> None:
        app = web.Application()
        app.router.add_post("/v3/directline/conversations", answer_without_id)
        async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
            await DirectLineClient(session, str(server.make_url("/v3/directline")), SECRET).start_conversation()

    with pytest.raises(DirectLineError) as caught:
        asyncio.run(scenario())
    assert caught.value.status == status
    assert str(caught.value) == (
        f"Direct Line start conversation failed: HTTP {status}, the response has no conversationId"
    )


def test_wrong_secret_is_rejected_with_401() -> None:
    async def scenario() -> None:
        async with server_for(FakeDirectLine()) as server, aiohttp.ClientSession() as session:
            client = DirectLineClient(session, str(server.make_url("/v3/directline")), "wrong-secret")
            await client.start_conversation()

    with pytest.raises(DirectLineError) as caught:
        asyncio.run(scenario())
    assert caught.value.status == 401
    assert "wrong-secret" not in str(caught.value)


def test_unreachable_service_raises_typed_error_without_status() -> None:
    async def scenario() -> None:
        # Bind then close a server so the port is known to refuse connections.
        async with server_for(FakeDirectLine()) as server:
            endpoint = str(server.make_url("/v3/directline"))
        async with aiohttp.ClientSession() as session:
            await DirectLineClient(session, endpoint, SECRET).start_conversation()

    with pytest.raises(DirectLineError) as caught:
        asyncio.run(scenario())
    assert caught.value.status is None
    assert "no response" in str(caught.value)


def test_client_requires_a_secret() -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            DirectLineClient(session, "http://127.0.0.1:1/v3/directline", "")

    with pytest.raises(ValueError, match="secret"):
        asyncio.run(scenario())
