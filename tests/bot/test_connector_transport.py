"""Bot Connector calls through the bot's aiohttp session (bot/connector_transport.py), against a loopback connector."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.models import ErrorResponseException

from bot.connector_transport import RETRIES, RETRY_AFTER_CAP_SECONDS, AiohttpSender, send_timeout, use_aiohttp
from devhost.directline.throttle import ThrottleRule
from tests.devhost.directline.harness import running


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


def test_a_transient_failure_of_an_idempotent_call_is_retried() -> None:
    statuses = [503, 502, 200]
    methods: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        methods.append(request.method)
        status = statuses.pop(0)
        return web.json_response({"id": "ok"} if status == 200 else {"error": {"code": "x"}}, status=status)

    async def test(url: str, session: aiohttp.ClientSession) -> None:
        response = await _client(url, session).conversations.update_activity("c", "act-1", _reply("edited"))
        assert response.id == "ok"

    asyncio.run(_with_connector(answer, test))
    assert methods == ["PUT", "PUT", "PUT"]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_a_reply_answered_with_a_server_error_is_not_sent_again(status: int) -> None:
    # The channel may have delivered it before failing: a retry could show the user the same reply twice.
    calls = 0

    async def answer(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response({"error": {"code": "x", "message": "later"}}, status=status)

    async def test(url: str, session: aiohttp.ClientSession) -> None:
        with pytest.raises(ErrorResponseException):
            await _client(url, session).conversations.reply_to_activity("c", "act-1", _reply("hi"))

    asyncio.run(_with_connector(answer, test))
    assert calls == 1


def test_a_throttled_reply_is_retried() -> None:
    statuses = [429, 200]
    bodies: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        bodies.append((await request.json())["text"])
        status = statuses.pop(0)
        return web.json_response({"id": "ok"} if status == 200 else {"error": {"code": "Throttled"}}, status=status)

    async def test(url: str, session: aiohttp.ClientSession) -> None:
        response = await _client(url, session).conversations.send_to_conversation("c", _reply("hi"))
        assert response.id == "ok"

    asyncio.run(_with_connector(answer, test))
    assert bodies == ["hi", "hi"]


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_connection_dropped_after_the_request_is_retried_only_for_an_idempotent_call(method: str) -> None:
    calls = 0

    async def answer(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        await request.read()
        assert request.transport is not None
        request.transport.close()  # the request arrived; its answer never leaves
        return web.Response()

    async def test(url: str, session: aiohttp.ClientSession) -> None:
        conversations = _client(url, session).conversations
        with pytest.raises(aiohttp.ClientConnectionError):
            if method == "POST":
                await conversations.send_to_conversation("c", _reply("hi"))
            else:
                await conversations.update_activity("c", "act-1", _reply("edited"))

    asyncio.run(_with_connector(answer, test))
    if method == "POST":
        assert calls == 1
    else:
        # Each of our attempts; aiohttp may add its own retry of an idempotent request on a dropped connection.
        assert calls >= 1 + RETRIES


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


def test_a_reply_to_an_unreachable_connector_is_retried_then_fails(caplog: pytest.LogCaptureFixture) -> None:
    # Nothing was sent when the connection could not be opened, so even a POST is safe to try again.
    caplog.set_level(logging.WARNING, logger="bot.connector_transport")

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            # A port nobody listens on: bind one, close it.
            probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
            port = probe.sockets[0].getsockname()[1]
            probe.close()
            await probe.wait_closed()
            client = _client(f"http://127.0.0.1:{port}", session)
            with pytest.raises(aiohttp.ClientConnectorError):
                await client.conversations.send_to_conversation("c", _reply("hi"))

    asyncio.run(main())
    retries = [record for record in caplog.records if "retrying" in record.getMessage()]
    assert len(retries) == RETRIES


class RecordedSleeps:
    """The waits between attempts, recorded instead of slept."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _throttling(retry_after: str, then: int = 200) -> tuple[Answer, list[int]]:
    statuses = [429, then]
    calls: list[int] = []

    async def answer(request: web.Request) -> web.Response:
        status = statuses.pop(0) if statuses else then
        calls.append(status)
        if status == 429:
            return web.json_response({"error": {"code": "Throttled", "message": "slow down"}}, status=429,
                                     headers={"Retry-After": retry_after})
        return web.json_response({"id": "ok"})

    return answer, calls


