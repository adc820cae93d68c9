"""A progress report: how far a running operation is, posted to the bot while it runs (operations/api.py
``progress_every_seconds``), signed by the function app and verified by the bot like an outcome.

It travels as the outcome does: a Direct Line ``LongOperationResponse`` event whose value is the continuation
activity with the signed report as its own value (contract/outcome_event.py); its ``kind`` tells the bot which it
is (``event_kind``). The signature covers the report and the continuation's routing (contract/routing.py), under
its own top-level key, so a report's signature can never pass for an outcome's or the other way round.
"""

import hmac
from dataclasses import dataclass, field, replace
from typing import Any, Final

from contract._fields import optional_str, require_int, require_object, require_str
from contract.errors import ContractError
from contract.events import LONG_OPERATION_RESPONSE_EVENT
from contract.outcome_event import ORCHESTRATOR_SENDER
from contract.routing import Routing
from contract.signing import canonical_hmac
from contract.start import validate_continuation

PROGRESS_KIND: Final = "LongOperationProgress"


@dataclass(frozen=True)
class ProgressReport:
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
        kind = require_str(data, "kind", "progress.")
        if kind != PROGRESS_KIND:
            raise ContractError("progress.kind", f"expected {PROGRESS_KIND!r}, got {kind!r}")
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


def _signed_payload(report: ProgressReport, routing: Routing) -> dict[str, object]:
    fields = report.unsigned().to_json()
    del fields["signature"]
    return {"progress": fields, "routing": routing.to_json()}


def sign_progress(report: ProgressReport, routing: Routing, key: str) -> ProgressReport:
    """The report with its signature set, covering its fields and ``routing`` (as contract/signing.py does for an
    outcome)."""
    if not key:
        raise ValueError("the signing key is empty")
    return replace(report, signature=canonical_hmac(_signed_payload(report, routing), key))


def verify_progress(report: ProgressReport, routing: Routing, key: str) -> bool:
    if not key or not report.signature:
        return False
    return hmac.compare_digest(canonical_hmac(_signed_payload(report, routing), key), report.signature)


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
        return {
            "type": "event",
            "name": LONG_OPERATION_RESPONSE_EVENT,
            "from": dict(self.sender),
            "value": {**self.continuation, "value": self.report.to_json()},
        }

    @classmethod
    def from_value(cls, value: object) -> "ProgressEvent":
        continuation = validate_continuation(require_object(value, "value"))
        report = ProgressReport.from_json(continuation.get("value"))
        return cls({k: v for k, v in continuation.items() if k != "value"}, report)


def event_kind(value: object) -> str | None:
    """The ``kind`` of what a LongOperationResponse event's value carries (an outcome, a progress report, ...),
    or None when it names none: the bot dispatches on it before it reads the event any further."""
    inner = value.get("value") if isinstance(value, dict) else None
    kind = inner.get("kind") if isinstance(inner, dict) else None
    return kind if isinstance(kind, str) else None
