"""Run by test_add_your_own.py in a subprocess whose ``operations`` package is a copy with the README's example added:
drives the new operation through the starter, the real orchestrator (SDK replay, real activities, notify_bot over a
loopback Direct Line) and the bot on TestAdapter, and prints what each side saw as JSON."""

import asyncio
import json
import os
from typing import Any

from contract import Outcome, StartRequest
from operations import REGISTRY
from orchestrator.errors import BadStartRequest
from orchestrator.http_session import shared_session
from orchestrator.payloads import OperationPlan
from orchestrator.settings import load_settings
from orchestrator.starter import parse_start_request
from tests.bot.harness import bot_harness, texts
from tests.orchestrator.conftest import SIGNING_KEY
from tests.orchestrator.fake_directline import SECRET, FakeDirectLine, server_for
from tests.orchestrator.host_driver import HostDriver
from tests.orchestrator.replay import History
from tests.orchestrator.test_flow import CONTINUATION

OPTION = "sum squares"


def starter_answers() -> dict[str, str]:
    answers = {}
    for inputs in ({"n": 0}, {"n": 10}):
        body = json.dumps({"option": OPTION, "continuation": CONTINUATION, "inputs": inputs}).encode()
        try:
            answers[str(inputs["n"])] = json.dumps(parse_start_request(body).inputs)
        except BadStartRequest as error:
            answers[str(inputs["n"])] = f"{error.status} {error}"
    return answers


def run_function_app(runner: asyncio.Runner, endpoint: str, fake: FakeDirectLine) -> Outcome:
    os.environ.update(DirectLineSecret=SECRET, OperationSigningKey=SIGNING_KEY, DirectLineEndpoint=endpoint,
                      OperationSeconds="5", NotifyFirstRetrySeconds="0.01")
    load_settings.cache_clear()
    request = parse_start_request(json.dumps({"option": OPTION, "continuation": CONTINUATION,
                                              "inputs": {"n": 10}}).encode())
    plan = OperationPlan.of(request, load_settings(), REGISTRY[OPTION].steps)
    driver = HostDriver(runner, History("op-0123456789ab-0a1b2c3d", plan.to_json()))
    state = driver.run()
    assert state.is_done, state.error
    return Outcome.from_json(fake.requests[-1].body["value"]["value"])


async def run_bot(data: dict[str, Any]) -> dict[str, Any]:
    async with bot_harness() as harness:
        seen: dict[str, Any] = {"choices": [a.title for a in (await harness.say("hi"))[0].suggested_actions.actions]}
        seen["asked"] = texts(await harness.say(OPTION))
        seen["started"] = texts(await harness.say("10"))
        request: StartRequest = harness.service.only_instance()[1].request
        seen["inputs"] = request.inputs
        reply = (await harness.post(harness.outcome_event(data=data)))[0]
        seen["reply"] = reply.text
        seen["card"] = reply.attachments[0].content["body"]
        return seen


def main() -> None:
    fake = FakeDirectLine()
    with asyncio.Runner() as runner:
        server = server_for(fake)
        runner.run(server.start_server())
        try:
            outcome = run_function_app(runner, str(server.make_url("/v3/directline")), fake)
        finally:
            runner.run(shared_session.close())
            runner.run(server.close())
    assert outcome.data is not None
    print(json.dumps({"registry": list(REGISTRY), "starter": starter_answers(), "outcome": outcome.to_json(),
                      "bot": asyncio.run(run_bot(outcome.data))}))


if __name__ == "__main__":
    main()
