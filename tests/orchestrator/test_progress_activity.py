"""The notify_progress activity against a loopback Direct Line: a signed report the bot can verify, and every
failure (not configured, refused, no answer in time) answered as not posted instead of raised."""

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from contract import PROGRESS_KIND, ProgressReport, Routing, verify_progress
from devhost.functions.invoker import InvocationContext
from orchestrator import blueprint
from orchestrator.directline import DirectLineClient
from orchestrator.http_session import shared_session
from orchestrator.payloads import ProgressRequest
from orchestrator.progress import notify_progress
from orchestrator.settings import load_settings
from tests.orchestrator.conftest import SIGNING_KEY
from tests.orchestrator.fake_directline import SECRET, FakeDirectLine, server_for
from tests.orchestrator.test_notify import CONTINUATION

REPORT = ProgressReport("op-abc-1", "user-conv-1", "count primes", 2, 4)
REQUEST = ProgressRequest(CONTINUATION, REPORT)


def run_activity(fake: FakeDirectLine, app_settings: Callable[..., None], **settings: str) -> Any:
    activity = blueprint.notify_progress._function.get_user_function()

    async def main() -> Any:
        async with server_for(fake) as server:
            app_settings(DirectLineEndpoint=str(server.make_url("/v3/directline")), **settings)
            try:
                return await activity(request=REQUEST.to_json(), context=InvocationContext("notify_progress", "."))
            finally:
                await shared_session.close()

    return asyncio.run(main())


def test_posts_the_signed_report_in_the_outcomes_event(app_settings: Callable[..., None]) -> None:
    fake = FakeDirectLine()
    output = run_activity(fake, app_settings, DirectLineSecret=SECRET, OperationSigningKey=SIGNING_KEY)

    assert output == {"posted": True, "detail": ""}
    body = fake.requests[-1].body
    assert (body["type"], body["name"], body["from"]["id"]) == (
        "event", "LongOperationResponse", "dl_long-operation-orchestrator")
    report = ProgressReport.from_json(body["value"]["value"])
    assert report.kind == PROGRESS_KIND and report.unsigned() == REPORT
    assert verify_progress(report, Routing.of(CONTINUATION), SIGNING_KEY)


def test_a_refused_post_and_missing_settings_are_answered_not_raised(app_settings: Callable[..., None]) -> None:
    fake = FakeDirectLine()
    fake.failures["post"] = (403, "BadArgument", "Security token not valid")
    refused = run_activity(fake, app_settings, DirectLineSecret=SECRET, OperationSigningKey=SIGNING_KEY)
    assert refused["posted"] is False
    assert "HTTP 403" in refused["detail"]

    fake = FakeDirectLine()
    unconfigured = run_activity(fake, app_settings, OperationSigningKey=SIGNING_KEY)
    assert unconfigured["posted"] is False
    assert unconfigured["detail"].startswith("not configured: DirectLineSecret")
    assert fake.requests == []


def test_a_direct_line_that_does_not_answer_is_given_up_on_in_time(app_settings: Callable[..., None]) -> None:
    never = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await never.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/v3/directline/conversations", hang)

    async def main() -> Any:
        async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
            app_settings(DirectLineSecret=SECRET, OperationSigningKey=SIGNING_KEY,
                         DirectLineEndpoint=str(server.make_url("/v3/directline")))
            client = DirectLineClient(session, str(server.make_url("/v3/directline")), SECRET)
            result = await notify_progress(REQUEST, load_settings(), client, timeout=0.2)
            never.set()
            return result

    result = asyncio.run(main())
    assert (result.posted, result.detail) == (False, "no answer in time")
