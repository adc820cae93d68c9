"""Question: what an operation's step asks the conversation mid-run, signed by the function app like an outcome.

It reaches the bot in the same ``LongOperationResponse`` event as an outcome (its continuation's value), told apart
by its ``kind``; the owner's answer goes back to the instance as a Durable external event (``Answer``), raised under
the question's own ``eventName`` through the ``sendEventPostUri`` the starter returned. One event name per asking
step: an answer to an earlier question (a late duplicate) is never taken for the answer to a later one, and the
Python SDK, which keeps one buffered event per name, cannot hand a stale one to a later wait.
"""

import math
from dataclasses import dataclass, replace
from typing import Any, Final

from contract._fields import (
    Signed,
    optional_str,
    require_int,
    require_kind,
    require_number,
    require_object,
    require_str,
)
from contract.errors import ContractError
from contract.events import QUESTION_KIND

# The external event an answer is raised as, followed by "-<step>" (``Question.event_name``).
ANSWER_EVENT_PREFIX: Final = "LongOperationAnswer"
# The longest free-text answer the bot sends on, and the longest question (both in characters).
MAX_ANSWER_CHARS: Final = 1000
MAX_QUESTION_CHARS: Final = 500


def answer_event_name(step: int) -> str:
    return f"{ANSWER_EVENT_PREFIX}-{step}"


@dataclass(frozen=True)
class Question(Signed):
    instance_id: str
    conversation_id: str
    # The step that asked (1-based); its answer goes to the next step.
    step: int
    text: str
    # The answers offered as buttons; None asks for free text.
    choices: tuple[str, ...] | None
    timeout_seconds: float
    # When the orchestration stops waiting (UTC, ISO 8601): the question's timeout or the operation's deadline.
    expires_at: str
    signature: str = ""
    kind: str = QUESTION_KIND

    def __post_init__(self) -> None:
        if self.step < 1:
            raise ContractError("question.step", f"expected 1 or more, got {self.step}")
        if not self.text.strip():
            raise ContractError("question.text", "expected a non-empty string")
        if self.choices is not None and (not self.choices or not all(c.strip() for c in self.choices)):
            raise ContractError("question.choices", "expected non-empty strings, or null for a free-text answer")
        if not (math.isfinite(self.timeout_seconds) and self.timeout_seconds > 0):
            raise ContractError("question.timeoutSeconds",
                                f"expected a finite number above 0, got {self.timeout_seconds}")

    @property
    def question_id(self) -> str:
        """Unique per instance and asking step: what the bot dedupes by and what an answer names."""
        return f"{self.instance_id}:{self.step}"

    @property
    def event_name(self) -> str:
        return answer_event_name(self.step)

    def accepts(self, answer: str) -> bool:
        """True for an answer this question takes: exactly one of its choices, or free text of 1 to
        MAX_ANSWER_CHARS characters."""
        if self.choices is not None:
            return answer in self.choices
        return bool(answer.strip()) and len(answer) <= MAX_ANSWER_CHARS

    def unsigned(self) -> "Question":
        return replace(self, signature="")

    def to_json(self) -> dict[str, Any]:
        timeout = self.timeout_seconds
        return {
            "kind": self.kind,
            "instanceId": self.instance_id,
            "conversationId": self.conversation_id,
            "step": self.step,
            "text": self.text,
            "choices": None if self.choices is None else list(self.choices),
            # Whole seconds as an integer: the signature covers this form (as StopReason's timeoutSeconds).
            "timeoutSeconds": int(timeout) if float(timeout).is_integer() else float(timeout),
            "expiresAt": self.expires_at,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, value: object) -> "Question":
        data = require_object(value, "question")
        kind = require_kind(data, QUESTION_KIND, "question.")
        choices = data.get("choices")
        if choices is not None and (not isinstance(choices, list) or not all(isinstance(c, str) for c in choices)):
            raise ContractError("question.choices", "expected an array of strings or null")
        return cls(
            instance_id=require_str(data, "instanceId", "question."),
            conversation_id=require_str(data, "conversationId", "question."),
            step=require_int(data, "step", "question."),
            text=require_str(data, "text", "question."),
            choices=None if choices is None else tuple(choices),
            timeout_seconds=require_number(data, "timeoutSeconds", "question."),
            expires_at=require_str(data, "expiresAt", "question."),
            signature=optional_str(data, "signature", "question.") or "",
            kind=kind,
        )


@dataclass(frozen=True)
class Answer:
    """The external event's payload: which question it answers, and the answer (a choice, or the free text)."""

    question_id: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"questionId": self.question_id, "answer": self.text}

    @classmethod
    def from_json(cls, value: object) -> "Answer":
        data = require_object(value, "answer")
        return cls(question_id=require_str(data, "questionId", "answer."), text=require_str(data, "answer", "answer."))
