"""StopReason: the facts of an operation that did not complete, for the bot to put into words.

The function app sends facts, never sentences: ``bot/texts.py`` owns every sentence a user reads.
"""

import math
from dataclasses import dataclass
from typing import Any

from contract._fields import require_int, require_number, require_object, require_str
from contract.errors import ContractError


@dataclass(frozen=True)
class Unanswered:
    """The operation stopped because its question (contract/question.py) got no answer in time: within the
    question's own timeout, or (``by_deadline``) before the operation's deadline, which came first."""

    question: str
    timeout_seconds: float
    by_deadline: bool = False

    def to_json(self) -> dict[str, Any]:
        timeout = self.timeout_seconds
        return {"question": self.question,
                "timeoutSeconds": int(timeout) if float(timeout).is_integer() else float(timeout),
                "byDeadline": self.by_deadline}

    @classmethod
    def from_json(cls, value: object) -> "Unanswered":
        data = require_object(value, "outcome.reason.unanswered")
        by_deadline = data.get("byDeadline", False)
        if not isinstance(by_deadline, bool):
            raise ContractError("outcome.reason.unanswered.byDeadline", "expected a boolean")
        return cls(question=require_str(data, "question", "outcome.reason.unanswered."),
                   timeout_seconds=require_number(data, "timeoutSeconds", "outcome.reason.unanswered."),
                   by_deadline=by_deadline)


@dataclass(frozen=True)
class StopReason:
    # The step that did not finish (1-based) and how many steps the operation has.
    step: int
    steps: int
    # Attempts made at that step: every allowed one when it failed; when the deadline passed, those started before
    # it (0 if it passed before the step began).
    attempts: int
    # The operation's deadline, in seconds after it started.
    timeout_seconds: float
    # Set when the step's question got no answer in time (status timed_out); on the wire only then, so the reasons
    # of the previous contract keep their exact form (and signature).
    unanswered: Unanswered | None = None

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ContractError("outcome.reason.steps", f"expected at least 1, got {self.steps}")
        if not 1 <= self.step <= self.steps:
            raise ContractError("outcome.reason.step", f"expected 1 to {self.steps}, got {self.step}")
        if self.attempts < 0:
            raise ContractError("outcome.reason.attempts", f"expected 0 or more, got {self.attempts}")
        if not (math.isfinite(self.timeout_seconds) and self.timeout_seconds > 0):
            raise ContractError("outcome.reason.timeoutSeconds",
                                f"expected a finite number above 0, got {self.timeout_seconds}")

    def to_json(self) -> dict[str, Any]:
        # A whole number of seconds goes out as an integer: the signature covers this form, and a JSON stack on the
        # way (Direct Line's included) may write 60.0 as 60; after parsing, both sides produce the same form again.
        timeout = self.timeout_seconds
        data: dict[str, Any] = {
            "step": self.step,
            "steps": self.steps,
            "attempts": self.attempts,
            "timeoutSeconds": int(timeout) if float(timeout).is_integer() else float(timeout),
        }
        if self.unanswered is not None:
            data["unanswered"] = self.unanswered.to_json()
        return data

    @classmethod
    def from_json(cls, value: object) -> "StopReason":
        data = require_object(value, "outcome.reason")
        unanswered = data.get("unanswered")
        return cls(
            step=require_int(data, "step", "outcome.reason."),
            steps=require_int(data, "steps", "outcome.reason."),
            attempts=require_int(data, "attempts", "outcome.reason."),
            timeout_seconds=require_number(data, "timeoutSeconds", "outcome.reason."),
            unanswered=None if unanswered is None else Unanswered.from_json(unanswered),
        )
