"""Progress reports through the devhost's replay shim (the real function_app.py, a loopback Direct Line): at most one
per ``progress_every_seconds`` of the orchestration's clock, none after the last step, the cadence kept across a
continue-as-new, and a failed post skipped without touching the operation.

count primes reports at most every 2 s (operations/primes.py). Its steps take milliseconds, so the tests make chosen
steps slow in orchestration time with the real retry path: a first attempt that fails (OperationFaults) and the
StepFirstRetrySeconds back-off before the second. That makes the expected reports exact: step 1 ends well inside
2 s of the start (no report); step 2 ends after a 2.5 s back-off (a report); step 3 ends milliseconds after that
report (none); step 4 is the last, slow again, but the outcome follows it (none).
"""

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from contract import PROGRESS_KIND, Outcome, OutcomeStatus, ProgressReport, Routing, verify_outcome, verify_progress
from tests.orchestrator.conftest import SIGNING_KEY
from tests.orchestrator.test_on_devhost import CONTINUATION, TERMINAL, WAIT_SECONDS, Stack, results_of, stack

__all__ = ["stack"]  # the fixture, shared with test_on_devhost.py

ROUTING = Routing.of(CONTINUATION)
SLOW_STEPS_2_AND_4 = {"OperationFaults": "count primes@2x1,count primes@4x1", "StepRetryAttempts": "2",
                      "StepFirstRetrySeconds": "2.5"}


def run_count_primes(running: Stack, limit: int = 1000) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{running.host.base_url}/api/operations", headers=running.host.starter_headers,
                                    json={"option": "count primes", "continuation": CONTINUATION,
                                          "inputs": {"limit": limit}}) as response:
                assert response.status == 202, await response.text()
                status_url = (await response.json())["statusQueryGetUri"] + "&showHistory=true"
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT_SECONDS
            while True:
                async with session.get(status_url) as response:
                    status: dict[str, Any] = await response.json()
                if status["runtimeStatus"] in TERMINAL:
                    return status
                assert loop.time() < deadline, f"did not finish: {status}"
                await asyncio.sleep(0.05)

    return running.host.run(run(), timeout=WAIT_SECONDS + 10)


def posted(running: Stack) -> list[ProgressReport | Outcome]:
    """What reached Direct Line, in order: progress reports and outcomes."""
    values = [r.body["value"]["value"] for r in running.direct_line.requests
              if r.method == "POST" and r.path.endswith("/activities")]
    return [ProgressReport.from_json(v) if v["kind"] == PROGRESS_KIND else Outcome.from_json(v) for v in values]


@pytest.mark.parametrize("generation", [{}, {"StepsPerGeneration": "2"}], ids=["one generation", "two generations"])
def test_a_report_after_a_step_that_ends_past_the_cadence_and_none_after_the_outcome(
        stack: Callable[..., Stack], generation: dict[str, str]) -> None:
    # With two generations, step 3 runs in the second: if the time of the report after step 2 were not handed over,
    # the cadence would count from the start again and step 3 (over 2.5 s after it) would be reported too.
    running = stack(**SLOW_STEPS_2_AND_4, **generation)
    status = run_count_primes(running)

    assert status["runtimeStatus"] == "Completed", status["output"]
    report, outcome = posted(running)
    assert isinstance(report, ProgressReport) and isinstance(outcome, Outcome)
    assert (report.option, report.step, report.steps, report.percent) == ("count primes", 2, 4, 50)
    assert report.instance_id == outcome.instance_id == status["instanceId"]
    assert report.conversation_id == "conv-devhost"
    assert verify_progress(report, ROUTING, SIGNING_KEY)
    assert outcome.status is OutcomeStatus.COMPLETED and verify_outcome(outcome, ROUTING, SIGNING_KEY)
    # The status shows the last generation's history: with two, the report was the first generation's.
    assert results_of(status, "notify_progress") == ([] if generation else ["TaskCompleted"])


def test_an_operation_that_never_passes_its_cadence_reports_nothing(stack: Callable[..., Stack]) -> None:
    running = stack()
    status = run_count_primes(running)

    assert status["runtimeStatus"] == "Completed", status["output"]
    [outcome] = posted(running)
    assert isinstance(outcome, Outcome) and outcome.status is OutcomeStatus.COMPLETED
    assert results_of(status, "notify_progress") == []


def test_a_report_direct_line_refuses_is_skipped_and_the_outcome_still_arrives(
        stack: Callable[..., Stack], caplog: pytest.LogCaptureFixture) -> None:
    running = stack(**SLOW_STEPS_2_AND_4)
    # The first post (the report after step 2) fails; nothing retries it, and the outcome's post goes through.
    running.direct_line.failures["post"] = (502, "BadGateway", "the bot did not answer")
    running.direct_line.failure_budget["post"] = 1
    status = run_count_primes(running)

    assert status["runtimeStatus"] == "Completed", status["output"]
    posts = [r for r in running.direct_line.requests if r.method == "POST" and r.path.endswith("/activities")]
    assert [p.body["value"]["value"]["kind"] for p in posts] == [PROGRESS_KIND, "LongOperationComplete"]
    assert results_of(status, "notify_progress") == ["TaskCompleted"]
    skipped = [r.getMessage() for r in caplog.records if r.name == "orchestrator.progress"]
    assert skipped == [f"progress report not posted, skipped instance_id={status['instanceId']} step=2/4: "
                       "BotTurnFailed: Direct Line post activity failed: HTTP 502, code BadGateway, the bot did not "
                       "answer"]
    assert status["output"]["outcome"]["status"] == "completed"
