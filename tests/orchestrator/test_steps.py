"""The run_operation_step activity: catalogue lookup, the result on the last step, fault injection."""

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from contract import OPTIONS
from devhost.functions.invoker import InvocationContext
from operations import Ask, Done, Operation, StepInput
from orchestrator import blueprint
from orchestrator.catalogue import CATALOGUE
from orchestrator.errors import InjectedFault, UnknownOperationError
from orchestrator.payloads import AskSpec, StepRequest, StepResult
from orchestrator.settings import Settings, StepFault
from orchestrator.steps import run_operation_step

STEP_CONTEXT = InvocationContext("run_operation_step", ".")

EXPECTED_RESULTS = {
    "option 1": "(Result for long operation one!)",
    "option 2": "(A different result for operation two!)",
    "option 3": "(Yet another result, this one for operation three!)",
}


def request(option: str, step: int, steps: int = 3, step_seconds: float = 0.0, attempt: int = 1) -> StepRequest:
    return StepRequest(option, step, steps, step_seconds, "op-abc-1", attempt)


def test_the_registry_lists_the_seeds_options_first_then_the_examples() -> None:
    assert tuple(CATALOGUE) == (*OPTIONS, "count primes", "tidy files")


def test_a_step_that_asks_hands_its_question_on_and_the_next_step_gets_the_answer() -> None:
    asked = asyncio.run(run_operation_step(StepRequest("tidy files", 1, 2, 0.0, "op-t"), Settings()))
    assert asked == StepResult(1, state={"duplicates": 60},
                               ask=AskSpec("Delete the 60 duplicates?", ("Yes", "No"), 120.0))
    assert StepResult.from_json(asked.to_json()) == asked
    kept = asyncio.run(run_operation_step(
        StepRequest("tidy files", 2, 2, 0.0, "op-t", state=asked.state, answer="No"), Settings()))
    assert kept.data is not None
    assert {fact["name"]: fact["value"] for fact in kept.data["facts"]}["Deleted"] == "0"
    assert StepRequest.from_json(StepRequest("tidy files", 2, 2, 0.0, "op-t", answer="No").to_json()).answer == "No"


@pytest.mark.parametrize(("ask", "message"), [
    ({"question": " "}, "Ask needs a question (a non-empty string)"),
    ({"choices": ()}, "Ask's choices must be a non-empty tuple of strings, or None for a free-text answer"),
    ({"choices": "Yes"}, "Ask's choices must be a non-empty tuple of strings, or None for a free-text answer"),
    ({"choices": ("Yes", "")}, "Ask's choices must be non-empty strings, got ''"),
    ({"choices": ("Yes", "yes")}, "Ask's choices repeat (ignoring case): ['Yes', 'yes']"),
    ({"timeout_seconds": 0}, "Ask's timeout_seconds must be a finite number above 0, got 0"),
    ({"timeout_seconds": float("inf")}, "Ask's timeout_seconds must be a finite number above 0, got inf"),
])
def test_a_malformed_question_is_refused_naming_what_is_wrong(ask: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        Ask(**{"question": "Delete?", **ask})
    assert str(raised.value) == message


def test_the_last_step_cannot_ask() -> None:
    operation = Operation("asks last", "asks last", lambda step: Ask("Really?"), steps=1, asks=True)
    with pytest.raises(TypeError) as raised:
        asyncio.run(operation.run_step(StepInput(1, 1, {}, None)))
    assert str(raised.value) == "the last step (1) of 'asks last' returned Ask, not Done"


def test_an_operation_that_asks_says_so() -> None:
    operation = Operation("asks", "asks", lambda step: Ask("Really?"), steps=2)
    with pytest.raises(TypeError) as raised:
        asyncio.run(operation.run_step(StepInput(1, 2, {}, None)))
    assert str(raised.value) == "step 1 of 'asks' returned Ask, but the operation does not declare asks=True"


def test_state_flows_from_step_to_step_and_the_last_returns_structured_data() -> None:
    state = None
    results = []
    for step in (1, 2, 3, 4):
        result = asyncio.run(run_operation_step(
            StepRequest("count primes", step, 4, 0.0, "op-p", inputs={"limit": 100_000}, state=state), Settings()))
        results.append(result)
        state = result.state
    # 9,592 primes below 100,000; the largest is 99,991. Each step saw the previous one's count.
    # pi(25000) = 2762, pi(50000) = 5133, pi(75000) = 7393: each step counted its quarter on top of the last.
    assert [result.state for result in results] == [
        {"count": 2762, "largest": 24989}, {"count": 5133, "largest": 49999}, {"count": 7393, "largest": 74959}, None
    ]
    assert results[3].data == {"kind": "facts", "facts": [
        {"name": "Limit", "value": "100,000"},
        {"name": "Primes found", "value": "9,592"},
        {"name": "Largest prime", "value": "99,991"},
        {"name": "Steps", "value": "4"},
    ]}


def test_a_plain_step_function_runs_in_a_worker_thread_off_the_event_loop() -> None:
    import threading

    from operations import Done, Operation, StepInput

    seen: list[str] = []

    def step(_: StepInput) -> Done:
        seen.append(threading.current_thread().name)
        return Done(text="ok")

    async def run() -> str:
        await Operation("t", "t", step, steps=1).run_step(StepInput(1, 1, {}, None))
        return threading.current_thread().name

    loop_thread = asyncio.run(run())
    assert seen != [loop_thread]


class CountingExecutor(ThreadPoolExecutor):
    """The loop's default executor (what asyncio.to_thread uses), counting the calls it was handed."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.calls = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.calls += 1
        return super().submit(fn, *args, **kwargs)


def worker_calls_of(operation: Operation) -> int:
    """How many calls running one step of ``operation`` handed to a worker thread."""
    executor = CountingExecutor()

    async def run() -> None:
        asyncio.get_running_loop().set_default_executor(executor)
        await operation.run_step(StepInput(1, 1, {}, None))

    asyncio.run(run())
    return executor.calls


def test_a_step_object_with_an_async_call_runs_on_the_loop_without_a_worker_thread() -> None:
    # The seed's steps are such objects (operations/seed.py SimulatedWork); a plain function still takes a thread.
    assert worker_calls_of(CATALOGUE["option 1"]) == 0
    assert worker_calls_of(Operation("t", "t", lambda _: Done(text="ok"), steps=1)) == 1


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
    assert asyncio.run(activity(request=payload, context=STEP_CONTEXT)) == {
        "step": 2, "result": EXPECTED_RESULTS["option 1"]}
    with pytest.raises(InjectedFault):
        asyncio.run(activity(request={**payload, "option": "option 3", "step": 1}, context=STEP_CONTEXT))
    assert asyncio.run(activity(request={**payload, "option": "option 3", "step": 1, "attempt": 2},
                               context=STEP_CONTEXT)) == {
        "step": 1, "result": None,
    }
