"""A progress report: how far a running operation is, posted to the bot while it runs (operations/api.py
``progress_every_seconds``), signed by the function app and verified by the bot like an outcome.

It travels as the outcome does: a Direct Line ``LongOperationResponse`` event whose value is the continuation
activity with the signed report as its own value (contract/outcome_event.py); its ``kind`` tells the bot which it
is (``event_kind`` there). The signature covers the report and the continuation's routing (contract/routing.py),
under its own top-level key, so a report's signature can never pass for an outcome's or the other way round.
"""

from dataclasses import dataclass, field, replace
from typing import Any, Final

from contract._fields import Signed, optional_str, require_int, require_kind, require_object, require_str
from contract.errors import ContractError
from contract.outcome_event import ORCHESTRATOR_SENDER, response_event, response_value
from contract.routing import Routing
from contract.signing import routed, signature_matches, signature_of

PROGRESS_KIND: Final = "LongOperationProgress"


@dataclass(frozen=True)
class ProgressReport(Signed):
    instance_id: str
    conversation_id: str
    option: str
    # Steps finished, of ``steps``; the bot shows a report only when its step is past the last one shown.
    step: int
    steps: int
    signature: str = ""
    kind: str = PROGRESS_KIND

    def __post_init__(self) -> None:
        if not 1 <= self.step <= self.steps:
            raise ContractError("progress.step", f"expected 1 to {self.steps}, got {self.step}")

    @property
    def percent(self) -> int:
        return (self.step * 100) // self.steps

    def unsigned(self) -> "ProgressReport":
        return replace(self, signature="")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "instanceId": self.instance_id,
            "conversationId": self.conversation_id,
            "option": self.option,
            "step": self.step,
            "steps": self.steps,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, value: object) -> "ProgressReport":
        data = require_object(value, "progress")
        kind = require_kind(data, PROGRESS_KIND, "progress.")
        steps = require_int(data, "steps", "progress.")
        if steps < 1:
            raise ContractError("progress.steps", f"expected 1 or more, got {steps}")
        return cls(
            instance_id=require_str(data, "instanceId", "progress."),
            conversation_id=require_str(data, "conversationId", "progress."),
            option=require_str(data, "option", "progress."),
            step=require_int(data, "step", "progress."),
            steps=steps,
            signature=optional_str(data, "signature", "progress.") or "",
            kind=kind,
        )


def sign_progress(report: ProgressReport, routing: Routing, key: str) -> ProgressReport:
    """The report with its signature set, covering its fields and ``routing`` (as contract/signing.py does for an
    outcome)."""
    return replace(report, signature=signature_of(routed("progress", report.signing_fields(), routing), key))


def verify_progress(report: ProgressReport, routing: Routing, key: str) -> bool:
    return signature_matches(routed("progress", report.signing_fields(), routing), key, report.signature)


@dataclass(frozen=True)
class ProgressEvent:
    """The Direct Line event carrying a report: the same name and shape as the outcome's (OutcomeEvent)."""

    continuation: dict[str, Any]
    report: ProgressReport
    sender: dict[str, str] = field(default_factory=lambda: dict(ORCHESTRATOR_SENDER))

    @property
    def routing(self) -> Routing:
        return Routing.of(self.continuation)

    def to_json(self) -> dict[str, Any]:
        return response_event(self.continuation, self.report.to_json(), self.sender)

    @classmethod
    def from_value(cls, value: object) -> "ProgressEvent":
        continuation, carried = response_value(value)
        return cls(continuation, ProgressReport.from_json(carried))
