"""A step that asks mid-run (operations/tidy.py), through the real function_app.py on the devhost: the Python SDK's
replay under the devhost's model of the extension's OutOfProcOrchestrationShim, the answer raised as an external
event through the ``sendEventPostUri`` the starter returned, as the bot does (bot/operations_client.py)."""

import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from azure.durable_functions.models.utils.df_serialization import df_loads

from contract import Answer, Outcome, OutcomeStatus, Question, Routing, verify_outcome, verify_question
from operations import tidy
from tests.orchestrator import test_on_devhost as on_devhost
from tests.orchestrator.conftest import SIGNING_KEY
from tests.orchestrator.test_on_devhost import CONTINUATION, TERMINAL, WAIT_SECONDS, Stack, results_of

# The same fixture: the project's function app on the devhost with a loopback Direct Line.
stack = on_devhost.stack
ROUTING = Routing.of(CONTINUATION)
QUESTION = "Delete the 60 duplicates?"


def posted_values(running: Stack) -> list[dict[str, Any]]:
    """What every successful post to Direct Line carried (an outcome's or a question's JSON), in order."""
    posts = [r for r in running.direct_line.requests if r.method == "POST" and r.path.endswith("/activities")]
    return [r.body["value"]["value"] for r in posts]


def questions(running: Stack) -> list[Question]:
    return [Question.from_json(v) for v in posted_values(running) if v["kind"] == "LongOperationQuestion"]


def outcomes(running: Stack) -> list[Outcome]:
    return [Outcome.from_json(v) for v in posted_values(running) if v["kind"] == "LongOperationComplete"]


def facts(outcome: Outcome) -> dict[str, str]:
    assert outcome.data is not None
    return {fact["name"]: fact["value"] for fact in outcome.data["facts"]}


