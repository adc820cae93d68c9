"""The project's real function_app.py on the devhost (in process), which replays the orchestrator the way the
Durable extension's OutOfProcOrchestrationShim does (durable-host-protocol §A7), with a loopback Direct Line.

These are the regression tests for the step-retry replay hazard: a step retried by the SDK
(call_activity_with_retry) inside a task_any ended the instance Failed as non-deterministic as soon as an
attempt failed. notify_bot is retried the same way, by hand, with backoff; its back-off timers are read from the
history. Each test starts an operation over HTTP as the bot does, waits for a terminal runtime
status and checks what reached Direct Line.
"""

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.operations_client import OperationsClient, OperationStatus, TerminateResult
from bot.settings import BotSettings
from contract import Outcome, OutcomeStatus, Routing, StartRequest, StopReason, verify_outcome
from orchestrator.http_session import shared_session
from tests.orchestrator.conftest import SIGNING_KEY
from tests.orchestrator.devhost_thread import ProjectHost
from tests.orchestrator.fake_directline import SECRET, FakeDirectLine, server_for

WAIT_SECONDS = 30.0
CONTINUATION = {"type": "message", "channelId": "directline", "serviceUrl": "http://127.0.0.1:9/",
                "conversation": {"id": "conv-devhost"}, "from": {"id": "user-1"}, "recipient": {"id": "bot"}}
ROUTING = Routing.of(CONTINUATION)
TERMINAL = {"Completed", "Failed", "Terminated", "Canceled"}
RESULT_TWO = "(A different result for operation two!)"


class Stack:
    """The in-process functions host and the fake Direct Line, both on the host's event loop."""

    def __init__(self, host: ProjectHost, direct_line: FakeDirectLine) -> None:
        self.host = host
        self.direct_line = direct_line

    def run_operation(self, option: str) -> dict[str, Any]:
        """Start ``option`` through the HTTP starter; the final status (with history) once it is terminal."""
        return self.host.run(self._run_operation(option), timeout=WAIT_SECONDS + 10)

    async def _run_operation(self, option: str) -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.host.base_url}/api/operations", headers=self.host.starter_headers,
                                    json={"option": option, "continuation": CONTINUATION}) as response:
                assert response.status == 202, await response.text()
                started = await response.json()
            status_url = started["statusQueryGetUri"] + "&showHistory=true"
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT_SECONDS
            while True:
                async with session.get(status_url) as response:
                    status: dict[str, Any] = await response.json()
                if status["runtimeStatus"] in TERMINAL:
                    return status
                if loop.time() > deadline:
                    raise AssertionError(f"{started['id']} did not finish: {status}")
                await asyncio.sleep(0.02)

    def delivered(self) -> list[Outcome]:
        """Every outcome the function app posted to Direct Line, in order (only successful posts count)."""
        posts = [r for r in self.direct_line.requests if r.method == "POST" and r.path.endswith("/activities")]
        return [Outcome.from_json(r.body["value"]["value"]) for r in posts]


