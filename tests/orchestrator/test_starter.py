"""The HTTP starter called as the worker calls it: a real func.HttpRequest plus the durable client binding
JSON, whose rpcBaseUrl points at a loopback stand-in for the Durable extension."""

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import azure.functions as func
import pytest

from contract import MAX_START_BODY_BYTES, instance_id_prefix
from devhost.functions.invoker import InvocationContext
from orchestrator import blueprint
from tests.orchestrator.fake_durable_host import FakeDurableHost, binding_json, server_for

CONTINUATION = {
    "type": "message",
    "channelId": "emulator",
    "serviceUrl": "http://127.0.0.1:9000/",
    "conversation": {"id": "conv-42"},
    "from": {"id": "user-1"},
}
FUNCTION_URL = "http://func.example:7071/api/operations"


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    # One loop for the module: the Durable SDK keeps a module-global aiohttp session bound to the first loop.
    with asyncio.Runner() as loop_runner:
        yield loop_runner


def http_request(body: bytes) -> func.HttpRequest:
    return func.HttpRequest(method="POST", url=FUNCTION_URL, headers={"Content-Type": "application/json"}, body=body)


def start_body(**overrides: Any) -> bytes:
    return json.dumps({"option": "option 1", "continuation": CONTINUATION, **overrides}).encode()


def call_starter(runner: asyncio.Runner, fake: FakeDurableHost, body: bytes,
                 rpc_base_url: str | None = None) -> func.HttpResponse:
    trigger: Callable[..., Awaitable[func.HttpResponse]] = blueprint.start_operation._function.get_user_function()

    async def main() -> func.HttpResponse:
        async with server_for(fake) as server:
            rpc = rpc_base_url or str(server.make_url("/durabletask/"))
            return await trigger(req=http_request(body), client=binding_json(rpc),
                                 context=InvocationContext("start_operation", "."))

    return runner.run(main())


def error_of(response: func.HttpResponse) -> str:
    assert response.mimetype == "application/json"
    body = json.loads(response.get_body())
    assert set(body) == {"error"}
    return str(body["error"])


def test_start_answers_202_with_management_urls_and_starts_long_operation(
    runner: asyncio.Runner, app_settings: Callable[..., None]
) -> None:
    app_settings(DirectLineSecret="s", OperationSigningKey="k", OperationSeconds="6", OperationSteps="3",
                 OperationTimeoutSeconds="30", StepRetryAttempts="4", StepFirstRetrySeconds="0.5",
                 NotifyRetryAttempts="2", NotifyFirstRetrySeconds="3",
                 NotifyBackoffCoefficient="1.5", NotifyMaxRetrySeconds="30")
    fake = FakeDurableHost()
    response = call_starter(runner, fake, start_body())

    assert response.status_code == 202
    body = json.loads(response.get_body())
    instance_id = body["id"]
    assert re.fullmatch(r"op-[0-9a-f]{12}-[0-9a-f]{32}", instance_id)
    assert instance_id.startswith(instance_id_prefix("emulator", "conv-42"))
    assert {"id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri",
            "rewindPostUri", "restartPostUri", "suspendPostUri", "resumePostUri"} <= set(body)
    # The SDK rewrites the management URLs onto the caller's origin.
    status_uri = body["statusQueryGetUri"]
    assert status_uri.startswith(f"http://func.example:7071/runtime/webhooks/durabletask/instances/{instance_id}?")
    assert response.headers["Location"] == status_uri
    assert f"/instances/{instance_id}/terminate?reason=" in body["terminatePostUri"]

    (start,) = fake.starts
    assert (start.name, start.instance_id) == ("long_operation", instance_id)
    # The Python client posts the input as a JSON string holding JSON text (§C2).
    assert json.loads(start.body) == {
        "option": "option 1",
        "continuation": CONTINUATION,
        "steps": 3,
        "stepSeconds": 2.0,
        "timeoutSeconds": 30.0,
        "stepRetry": {"attempts": 4, "firstRetrySeconds": 0.5, "backoffCoefficient": 1.0, "maxRetrySeconds": None},
        "notifyRetry": {"attempts": 2, "firstRetrySeconds": 3.0, "backoffCoefficient": 1.5, "maxRetrySeconds": 30.0},
        # The first generation: it fixes the deadline itself.
        "stepsPerGeneration": 10,
        "handover": {"deadline": None, "stepsDone": 0, "result": "", "generation": 1},
    }


def test_each_start_gets_a_new_instance_id_in_the_conversation(
    runner: asyncio.Runner, app_settings: Callable[..., None]
) -> None:
    fake = FakeDurableHost()
    ids = [json.loads(call_starter(runner, fake, start_body()).get_body())["id"] for _ in range(2)]
    assert ids[0] != ids[1]
    assert len({instance_id.rsplit("-", 1)[0] for instance_id in ids}) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"not json at all", "body: expected a JSON object"),
        (b"\xff\xfe", "body: expected a JSON object"),
        (b"[1, 2]", "body: expected a JSON object, got an array"),
        (json.dumps({"continuation": CONTINUATION}).encode(), "option: expected a non-empty string"),
        (start_body(option=""), "option: expected a non-empty string"),
        (start_body(continuation=None), "continuation: expected a JSON object"),
        (start_body(continuation={**CONTINUATION, "channelId": ""}), "continuation.channelId"),
        (start_body(continuation={k: v for k, v in CONTINUATION.items() if k != "serviceUrl"}),
         "continuation.serviceUrl"),
        (start_body(continuation={k: v for k, v in CONTINUATION.items() if k != "conversation"}),
         "continuation.conversation: expected a JSON object"),
        (start_body(continuation={**CONTINUATION, "conversation": {}}), "continuation.conversation.id"),
    ],
)
def test_bad_request_answers_400_naming_the_problem(
    runner: asyncio.Runner, app_settings: Callable[..., None], body: bytes, expected: str
) -> None:
    fake = FakeDurableHost()
    response = call_starter(runner, fake, body)
    assert response.status_code == 400
    assert expected in error_of(response)
    assert fake.starts == []