class Asked:
    """An operation started over HTTP; answers go to its ``sendEventPostUri`` (``{eventName}`` replaced)."""

    def __init__(self, running: Stack) -> None:
        self.running = running
        self.started: dict[str, Any] = running.host.run(self._start())

    async def _start(self) -> dict[str, Any]:
        async with aiohttp.ClientSession() as session, session.post(
            f"{self.running.host.base_url}/api/operations", headers=self.running.host.starter_headers,
            json={"option": "tidy files", "continuation": CONTINUATION},
        ) as response:
            assert response.status == 202, await response.text()
            started: dict[str, Any] = await response.json()
            return started

    def question(self, count: int = 1) -> Question:
        """The ``count``-th question posted, once it has been."""
        self.until(lambda: len(questions(self.running)) >= count)
        return questions(self.running)[count - 1]

    def answer(self, event_name: str, payload: dict[str, Any]) -> int:
        return self.running.host.run(self._raise(event_name, payload))

    async def _raise(self, event_name: str, payload: dict[str, Any]) -> int:
        url = self.started["sendEventPostUri"].replace("{eventName}", event_name)
        async with aiohttp.ClientSession() as session, session.post(url, json=payload) as response:
            return response.status

    def status(self) -> dict[str, Any]:
        return self.running.host.run(self._status())

    async def _status(self) -> dict[str, Any]:
        async with aiohttp.ClientSession() as session, session.get(
            self.started["statusQueryGetUri"] + "&showHistory=true"
        ) as response:
            status: dict[str, Any] = await response.json()
            return status

    def finished(self) -> dict[str, Any]:
        self.until(lambda: self.status()["runtimeStatus"] in TERMINAL)
        return self.status()

    def until(self, condition: Callable[[], bool]) -> None:
        """Poll ``condition`` (from the test's thread: it may call the host) until it holds, within WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.started['id']}: nothing came in time: {self.status()}")
            time.sleep(0.02)


def test_the_answer_reaches_the_next_step_and_the_result_is_delivered(stack: Callable[..., Stack]) -> None:
    asked = Asked(stack())
    question = asked.question()

    assert verify_question(question, ROUTING, SIGNING_KEY)
    assert (question.text, question.choices, question.step, question.event_name) == (
        QUESTION, ("Yes", "No"), 1, "LongOperationAnswer-1")
    waiting = asked.status()["customStatus"]
    assert (waiting["stage"], waiting["step"], waiting["message"]) == (
        "waiting", 1, "Step 1 of 2 asked a question; waiting for the answer.")
    assert asked.answer(question.event_name, Answer(question.question_id, "Yes").to_json()) == 202
    status = asked.finished()

    assert status["runtimeStatus"] == "Completed", status["output"]
    [outcome] = outcomes(asked.running)
    assert verify_outcome(outcome, ROUTING, SIGNING_KEY)
    assert outcome.status is OutcomeStatus.COMPLETED
    assert facts(outcome) == {"Files scanned": "240", "Duplicates found": "60", "Your answer": "Yes",
                              "Deleted": "60", "Space freed": "253,463 bytes", "Files left": "180",
                              "Duplicates left": "0"}
    assert results_of(status, "ask_bot") == ["TaskCompleted"]
    assert [e["EventType"] for e in status["historyEvents"]].count("EventRaised") == 1


def test_an_event_that_is_no_answer_to_the_question_is_ignored_and_the_wait_goes_on(
    stack: Callable[..., Stack],
) -> None:
    asked = Asked(stack())
    question = asked.question()
    # Not one of the choices, then an answer to another question: both ignored, each wait with a fresh timer.
    assert asked.answer(question.event_name, Answer(question.question_id, "maybe").to_json()) == 202
    assert asked.answer(question.event_name, Answer(f"{question.instance_id}:7", "Yes").to_json()) == 202
    asked.until(lambda: [e["EventType"] for e in asked.status()["historyEvents"]].count("EventRaised") == 2)
    assert asked.status()["runtimeStatus"] == "Running"
    assert asked.answer(question.event_name, Answer(question.question_id, "No").to_json()) == 202
    status = asked.finished()

    assert status["runtimeStatus"] == "Completed", status["output"]
    [outcome] = outcomes(asked.running)
    assert (facts(outcome)["Your answer"], facts(outcome)["Deleted"], facts(outcome)["Files left"]) == ("No", "0",
                                                                                                     "240")


def test_an_answer_crosses_a_continue_as_new_to_the_next_generation(stack: Callable[..., Stack]) -> None:
    # One step per generation: step 1 asks and is answered in generation 1; generation 2 runs step 2 with it.
    asked = Asked(stack(StepsPerGeneration="1"))
    question = asked.question()
    assert asked.answer(question.event_name, Answer(question.question_id, "Yes").to_json()) == 202
    status = asked.finished()

    assert status["runtimeStatus"] == "Completed", status["output"]
    handover = json.loads(status["input"])["handover"]
    assert (handover["generation"], handover["stepsDone"], handover["answer"]) == (2, 1, "Yes")
    [outcome] = outcomes(asked.running)
    assert facts(outcome)["Deleted"] == "60"


def test_the_app_runs_under_the_sdks_strict_typing_mode(
    stack: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # azure-functions 1.26 warns "df_loads was called without expected_type ... prepare for strict typing
    # (AZURE_FUNCTIONS_DURABLE_STRICT_TYPING=1)" (azure/functions/_durable_functions.py). Strict mode decodes no
    # custom-object envelope without a type: every payload here (inputs, activity results, the answer event, the
    # handover of a continue-as-new) must be plain JSON for a user who turns it on.
    monkeypatch.setenv("AZURE_FUNCTIONS_DURABLE_STRICT_TYPING", "1")
    with pytest.raises(TypeError):  # the mode is on in this process, where the devhost runs the app
        df_loads(json.dumps({"__class__": "Answer", "__module__": "contract", "__data__": "{}"}))
    asked = Asked(stack(StepsPerGeneration="1"))
    question = asked.question()
    assert asked.answer(question.event_name, Answer(question.question_id, "Yes").to_json()) == 202
    status = asked.finished()

    assert status["runtimeStatus"] == "Completed", status["output"]
    assert json.loads(status["input"])["handover"]["answer"] == "Yes"
    [outcome] = outcomes(asked.running)
    assert verify_outcome(outcome, ROUTING, SIGNING_KEY)
    assert facts(outcome)["Deleted"] == "60"


def test_no_answer_within_the_questions_timeout_stops_the_operation_with_that_reason(
    stack: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tidy, "ANSWER_SECONDS", 0.5)
    asked = Asked(stack())
    status = asked.finished()

    assert status["runtimeStatus"] == "Completed", status["output"]
    [outcome] = outcomes(asked.running)
    assert verify_outcome(outcome, ROUTING, SIGNING_KEY)
    assert outcome.status is OutcomeStatus.TIMED_OUT
    assert outcome.reason is not None and outcome.reason.unanswered is not None
    assert (outcome.reason.step, outcome.reason.steps, outcome.reason.attempts) == (2, 2, 0)
    assert (outcome.reason.unanswered.question, outcome.reason.unanswered.timeout_seconds,
            outcome.reason.unanswered.by_deadline) == (QUESTION, 0.5, False)
    assert status["customStatus"]["message"] == (
        "Stopped before step 2 of 2: no answer to the question of step 1 within 0.5 seconds.")
    # Gone with the instance: an answer now is refused as the extension refuses it (410 Gone).
    [question] = questions(asked.running)
    assert asked.answer(question.event_name, Answer(question.question_id, "Yes").to_json()) == 410


def test_the_deadline_coming_before_the_questions_timeout_stops_the_wait(stack: Callable[..., Stack]) -> None:
    asked = Asked(stack(OperationTimeoutSeconds="1"))
    status = asked.finished()

    assert status["runtimeStatus"] == "Completed", status["output"]
    [outcome] = outcomes(asked.running)
    assert outcome.reason is not None and outcome.reason.unanswered is not None
    assert (outcome.reason.unanswered.timeout_seconds, outcome.reason.unanswered.by_deadline) == (120, True)
    [question] = questions(asked.running)
    assert question.timeout_seconds == 120


def test_a_question_whose_post_fails_once_is_posted_again_after_the_back_off(stack: Callable[..., Stack]) -> None:
    running = stack()
    running.direct_line.failures["post"] = (502, "BotRejectedActivity", "the bot answered 500")
    running.direct_line.failure_budget["post"] = 1
    asked = Asked(running)
    question = asked.question()
    assert asked.answer(question.event_name, Answer(question.question_id, "Yes").to_json()) == 202
    status = asked.finished()

    assert status["runtimeStatus"] == "Completed", status["output"]
    assert results_of(status, "ask_bot") == ["TaskFailed", "TaskCompleted"]
    assert on_devhost.back_offs_after_failed(status, "ask_bot") == [0.05]
    # The refused post and the one that went through carry the same question: the bot shows it once.
    assert [q.question_id for q in questions(running)] == [question.question_id] * 2


def test_a_question_nobody_can_be_asked_fails_the_instance_naming_it(stack: Callable[..., Stack]) -> None:
    running = stack(NotifyRetryAttempts="2")
    running.direct_line.failures["post"] = (502, "BotRejectedActivity", "the bot answered 500")
    status = Asked(running).finished()

    assert status["runtimeStatus"] == "Failed", status
    assert "Could not deliver the question of step 1 to the bot after 2 attempts: " in status["output"]
    assert results_of(status, "ask_bot") == ["TaskFailed", "TaskFailed"]
    assert (status["customStatus"]["stage"], status["customStatus"]["message"]) == (
        "failed", "The question of step 1 could not be delivered to the conversation.")