@pytest.fixture
def stack(app_settings: Callable[..., None], tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    started: list[tuple[ProjectHost, TestServer]] = []

    def start(**settings: str) -> Stack:
        host = ProjectHost(tmp_path / "data")
        direct_line = FakeDirectLine()
        server = server_for(direct_line)
        started.append((host, server))
        host.run(server.start_server())
        # Every setting explicitly, so a developer's local.settings.json cannot change the test.
        app_settings(**{
            "DirectLineSecret": SECRET, "OperationSigningKey": SIGNING_KEY,
            "DirectLineEndpoint": str(server.make_url("/v3/directline")),
            "OperationSeconds": "0.06", "OperationSteps": "3", "OperationTimeoutSeconds": "30",
            "StepRetryAttempts": "3", "StepFirstRetrySeconds": "0.05",
            "NotifyRetryAttempts": "3", "NotifyFirstRetrySeconds": "0.05", "NotifyBackoffCoefficient": "2",
            "NotifyMaxRetrySeconds": "60", "OperationFaults": "",
            **settings,
        })
        return Stack(host, direct_line)

    yield start
    for host, server in started:
        try:
            # notify_bot made the process's shared session on the host's loop; close it there.
            host.run(shared_session.close())
            host.run(server.close())
        finally:
            host.close()


def results_of(status: dict[str, Any], activity: str) -> list[str]:
    """TaskCompleted or TaskFailed for every run of ``activity``, in history order."""
    return [event["EventType"] for event in status["historyEvents"] if event.get("FunctionName") == activity]


def _moment(dotnet: str) -> datetime:
    # .NET writes seven fractional digits; Python reads six.
    return datetime.fromisoformat(dotnet.rstrip("Z")[:26] + "+00:00")


def back_offs_after_failed(status: dict[str, Any], activity: str) -> list[float]:
    """Seconds from each back-off timer's creation (the orchestrator's clock on the devhost) to its FireAt, for
    the timers made right after a failed ``activity``."""
    events = status["historyEvents"]
    return [
        (_moment(timer["FireAt"]) - _moment(timer["Timestamp"])).total_seconds()
        for failed, timer in pairwise(events)
        if (failed["EventType"], failed.get("FunctionName"), timer["EventType"]) == ("TaskFailed", activity,
                                                                                    "TimerCreated")
    ]


def test_a_step_failing_for_good_ends_completed_with_the_failed_outcome_delivered(stack: Callable[..., Stack]) -> None:
    running = stack(OperationFaults="option 2@2", StepRetryAttempts="2")
    status = running.run_operation("option 2")

    # Before the fix this was Failed: "Non-Deterministic workflow detected: ... scheduled a timer with
    # sequence number 4, but the replay now schedules activity 'notify_bot'".
    assert status["runtimeStatus"] == "Completed", status["output"]
    [outcome] = running.delivered()
    assert verify_outcome(outcome, ROUTING, SIGNING_KEY)
    assert (outcome.status, outcome.result, outcome.reason) == (OutcomeStatus.FAILED, "", StopReason(2, 3, 2, 30))
    assert status["output"]["outcome"] == outcome.to_json()
    assert "InjectedFault" in status["output"]["detail"]
    assert results_of(status, "run_operation_step") == ["TaskCompleted", "TaskFailed", "TaskFailed"]
    assert (status["customStatus"]["stage"], status["customStatus"]["step"]) == ("failed", 1)


def test_a_step_failing_once_is_tried_again_and_the_result_is_delivered(stack: Callable[..., Stack]) -> None:
    running = stack(OperationFaults="option 2@2x1", StepRetryAttempts="2")
    status = running.run_operation("option 2")

    assert status["runtimeStatus"] == "Completed", status["output"]
    [outcome] = running.delivered()
    assert verify_outcome(outcome, ROUTING, SIGNING_KEY)
    assert (outcome.status, outcome.result) == (OutcomeStatus.COMPLETED, RESULT_TWO)
    assert status["output"]["detail"] is None
    assert results_of(status, "run_operation_step") == ["TaskCompleted", "TaskFailed", "TaskCompleted",
                                                            "TaskCompleted"]
    assert (status["customStatus"]["stage"], status["customStatus"]["percent"]) == ("completed", 100)


def test_notify_retried_with_backoff_after_step_retries_still_completes(stack: Callable[..., Stack]) -> None:
    # notify_bot's attempts and back-off timers are plain actions, numbered in yield order like the steps', so
    # the shim's replay follows them (§A7.1); the second back-off is twice the first (coefficient 2).
    running = stack(OperationFaults="option 2@1x2, option 2@3x1", StepRetryAttempts="3", NotifyRetryAttempts="4")
    running.direct_line.failures["post"] = (502, "BotRejectedActivity", "the bot answered 500")
    running.direct_line.failure_budget["post"] = 2
    status = running.run_operation("option 2")

    assert status["runtimeStatus"] == "Completed", status["output"]
    [outcome] = running.delivered()[-1:]
    assert (outcome.status, outcome.result) == (OutcomeStatus.COMPLETED, RESULT_TWO)
    assert results_of(status, "run_operation_step") == [
        "TaskFailed", "TaskFailed", "TaskCompleted", "TaskCompleted", "TaskFailed", "TaskCompleted",
    ]
    assert results_of(status, "notify_bot") == ["TaskFailed", "TaskFailed", "TaskCompleted"]
    assert back_offs_after_failed(status, "notify_bot") == [0.05, 0.1]
    assert status["customStatus"]["stage"] == "completed"


def test_notify_failing_every_attempt_ends_failed_with_a_clear_output(stack: Callable[..., Stack]) -> None:
    running = stack(NotifyRetryAttempts="3", NotifyBackoffCoefficient="3", NotifyMaxRetrySeconds="0.1")
    running.direct_line.failures["post"] = (502, "BotRejectedActivity", "the bot answered 500")
    status = running.run_operation("option 1")

    assert status["runtimeStatus"] == "Failed", status
    assert "Could not deliver the completed outcome to the bot after 3 attempts: " in status["output"]
    assert "HTTP 502" in status["output"]
    assert results_of(status, "notify_bot") == ["TaskFailed"] * 3
    # 0.05 s, then 0.15 s capped at 0.1 s; none after the last attempt.
    assert back_offs_after_failed(status, "notify_bot") == [0.05, 0.1]
    assert status["customStatus"]["message"] == "The outcome could not be delivered to the conversation."


def test_the_deadline_passing_during_a_step_delivers_timed_out(stack: Callable[..., Stack]) -> None:
    # One step of 1 s against a 0.3 s deadline: the race timer wins, the bot is told at once, and the instance
    # completes once the abandoned activity has finished (an open activity keeps it Running, §A7.5).
    running = stack(OperationSeconds="1", OperationSteps="1", OperationTimeoutSeconds="0.3")
    status = running.run_operation("option 1")

    assert status["runtimeStatus"] == "Completed", status["output"]
    [outcome] = running.delivered()
    # The deadline won the race against the step's first attempt.
    assert (outcome.status, outcome.result, outcome.reason) == (OutcomeStatus.TIMED_OUT, "", StopReason(1, 1, 1, 0.3))
    assert status["customStatus"]["stage"] == "timed_out"


def test_a_back_off_that_would_pass_the_deadline_delivers_timed_out_at_once(stack: Callable[..., Stack]) -> None:
    # The first attempt fails at once; a 5 s back-off cannot end before the 1 s deadline, so no timer is made.
    running = stack(OperationFaults="option 1@1x1", OperationSteps="1", OperationTimeoutSeconds="1",
                    StepFirstRetrySeconds="5")
    status = running.run_operation("option 1")

    assert status["runtimeStatus"] == "Completed", status["output"]
    [outcome] = running.delivered()
    assert (outcome.status, outcome.result, outcome.reason) == (OutcomeStatus.TIMED_OUT, "", StopReason(1, 1, 1, 1))
    assert "InjectedFault" in status["output"]["detail"]
    assert results_of(status, "run_operation_step") == ["TaskFailed"]


def test_the_bots_client_reads_progress_and_cancels_on_a_host_that_checks_keys(stack: Callable[..., Stack]) -> None:
    # The bot holds the starter's function key. The status and terminate URLs are Durable webhooks that carry the
    # system key in code=; a function key in the header there is 401 on Azure (header before code=), so before
    # the fix progress was "not available" and cancel failed, on Azure and on this host alike.
    running = stack(OperationSeconds="30", OperationSteps="3", OperationTimeoutSeconds="60")
    host = running.host
    settings = BotSettings(signing_key=SIGNING_KEY, operations_url=host.base_url,
                           operations_key=host.keys.function_key("start_operation"))

    async def scenario() -> tuple[OperationStatus, TerminateResult, OperationStatus]:
        async with aiohttp.ClientSession() as session:
            client = OperationsClient(session, settings)
            started = await client.start(StartRequest(option="option 1", continuation=CONTINUATION))
            assert "code=" in started.status_query_url
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT_SECONDS
            progress = await client.status(started)
            while progress.progress is None and loop.time() < deadline:
                await asyncio.sleep(0.02)
                progress = await client.status(started)
            cancelled = await client.terminate(started, "cancelled by the user")
            after = await client.status(started)
            while not after.finished and loop.time() < deadline:
                await asyncio.sleep(0.02)
                after = await client.status(started)
            return progress, cancelled, after

    progress, cancelled, after = host.run(scenario(), timeout=WAIT_SECONDS + 10)

    assert progress.runtime_status == "Running"
    assert progress.progress is not None
    assert (progress.progress.option, progress.progress.stage.value, progress.progress.steps) == ("option 1",
                                                                                                   "running", 3)
    assert cancelled is TerminateResult.TERMINATED
    assert after.runtime_status == "Terminated"


def handover_of(status: dict[str, Any]) -> dict[str, Any]:
    """The handover in a status' input. A continued-as-new input is the SDK's JSON text of it (ContinueAsNewAction
    df_dumps it), so the status API shows that text."""
    given = status["input"]
    handover: dict[str, Any] = (json.loads(given) if isinstance(given, str) else given)["handover"]
    return handover


def _observe(running: Stack, *, until: Callable[[dict[str, Any]], bool] | None = None,
             terminate_reason: str | None = None, start: dict[str, Any] | None = None,
             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Start option 1 and poll its status URL (as the bot does) until terminal: the final status with history and
    every status seen on the way. With ``until``, terminate through terminatePostUri once a status satisfies it."""

    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        seen: list[dict[str, Any]] = []
        condition = until
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{running.host.base_url}/api/operations", headers=running.host.starter_headers,
                                    json=start or {"option": "option 1", "continuation": CONTINUATION}) as response:
                assert response.status == 202, await response.text()
                started = await response.json()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT_SECONDS
            while loop.time() < deadline:
                async with session.get(started["statusQueryGetUri"]) as response:
                    status: dict[str, Any] = await response.json()
                seen.append(status)
                if status["runtimeStatus"] in TERMINAL:
                    async with session.get(started["statusQueryGetUri"] + "&showHistory=true") as response:
                        return await response.json(), seen
                if condition is not None and condition(status):
                    condition = None
                    async with session.post(started["terminatePostUri"].replace("{text}", terminate_reason or "")) \
                            as response:
                        assert response.status == 202, await response.text()
                await asyncio.sleep(0.01)
            raise AssertionError(f"{started['id']} did not finish: {seen[-1]}")

    return running.host.run(scenario(), timeout=WAIT_SECONDS + 10)


def test_a_many_step_operation_continues_as_new_with_bounded_history_and_a_status_never_null(
        stack: Callable[..., Stack]) -> None:
    running = stack(OperationSeconds="0", OperationSteps="12", StepsPerGeneration="5")
    status, seen = _observe(running)

    assert status["runtimeStatus"] == "Completed", status["output"]
    [outcome] = running.delivered()
    assert (outcome.status, outcome.result) == (OutcomeStatus.COMPLETED, "(Result for long operation one!)")
    assert status["customStatus"]["message"] == "Completed all 12 steps."
    # The history is the last generation's only: steps 11 and 12, each one attempt.
    assert results_of(status, "run_operation_step") == ["TaskCompleted", "TaskCompleted"]
    assert (handover_of(status)["stepsDone"], handover_of(status)["generation"]) == (10, 3)
    assert all(s["customStatus"] is not None for s in seen), [s for s in seen if s["customStatus"] is None]
    # One instance id, one status URL, throughout.
    assert {s["instanceId"] for s in seen} == {status["instanceId"]}


def test_the_deadline_is_the_first_generations_across_handovers(stack: Callable[..., Stack]) -> None:
    # Three steps of 0.15 s per generation: a deadline computed again by each generation (0.8 s after its own
    # start) would never pass, and all 12 steps would complete.
    running = stack(OperationSeconds="1.8", OperationSteps="12", StepsPerGeneration="3", OperationTimeoutSeconds="0.8")
    status, _ = _observe(running)

    assert status["runtimeStatus"] == "Completed", status["output"]
    [outcome] = running.delivered()
    assert outcome.status is OutcomeStatus.TIMED_OUT
    assert outcome.reason is not None and 3 < outcome.reason.step < 12
    assert handover_of(status)["generation"] >= 2


def test_terminate_after_a_handover_terminates_and_delivers_nothing(stack: Callable[..., Stack]) -> None:
    # The terminate URL the bot got at the start still reaches the instance in a later generation.
    running = stack(OperationSeconds="6", OperationSteps="60", StepsPerGeneration="2", OperationTimeoutSeconds="60")
    status, seen = _observe(running, until=lambda s: (s["customStatus"] or {}).get("step", 0) >= 3,
                            terminate_reason="cancelled by the user")

    assert status["runtimeStatus"] == "Terminated"
    assert status["output"] == "cancelled by the user"
    assert running.delivered() == []
    assert all(s["customStatus"] is not None for s in seen)


def test_terminate_during_the_handover_terminates(stack: Callable[..., Stack]) -> None:
    # Every step hands over, so the terminate lands while a ContinuedAsNew generation waits for its first episode.
    running = stack(OperationSeconds="0", OperationSteps="1000", StepsPerGeneration="1", OperationTimeoutSeconds="60")
    status, _ = _observe(running, until=lambda s: s["runtimeStatus"] == "ContinuedAsNew",
                         terminate_reason="cancelled by the user")

    assert status["runtimeStatus"] == "Terminated"
    assert running.delivered() == []


def test_an_operations_state_crosses_every_handover_and_its_structured_result_is_delivered(
        stack: Callable[..., Stack]) -> None:
    # count primes carries its count and largest prime from step to step (operations/primes.py); with a generation
    # per step, each of its four steps starts a new generation with only the handover to go on.
    running = stack(StepsPerGeneration="1")
    start = {"option": "count primes", "inputs": {"limit": 100000}, "continuation": CONTINUATION}
    status, _ = _observe(running, start=start)

    assert status["runtimeStatus"] == "Completed", status["output"]
    assert handover_of(status)["generation"] == 4
    [outcome] = running.delivered()
    assert outcome.status is OutcomeStatus.COMPLETED
    assert outcome.data == {"kind": "facts", "facts": [
        {"name": "Limit", "value": "100,000"}, {"name": "Primes found", "value": "9,592"},
        {"name": "Largest prime", "value": "99,991"}, {"name": "Steps", "value": "4"},
    ]}
