"""The run_operation_step activity: catalogue lookup, the result on the last step, fault injection."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from contract import OPTIONS
from orchestrator import blueprint
from orchestrator.catalogue import CATALOGUE
from orchestrator.errors import InjectedFault, UnknownOperationError
from orchestrator.payloads import StepRequest, StepResult
from orchestrator.settings import Settings, StepFault
from orchestrator.steps import run_operation_step

EXPECTED_RESULTS = {
    "option 1": "(Result for long operation one!)",
    "option 2": "(A different result for operation two!)",
    "option 3": "(Yet another result, this one for operation three!)",
}


def request(option: str, step: int, steps: int = 3, step_seconds: float = 0.0, attempt: int = 1) -> StepRequest:
    return StepRequest(option, step, steps, step_seconds, "op-abc-1", attempt)


def test_catalogue_implements_exactly_the_options_the_bot_offers() -> None:
    assert tuple(CATALOGUE) == OPTIONS


@pytest.mark.parametrize(("option", "text"), EXPECTED_RESULTS.items())
def test_last_step_yields_the_result_text_and_earlier_steps_none(option: str, text: str) -> None:
    results = [asyncio.run(run_operation_step(request(option, step), Settings())) for step in (1, 2, 3)]
    assert results == [StepResult(1, None), StepResult(2, None), StepResult(3, text)]


def test_a_step_waits_its_share_of_the_duration() -> None:
    began = time.monotonic()
    asyncio.run(CATALOGUE["option 1"].run_step(request("option 1", 1, step_seconds=0.2)))
    # A lower bound only: asyncio.sleep never returns early.
    assert time.monotonic() - began >= 0.2


def test_unknown_option_raises_naming_the_known_ones() -> None:
    with pytest.raises(UnknownOperationError, match="option 1, option 2, option 3"):
        asyncio.run(run_operation_step(request("option 9", 1), Settings()))


def test_configured_fault_fails_that_step_of_that_option_only() -> None:
    settings = Settings(faults=frozenset({StepFault("option 2", 2)}))
    for attempt in (1, 2, 3):
        with pytest.raises(InjectedFault, match=rf"step 2 of option 2 .*\(attempt {attempt}\)"):
            asyncio.run(run_operation_step(request("option 2", 2, attempt=attempt), settings))
    assert asyncio.run(run_operation_step(request("option 2", 1), settings)) == StepResult(1, None)
    assert asyncio.run(run_operation_step(request("option 1", 2), settings)) == StepResult(2, None)


def test_fault_limited_to_first_attempts_lets_a_later_attempt_succeed() -> None:
    settings = Settings(faults=frozenset({StepFault("option 2", 3, 2)}))
    for attempt in (1, 2):
        with pytest.raises(InjectedFault):
            asyncio.run(run_operation_step(request("option 2", 3, attempt=attempt), settings))
    result = asyncio.run(run_operation_step(request("option 2", 3, attempt=3), settings))
    assert result == StepResult(3, EXPECTED_RESULTS["option 2"])


def test_step_request_without_an_attempt_is_the_first_attempt() -> None:
    payload: dict[str, Any] = {"option": "option 1", "step": 2, "steps": 2, "stepSeconds": 0, "instanceId": "op-x"}
    assert StepRequest.from_json(payload).attempt == 1
    numbered = StepRequest("option 1", 2, 2, 0.0, "op-x", attempt=3)
    assert StepRequest.from_json(numbered.to_json()) == numbered


def test_activity_trigger_reads_settings_and_speaks_json(app_settings: Callable[..., None]) -> None:
    activity = blueprint.run_operation_step._function.get_user_function()
    app_settings(OperationFaults="option 3@1x1")
    payload: dict[str, Any] = {"option": "option 1", "step": 2, "steps": 2, "stepSeconds": 0, "instanceId": "op-x",
                               "attempt": 1}
    assert asyncio.run(activity(request=payload)) == {"step": 2, "result": EXPECTED_RESULTS["option 1"]}
    with pytest.raises(InjectedFault):
        asyncio.run(activity(request={**payload, "option": "option 3", "step": 1}))
    assert asyncio.run(activity(request={**payload, "option": "option 3", "step": 1, "attempt": 2})) == {
        "step": 1, "result": None,
    }
