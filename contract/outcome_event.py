"""The Direct Line event that carries an outcome to the bot: ``LongOperationResponse``.

Its value is the original continuation activity (wire JSON) whose own value is the signed outcome, as in
Microsoft's sample, so the bot can continue the original conversation from the event alone.
"""

from dataclasses import dataclass, field
from typing import Any, Final

from contract._fields import require_object
from contract.events import LONG_OPERATION_RESPONSE_EVENT
from contract.outcome import Outcome
from contract.question import Question
from contract.routing import Routing
from contract.start import validate_continuation

# Who posts the event. notify_bot also names it as the user when it starts its Direct Line conversation, and with
# Direct Line's enhanced authentication on, a user id given there must start with "dl_" (directline.md §1.2).
ORCHESTRATOR_SENDER: Final = {"id": "dl_long-operation-orchestrator", "name": "Long operation orchestrator"}


@dataclass(frozen=True)
class OutcomeEvent:
    # The continuation activity the bot sent at start (wire JSON); its "value" is replaced by the outcome.
    continuation: dict[str, Any]
    outcome: Outcome
    sender: dict[str, str] = field(default_factory=lambda: dict(ORCHESTRATOR_SENDER))

    @property
    def routing(self) -> Routing:
        """Where the continuation sends the bot: what the outcome's signature covers besides the outcome."""
        return Routing.of(self.continuation)

    def to_json(self) -> dict[str, Any]:
        return response_event(self.continuation, self.outcome.to_json(), self.sender)

    @classmethod
    def from_value(cls, value: object) -> "OutcomeEvent":
        """The event's parts from its ``value`` (what the bot receives as ``activity.value``)."""
        continuation, carried = response_value(value)
        return cls(continuation, Outcome.from_json(carried))


@dataclass(frozen=True)
class QuestionEvent:
    """The same event carrying a question a step asks (contract/question.py) instead of an outcome."""

    continuation: dict[str, Any]
    question: Question
    sender: dict[str, str] = field(default_factory=lambda: dict(ORCHESTRATOR_SENDER))

    @property
    def routing(self) -> Routing:
        return Routing.of(self.continuation)

    def to_json(self) -> dict[str, Any]:
        return response_event(self.continuation, self.question.to_json(), self.sender)

    @classmethod
    def from_value(cls, value: object) -> "QuestionEvent":
        continuation, carried = response_value(value)
        return cls(continuation, Question.from_json(carried))


def response_value(value: object) -> tuple[dict[str, Any], object]:
    """A LongOperationResponse event's ``value`` split in two: the continuation (validated, without its own value)
    and what the event carries (its kind's ``from_json`` validates that)."""
    continuation = validate_continuation(require_object(value, "value"))
    return {k: v for k, v in continuation.items() if k != "value"}, continuation.get("value")


def event_kind(value: object) -> str | None:
    """The ``kind`` of what a LongOperationResponse event's value carries (an outcome, a progress report, ...),
    or None when it names none: the bot dispatches on it before it reads the event any further."""
    inner = value.get("value") if isinstance(value, dict) else None
    kind = inner.get("kind") if isinstance(inner, dict) else None
    return kind if isinstance(kind, str) else None


def response_event(continuation: dict[str, Any], value: dict[str, Any], sender: dict[str, str]) -> dict[str, Any]:
    """A LongOperationResponse event: the continuation, its value replaced by what the event carries."""
    return {"type": "event", "name": LONG_OPERATION_RESPONSE_EVENT, "from": dict(sender),
            "value": {**continuation, "value": value}}