@pytest.mark.parametrize("body", [b"[" * 60_000, b'{"a":' * 12_000], ids=["arrays", "objects"])
def test_too_deeply_nested_body_answers_400(runner: asyncio.Runner, app_settings: Callable[..., None],
                                           body: bytes) -> None:
    # Within the size limit, but deeper than json.loads can recurse.
    assert len(body) <= MAX_START_BODY_BYTES
    fake = FakeDurableHost()
    response = call_starter(runner, fake, body)
    assert response.status_code == 400
    assert error_of(response) == "body: JSON nested too deeply"
    assert fake.starts == []


def test_unknown_option_answers_400_listing_the_known_ones(
    runner: asyncio.Runner, app_settings: Callable[..., None]
) -> None:
    fake = FakeDurableHost()
    response = call_starter(runner, fake, start_body(option="option 9"))
    assert response.status_code == 400
    assert error_of(response) == (
        "option: unknown option 'option 9'; known options: 'option 1', 'option 2', 'option 3', 'count primes', "
        "'tidy files'"
    )
    assert fake.starts == []


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (None, "inputs.limit: missing"),
        ({}, "inputs.limit: missing"),
        ({"limit": "many"}, "inputs.limit: expected a whole number, got 'many'"),
        ({"limit": 2.5}, "inputs.limit: expected a whole number, got 2.5"),
        ({"limit": 10}, "inputs.limit: expected 1000 to 5000000, got 10"),
        ({"limit": 1000, "colour": "red"}, "inputs.colour: not an input of 'count primes' (its inputs: limit)"),
    ],
)
def test_bad_inputs_answer_400_naming_the_field(
    runner: asyncio.Runner, app_settings: Callable[..., None], inputs: object, message: str
) -> None:
    fake = FakeDurableHost()
    body = json.loads(start_body(option="count primes"))
    if inputs is not None:
        body["inputs"] = inputs
    response = call_starter(runner, fake, json.dumps(body).encode())
    assert response.status_code == 400
    assert error_of(response) == message
    assert fake.starts == []


def test_an_operation_with_inputs_starts_with_them_and_its_own_step_count(
    runner: asyncio.Runner, app_settings: Callable[..., None]
) -> None:
    fake = FakeDurableHost()
    body = json.loads(start_body(option="count primes"))
    body["inputs"] = {"limit": 5000.0}
    response = call_starter(runner, fake, json.dumps(body).encode())
    assert response.status_code == 202
    plan = json.loads(fake.starts[0].body)
    # Validated: the whole number 5000.0 is stored as 5000; four steps, the operation's own, not OperationSteps.
    assert (plan["inputs"], plan["steps"]) == ({"limit": 5000}, 4)


def test_too_large_body_answers_413_before_parsing(runner: asyncio.Runner, app_settings: Callable[..., None]) -> None:
    fake = FakeDurableHost()
    # Not even JSON: the size check must come first.
    response = call_starter(runner, fake, b"x" * (MAX_START_BODY_BYTES + 1))
    assert response.status_code == 413
    assert str(MAX_START_BODY_BYTES) in error_of(response)
    assert fake.starts == []


def test_durable_host_refusing_the_start_answers_503(runner: asyncio.Runner, app_settings: Callable[..., None]) -> None:
    fake = FakeDurableHost(fail_with=500)
    response = call_starter(runner, fake, start_body())
    assert response.status_code == 503
    assert "could not start the operation" in error_of(response)
    assert len(fake.starts) == 1


def test_unreachable_durable_host_answers_503(runner: asyncio.Runner, app_settings: Callable[..., None]) -> None:
    async def closed_port_url() -> str:
        async with server_for(FakeDurableHost()) as server:
            return str(server.make_url("/durabletask/"))

    response = call_starter(runner, FakeDurableHost(), start_body(), rpc_base_url=runner.run(closed_port_url()))
    assert response.status_code == 503
    assert "unavailable" in error_of(response)


def not_configured_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.name == "orchestrator.starter" and record.levelno == logging.ERROR]


def test_missing_notify_secrets_refuse_to_start_naming_them(
    runner: asyncio.Runner, app_settings: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    app_settings(OperationSigningKey="k")
    fake = FakeDurableHost()
    response = call_starter(runner, fake, start_body())
    assert response.status_code == 500
    problem = "DirectLineSecret: not set; the function app cannot notify the bot without it"
    assert error_of(response) == f"the function app is not configured: {problem}"
    assert fake.starts == []
    assert not_configured_logs(caplog) == [f"cannot start operations: {problem}"]


def test_malformed_setting_answers_500_naming_it_and_logs_it(
    runner: asyncio.Runner, app_settings: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    app_settings(DirectLineSecret="s", OperationSigningKey="k", OperationSteps="many")
    response = call_starter(runner, FakeDurableHost(), start_body())
    assert response.status_code == 500
    problem = "OperationSteps: expected a whole number, got 'many'"
    assert error_of(response) == f"the function app is not configured: {problem}"
    assert not_configured_logs(caplog) == [f"cannot start operations: {problem}"]
