"""What an outcome's delivery sent (SendLedger) and how a failed send is sorted (bot/outcome_delivery.py)."""

import asyncio

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.schema import Activity, ActivityTypes, ResourceResponse
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials

from bot.connector_transport import use_aiohttp
from bot.errors import DeliveryDeferred, DeliveryRefused
from bot.outcome_delivery import SendLedger, fingerprint, not_delivered, send_with_ledger


def message(text: str, reply_to: str = "x") -> Activity:
    return Activity(type=ActivityTypes.message, text=text, reply_to_id=reply_to, id=reply_to)


def test_a_replay_skips_what_was_delivered_and_sends_the_rest() -> None:
    sent: list[str] = []

    async def send_one(activity: Activity) -> ResourceResponse:
        sent.append(activity.text)
        return ResourceResponse(id="ok")

    # The earlier attempt delivered the result; ids and replyToId differ on the replay, what the user sees does not.
    ledger = SendLedger([fingerprint(message("result", reply_to="first-attempt"))])
    asyncio.run(send_with_ledger(ledger, [message("result", reply_to="retry"), message("prompt")], send_one))
    assert sent == ["prompt"]
    assert ledger.delivered == [fingerprint(message("result")), fingerprint(message("prompt"))]


def test_a_replay_that_differs_stops_skipping() -> None:
    sent: list[str] = []

    async def send_one(activity: Activity) -> ResourceResponse:
        sent.append(activity.text)
        return ResourceResponse(id="ok")

    ledger = SendLedger([fingerprint(message("something else")), fingerprint(message("prompt"))])
    asyncio.run(send_with_ledger(ledger, [message("result"), message("prompt")], send_one))
    assert sent == ["result", "prompt"]


async def failure_of(status: int) -> Exception:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"error": {"code": f"Code{status}", "message": f"answered {status}"}}, status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            client = ConnectorClient(MicrosoftAppCredentials("", ""), base_url=str(server.make_url("")).rstrip("/"))
            use_aiohttp(client, session, backoff_seconds=0.0)
            try:
                await client.conversations.send_to_conversation("c", message("hi"))
            except Exception as error:
                return error
            raise AssertionError("the send did not fail")
    finally:
        await server.close()


@pytest.mark.parametrize(("status", "kind"), [
    (404, DeliveryRefused), (403, DeliveryRefused), (400, DeliveryRefused),
    (503, DeliveryDeferred), (500, DeliveryDeferred), (429, DeliveryDeferred), (408, DeliveryDeferred),
])
def test_a_channels_answer_is_sorted_into_refused_or_deferred(status: int, kind: type) -> None:
    failure = not_delivered(asyncio.run(failure_of(status)))
    assert isinstance(failure, kind)
    assert (failure.status, failure.code, failure.detail) == (status, f"Code{status}", f"answered {status}")


def test_no_answer_is_deferred_and_a_bug_is_not_the_channels() -> None:
    timed_out = not_delivered(TimeoutError())
    assert isinstance(timed_out, DeliveryDeferred) and timed_out.detail == "the channel did not answer in time"
    assert isinstance(not_delivered(aiohttp.ClientConnectionError("reset")), DeliveryDeferred)
    assert not_delivered(ValueError("a bug")) is None