def _throttled_client(url: str, session: aiohttp.ClientSession, sleeps: RecordedSleeps) -> ConnectorClient:
    client = ConnectorClient(MicrosoftAppCredentials("", ""), base_url=url)
    use_aiohttp(client, session, backoff_seconds=0.01, sleep=sleeps)
    return client


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_429_waits_as_its_retry_after_seconds_say_before_the_retry(method: str) -> None:
    answer, calls = _throttling("3")
    sleeps = RecordedSleeps()

    async def test(url: str, session: aiohttp.ClientSession) -> None:
        conversations = _throttled_client(url, session, sleeps).conversations
        if method == "POST":
            response = await conversations.send_to_conversation("c", _reply("hi"))
        else:
            response = await conversations.update_activity("c", "act-1", _reply("edited"))
        assert response.id == "ok"

    asyncio.run(_with_connector(answer, test))
    assert calls == [429, 200]
    assert sleeps.waits == [3.0]


def test_a_429_with_an_http_date_waits_until_that_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=4)
    answer, calls = _throttling(format_datetime(when, usegmt=True))
    sleeps = RecordedSleeps()

    async def test(url: str, session: aiohttp.ClientSession) -> None:
        response = await _throttled_client(url, session, sleeps).conversations.send_to_conversation("c", _reply("hi"))
        assert response.id == "ok"

    asyncio.run(_with_connector(answer, test))
    assert calls == [429, 200]
    # An HTTP-date has whole seconds: the wait is what is left of them when the 429 arrives.
    [wait] = sleeps.waits
    assert 2.0 <= wait <= 4.0


def test_a_429_asking_for_longer_than_the_cap_fails_at_once() -> None:
    answer, calls = _throttling(str(int(RETRY_AFTER_CAP_SECONDS) + 55))
    sleeps = RecordedSleeps()

    async def test(url: str, session: aiohttp.ClientSession) -> None:
        with pytest.raises(ErrorResponseException):
            await _throttled_client(url, session, sleeps).conversations.send_to_conversation("c", _reply("hi"))

    asyncio.run(_with_connector(answer, test))
    assert calls == [429]
    assert sleeps.waits == []


def test_sends_inside_send_timeout_give_up_after_it_not_after_the_clients_100_s() -> None:
    release = asyncio.Event()

    async def answer(request: web.Request) -> web.Response:
        await release.wait()  # a channel that holds the POST, as a restarted Emulator conversation does
        return web.json_response({"id": "late"})

    async def test(url: str, session: aiohttp.ClientSession) -> None:
        client = _client(url, session)
        assert client.config.connection.timeout == 100  # msrest's default, kept outside send_timeout
        try:
            async with asyncio.timeout(30) as guard:
                with send_timeout(0.2), pytest.raises(TimeoutError):
                    await client.conversations.send_to_conversation("c", _reply("hi"))
            assert not guard.expired()
        finally:
            release.set()

    asyncio.run(_with_connector(answer, test))


class ThrottleClock:
    """The stand-in's throttling clock, moved on by the sender's waits instead of sleeping them."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


async def _against_the_throttling_stand_in(
    rule: ThrottleRule, texts: list[str]
) -> tuple[list[str], list[float], ErrorResponseException | None]:
    """Send ``texts`` one after another through the bot's transport to the stand-in's Bot Connector face, throttled
    by ``rule``: what the conversation's transcript holds, the waits the transport made, and the send's error."""
    async with running(throttle=(rule,)) as h:
        clock = ThrottleClock()
        assert h.directline.service.bot_posts is not None
        h.directline.service.bot_posts.clock = clock
        conversation_id = (await h.start())["conversationId"]
        client = ConnectorClient(MicrosoftAppCredentials("", ""), base_url=h.directline.base_url)
        use_aiohttp(client, h.http, backoff_seconds=0.01, sleep=clock.sleep)
        error = None
        try:
            for text in texts:
                await client.conversations.send_to_conversation(conversation_id, _reply(text))
        except ErrorResponseException as refused:
            error = refused
        transcript = [a.get("text") for a in (await h.activities(conversation_id))["activities"]]
        return transcript, clock.waits, error


def test_a_reply_throttled_by_the_stand_in_waits_its_retry_after_and_is_delivered_once() -> None:
    transcript, waits, error = asyncio.run(_against_the_throttling_stand_in(ThrottleRule(1, 2), ["first", "second"]))
    assert (transcript, waits, error) == (["first", "second"], [2.0], None)


def test_a_reply_the_stand_in_throttles_for_longer_than_the_cap_fails_at_once_and_is_not_stored() -> None:
    transcript, waits, error = asyncio.run(_against_the_throttling_stand_in(ThrottleRule(1, 60), ["first", "second"]))
    assert (transcript, waits) == (["first"], [])
    assert error is not None
    assert error.error.error.code == "Throttled"
