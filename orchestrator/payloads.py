"""What the starter, the orchestrator and the activities hand each other (JSON in the durable history).

These shapes never leave the function app, so they live here rather than in contract/. Keys are camelCase
like every other JSON the Durable host stores.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from contract import DeliveryReceipt, Outcome, ProgressReport, Question, StartRequest
from orchestrator.settings import RetryPolicy, Settings


def _retry_to_json(policy: RetryPolicy) -> dict[str, Any]:
    return {
        "attempts": policy.attempts,
        "firstRetrySeconds": policy.first_retry_seconds,
        "backoffCoefficient": policy.backoff_coefficient,
        "maxRetrySeconds": policy.max_retry_seconds,
    }


def _retry_from_json(data: dict[str, Any]) -> RetryPolicy:
    # Inputs written before backoff existed have neither key: a constant delay, as they were started with.
    max_retry = data.get("maxRetrySeconds")
    return RetryPolicy(
        int(data["attempts"]),
        float(data["firstRetrySeconds"]),
        float(data.get("backoffCoefficient", 1.0)),
        None if max_retry is None else float(max_retry),
    )


@dataclass(frozen=True)
class Handover:
    """What one generation of the orchestration hands the next when it continues as new (orchestrator/workflow.py).

    ``deadline`` is the first generation's, as an absolute time: each generation's clock starts anew, so a deadline
    computed again from it would move. None in the first generation, which fixes it.
    """

    deadline: datetime | None = None
    # Steps finished by earlier generations; the next generation starts at the step after.
    steps_done: int = 0
    # The result text so far (the last step that returned one).
    result: str = ""
    generation: int = 1
    # The operation's state after the last step done (operations/api.py Next), and its structured result so far.
    state: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    # The answer to the question the last step done asked (operations/api.py Ask), for the next generation's first
    # step: a question is asked and answered within one generation, and only its answer crosses.
    answer: str | None = None
    # When the last progress report was posted (orchestration clock); None: none yet, the cadence counts from the
    # start. Carried so that a new generation does not report again at once.
    progress_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "deadline": None if self.deadline is None else self.deadline.isoformat(),
            "stepsDone": self.steps_done,
            "result": self.result,
            "generation": self.generation,
            # Only when there is some, as the other optional parts of the plan.
            **({"state": self.state} if self.state is not None else {}),
            **({"data": self.data} if self.data is not None else {}),
            **({"answer": self.answer} if self.answer is not None else {}),
            **({"progressAt": self.progress_at.isoformat()} if self.progress_at is not None else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Handover":
        deadline = data.get("deadline")
        return cls(
            deadline=None if deadline is None else datetime.fromisoformat(str(deadline)),
            steps_done=int(data.get("stepsDone", 0)),
            result=str(data.get("result") or ""),
            generation=int(data.get("generation", 1)),
            state=None if data.get("state") is None else dict(data["state"]),
            data=None if data.get("data") is None else dict(data["data"]),
            answer=None if data.get("answer") is None else str(data["answer"]),
            progress_at=None if data.get("progressAt") is None else datetime.fromisoformat(str(data["progressAt"])),
        )


@dataclass(frozen=True)
class OperationPlan:
    """The orchestration input: the request plus every number the orchestrator needs from settings.

    ``steps_per_generation`` is None in inputs written before generations existed: such an instance, in flight at
    the upgrade, runs all its steps in one generation as it began (continuing it as new part-way would not match
    its history on replay).
    """

    option: str
    continuation: dict[str, Any]
    steps: int
    step_seconds: float
    timeout_seconds: float
    step_retry: RetryPolicy
    notify_retry: RetryPolicy
    steps_per_generation: int | None = None
    handover: Handover = field(default_factory=Handover)
    # The operation's validated inputs; absent from a plan of the previous version (in flight): none.
    inputs: dict[str, Any] = field(default_factory=dict)
    # The operation's progress cadence (operations/api.py); None (also in a plan of the previous version): no reports.
    progress_every_seconds: float | None = None

    @classmethod
    def of(cls, request: StartRequest, settings: Settings, steps: int | None = None,
           progress_every_seconds: float | None = None) -> "OperationPlan":
        """``steps``: the operation's own step count; None uses the OperationSteps setting (the seed's options).
        ``progress_every_seconds``: the operation's progress cadence, if it has one."""
        return cls(
            progress_every_seconds=progress_every_seconds,
            option=request.option,
            continuation=request.continuation,
            inputs=request.inputs,
            steps=settings.operation_steps if steps is None else steps,
            step_seconds=settings.step_seconds,
            timeout_seconds=settings.timeout_seconds,
            step_retry=settings.step_retry,
            notify_retry=settings.notify_retry,
            steps_per_generation=settings.steps_per_generation,
        )

    def handing_over(self, handover: Handover) -> "OperationPlan":
        """The input of the next generation: this plan with ``handover``."""
        return replace(self, handover=handover)

    @property
    def conversation_id(self) -> str:
        return str(self.continuation["conversation"]["id"])

    def to_json(self) -> dict[str, Any]:
        return {
            "option": self.option,
            "continuation": self.continuation,
            "steps": self.steps,
            "stepSeconds": self.step_seconds,
            "timeoutSeconds": self.timeout_seconds,
            "stepRetry": _retry_to_json(self.step_retry),
            "notifyRetry": _retry_to_json(self.notify_retry),
            "stepsPerGeneration": self.steps_per_generation,
            "handover": self.handover.to_json(),
            # Only when there are some: a plan without inputs keeps the previous version's exact shape.
            **({"inputs": self.inputs} if self.inputs else {}),
            **({"progressEverySeconds": self.progress_every_seconds}
               if self.progress_every_seconds is not None else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "OperationPlan":
        every = data.get("progressEverySeconds")
        return cls(
            option=str(data["option"]),
            continuation=dict(data["continuation"]),
            steps=int(data["steps"]),
            step_seconds=float(data["stepSeconds"]),
            timeout_seconds=float(data["timeoutSeconds"]),
            step_retry=_retry_from_json(data["stepRetry"]),
            notify_retry=_retry_from_json(data["notifyRetry"]),
            # Both absent in inputs written before generations existed (see the class doc).
            steps_per_generation=None if data.get("stepsPerGeneration") is None else int(data["stepsPerGeneration"]),
            handover=Handover.from_json(data.get("handover") or {}),
            inputs=dict(data.get("inputs") or {}),
            progress_every_seconds=None if every is None else float(every),
        )


@dataclass(frozen=True)
class StepRequest:
    """Input of ``run_operation_step``: attempt ``attempt`` at step ``step`` (both 1-based) of ``steps``.

    The orchestrator retries steps itself, so each attempt is its own activity call and knows its number
    (for logs and for ``OperationFaults`` items that fail only the first attempts).
    """

    option: str
    step: int
    steps: int
    step_seconds: float
    instance_id: str
    attempt: int = 1
    inputs: dict[str, Any] = field(default_factory=dict)
    # What the previous step returned (operations/api.py ``Next``); None on the first step. It flows step to step
    # through the orchestrator, so it is part of what a generation of the orchestration carries to the next.
    state: dict[str, Any] | None = None
    # The answer to the previous step's question (operations/api.py Ask); None when it asked none.
    answer: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "option": self.option,
            "step": self.step,
            "steps": self.steps,
            "stepSeconds": self.step_seconds,
            "instanceId": self.instance_id,
            "attempt": self.attempt,
            # Only when set: a seed step's request keeps the previous version's exact shape.
            **({"inputs": self.inputs} if self.inputs else {}),
            **({"state": self.state} if self.state is not None else {}),
            **({"answer": self.answer} if self.answer is not None else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StepRequest":
        return cls(
            option=str(data["option"]),
            step=int(data["step"]),
            steps=int(data["steps"]),
            step_seconds=float(data["stepSeconds"]),
            instance_id=str(data["instanceId"]),
            # Absent in inputs written before attempts were numbered.
            attempt=int(data.get("attempt", 1)),
            # Both absent in requests written before the operation API.
            inputs=dict(data.get("inputs") or {}),
            state=None if data.get("state") is None else dict(data["state"]),
            answer=None if data.get("answer") is None else str(data["answer"]),
        )


@dataclass(frozen=True)
class AskSpec:
    """What a step asks (operations/api.py Ask), as it travels from the step's activity to the orchestrator."""

    question: str
    choices: tuple[str, ...] | None
    timeout_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "choices": None if self.choices is None else list(self.choices),
                "timeoutSeconds": self.timeout_seconds}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AskSpec":
        choices = data.get("choices")
        return cls(str(data["question"]), None if choices is None else tuple(str(c) for c in choices),
                   float(data["timeoutSeconds"]))


@dataclass(frozen=True)
class StepResult:
    """Output of ``run_operation_step``: the state for the next step, or on the last step the operation's result
    (text in ``result``, or a structured one in ``data``)."""

    step: int
    result: str | None = None
    state: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    # The step asks the conversation this before the next step runs (operations/api.py Ask).
    ask: AskSpec | None = None

    @property
    def done(self) -> bool:
        return self.result is not None or self.data is not None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"step": self.step, "result": self.result}
        if self.state is not None:
            data["state"] = self.state
        if self.data is not None:
            data["data"] = self.data
        if self.ask is not None:
            data["ask"] = self.ask.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StepResult":
        # "state" and "data" are absent from results written before the operation API.
        result, state, result_data, ask = data.get("result"), data.get("state"), data.get("data"), data.get("ask")
        return cls(
            step=int(data["step"]),
            result=None if result is None else str(result),
            state=None if state is None else dict(state),
            data=None if result_data is None else dict(result_data),
            ask=None if ask is None else AskSpec.from_json(ask),
        )


@dataclass(frozen=True)
class NotifyRequest:
    """Input of ``notify_bot``: the unsigned outcome and where to deliver it.

    The instance id doubles as the bot's dedupe key: activities run at least once, so the bot may
    receive the same outcome twice and must drop the second.
    """

    instance_id: str
    continuation: dict[str, Any]
    outcome: Outcome

    def to_json(self) -> dict[str, Any]:
        return {"instanceId": self.instance_id, "continuation": self.continuation, "outcome": self.outcome.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "NotifyRequest":
        return cls(
            instance_id=str(data["instanceId"]),
            continuation=dict(data["continuation"]),
            outcome=Outcome.from_json(data["outcome"]),
        )


@dataclass(frozen=True)
class ProgressRequest:
    """Input of ``notify_progress``: the unsigned report and the continuation it is for."""

    continuation: dict[str, Any]
    report: ProgressReport

    def to_json(self) -> dict[str, Any]:
        return {"continuation": self.continuation, "report": self.report.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ProgressRequest":
        return cls(continuation=dict(data["continuation"]), report=ProgressReport.from_json(data["report"]))


@dataclass(frozen=True)
class ProgressPosted:
    """Output of ``notify_progress``: whether the report reached the bot, and if not, why (it is not retried)."""

    posted: bool
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"posted": self.posted, "detail": self.detail}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ProgressPosted":
        return cls(posted=bool(data.get("posted")), detail=str(data.get("detail") or ""))


@dataclass(frozen=True)
class NotifyResult:
    """Output of ``notify_bot``: the signed outcome exactly as posted, and where Direct Line put it.

    ``refusal`` is set when the bot answered that the user's conversation refused the outcome for good (its
    receipt, contract/receipt.py): nothing was delivered, and retrying cannot help.
    """

    outcome: Outcome
    conversation_id: str
    activity_id: str
    refusal: DeliveryReceipt | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "outcome": self.outcome.to_json(),
            "directLineConversationId": self.conversation_id,
            "directLineActivityId": self.activity_id,
        }
        if self.refusal is not None:
            data["refusal"] = self.refusal.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "NotifyResult":
        # Absent in outputs written before refusals were reported.
        refusal = data.get("refusal")
        return cls(
            outcome=Outcome.from_json(data["outcome"]),
            conversation_id=str(data["directLineConversationId"]),
            activity_id=str(data["directLineActivityId"]),
            refusal=None if refusal is None else DeliveryReceipt.from_json(refusal),
        )


@dataclass(frozen=True)
class AskRequest:
    """Input of ``ask_bot``: the unsigned question and the conversation to ask it in."""

    instance_id: str
    continuation: dict[str, Any]
    question: Question

    def to_json(self) -> dict[str, Any]:
        return {"instanceId": self.instance_id, "continuation": self.continuation,
                "question": self.question.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AskRequest":
        return cls(str(data["instanceId"]), dict(data["continuation"]), Question.from_json(data["question"]))


@dataclass(frozen=True)
class AskResult:
    """Output of ``ask_bot``: where Direct Line put the question, or the conversation's refusal (as NotifyResult)."""

    conversation_id: str
    activity_id: str
    refusal: DeliveryReceipt | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"directLineConversationId": self.conversation_id,
                                "directLineActivityId": self.activity_id}
        if self.refusal is not None:
            data["refusal"] = self.refusal.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AskResult":
        refusal = data.get("refusal")
        return cls(str(data["directLineConversationId"]), str(data["directLineActivityId"]),
                   None if refusal is None else DeliveryReceipt.from_json(refusal))
