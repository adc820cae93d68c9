"""The whole function app flow in one process: the real orchestrator replayed by a minimal host loop, the
real activities (steps from the catalogue, notify_bot over a loopback Direct Line service).

The loop gives ids in yield order and does not emulate the extension's shim; test_on_devhost.py runs the
same flows on the devhost, which does."""

import asyncio
from collections.abc import Callable, Iterator

import pytest

from contract import Outcome, OutcomeStatus, Routing, StartRequest, StopReason, verify_outcome
from orchestrator.http_session import shared_session
from orchestrator.payloads import OperationPlan
from orchestrator.settings import load_settings
from tests.orchestrator.conftest import SIGNING_KEY
from tests.orchestrator.fake_directline import SECRET, FakeDirectLine, server_for
from tests.orchestrator.host_driver import HostDriver
from tests.orchestrator.replay import History, OrchestratorState

DirectLine = tuple[asyncio.Runner, FakeDirectLine, str]

INSTANCE = "op-0123456789ab-0a1b2c3d"
CONTINUATION = {"type": "message", "channelId": "directline", "serviceUrl": "http://127.0.0.1:9/",
                "conversation": {"id": "conv-7"}, "from": {"id": "user-7"}}
ROUTING = Routing.of(CONTINUATION)


@pytest.fixture
def direct_line() -> Iterator[DirectLine]:
    fake = FakeDirectLine()
    with asyncio.Runner() as runner:
        server = server_for(fake)
        runner.run(server.start_server())
        try:
            yield runner, fake, str(server.make_url("/v3/directline"))
        finally:
            runner.run(shared_session.close())
            runner.run(server.close())


def drive(direct_line: DirectLine, app_settings: Callable[..., None], option: str,
          **settings: str) -> tuple[HostDriver, OrchestratorState]:
    runner, _, endpoint = direct_line
    app_settings(DirectLineSecret=SECRET, OperationSigningKey=SIGNING_KEY, DirectLineEndpoint=endpoint,
                 OperationSeconds="0.03", OperationSteps="3", StepFirstRetrySeconds="0.01",
                 NotifyFirstRetrySeconds="0.01", **settings)
    # What the starter would put in the orchestration input.
    plan = OperationPlan.of(StartRequest(option, CONTINUATION), load_settings())
    driver = HostDriver(runner, History(INSTANCE, plan.to_json()))
    return driver, driver.run()


def posted_outcome(fake: FakeDirectLine) -> Outcome:
    event = fake.requests[-1].body
    assert event["value"]["conversation"] == {"id": "conv-7"}
    return Outcome.from_json(event["value"]["value"])


def test_operation_completes_and_the_bot_receives_a_signed_result(
    direct_line: DirectLine, app_settings: Callable[..., None]
) -> None:
    driver, state = drive(direct_line, app_settings, "option 3")
    assert state.is_done
    assert driver.attempts == {"run_operation_step": 3, "notify_bot": 1}
    outcome = posted_outcome(direct_line[1])
    assert verify_outcome(outcome, ROUTING, SIGNING_KEY)
    assert (outcome.status, outcome.result) == (
        OutcomeStatus.COMPLETED, "(Yet another result, this one for operation three!)"
    )
    assert state.output["outcome"] == outcome.to_json()
    assert state.custom_status["stage"] == "completed"
    assert state.custom_status["percent"] == 100


def test_injected_fault_exhausts_retries_and_the_bot_is_told_it_failed(
    direct_line: DirectLine, app_settings: Callable[..., None]
) -> None:
    driver, state = drive(direct_line, app_settings, "option 2", OperationFaults="option 2@2", StepRetryAttempts="2")
    assert state.is_done
    assert driver.attempts == {"run_operation_step": 1 + 2, "notify_bot": 1}
    outcome = posted_outcome(direct_line[1])
    assert verify_outcome(outcome, ROUTING, SIGNING_KEY)
    # Facts, not a sentence: the bot words them. Step 2 of 3 failed on both attempts; the deadline was 120 s.
    assert (outcome.status, outcome.result, outcome.reason) == (OutcomeStatus.FAILED, "", StopReason(2, 3, 2, 120))
    assert "InjectedFault" in state.output["detail"]
    assert (state.custom_status["stage"], state.custom_status["step"]) == ("failed", 1)


def test_a_step_failing_once_is_tried_again_and_the_bot_receives_the_result(
    direct_line: DirectLine, app_settings: Callable[..., None]
) -> None:
    driver, state = drive(direct_line, app_settings, "option 2", OperationFaults="option 2@2x1", StepRetryAttempts="2")
    assert state.is_done
    assert driver.attempts == {"run_operation_step": 3 + 1, "notify_bot": 1}
    outcome = posted_outcome(direct_line[1])
    assert verify_outcome(outcome, ROUTING, SIGNING_KEY)
    assert (outcome.status, outcome.result) == (OutcomeStatus.COMPLETED, "(A different result for operation two!)")
    assert state.output["detail"] is None
    assert state.custom_status["stage"] == "completed"


def test_bot_unreachable_fails_the_orchestration_after_notify_retries(
    direct_line: DirectLine, app_settings: Callable[..., None]
) -> None:
    direct_line[1].failures["post"] = (502, "BotRejectedActivity", "the bot answered 500")
    driver, state = drive(direct_line, app_settings, "option 1", NotifyRetryAttempts="4",
                          NotifyBackoffCoefficient="3", NotifyMaxRetrySeconds="0.05")
    assert driver.attempts["notify_bot"] == 4
    # 0.01 s, then x3, then capped at 0.05 s: one back-off before each retry, none after the last attempt.
    assert driver.back_offs == [("notify_bot", 0.01), ("notify_bot", 0.03), ("notify_bot", 0.05)]
    assert not state.is_done
    assert state.error is not None
    assert state.error.startswith("Could not deliver the completed outcome to the bot after 4 attempts: ")
    assert "HTTP 502" in state.error and "BotRejectedActivity" in state.error
    assert SECRET not in state.error
    assert state.custom_status["message"] == "The outcome could not be delivered to the conversation."


def test_bot_back_after_two_failed_deliveries_receives_the_result_once(
    direct_line: DirectLine, app_settings: Callable[..., None]
) -> None:
    fake = direct_line[1]
    fake.failures["post"] = (502, "BotRejectedActivity", "the bot answered 500")
    fake.failure_budget["post"] = 2
    driver, state = drive(direct_line, app_settings, "option 1", NotifyRetryAttempts="6")
    assert state.is_done
    assert driver.attempts["notify_bot"] == 3
    # Default coefficient 2: the second back-off is twice the first.
    assert driver.back_offs == [("notify_bot", 0.01), ("notify_bot", 0.02)]
    outcome = posted_outcome(fake)
    assert verify_outcome(outcome, ROUTING, SIGNING_KEY)
    assert state.output["outcome"] == outcome.to_json()
    assert state.custom_status["stage"] == "completed"
