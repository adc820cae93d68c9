"""Outcome: how one operation ended, signed by the function app and verified by the bot."""

from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from contract._fields import optional_str, require_object, require_str
from contract.errors import ContractError
from contract.events import OUTCOME_KIND


class OutcomeStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class Outcome:
    instance_id: str
    conversation_id: str
    status: OutcomeStatus
    # The operation's result when completed; a user-readable reason when failed or timed out.
    result: str
    issued_at: str = ""
    signature: str = ""
    kind: str = OUTCOME_KIND

    def unsigned(self) -> "Outcome":
        return replace(self, signature="")

    def signing_fields(self) -> dict[str, Any]:
        """Every field except the signature, in wire names: what the HMAC covers."""
        data = self.to_json()
        del data["signature"]
        return data

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {
            "kind": data["kind"],
            "instanceId": data["instance_id"],
            "conversationId": data["conversation_id"],
            "status": self.status.value,
            "result": data["result"],
            "issuedAt": data["issued_at"],
            "signature": data["signature"],
        }

    @classmethod
    def from_json(cls, value: object) -> "Outcome":
        data = require_object(value, "outcome")
        kind = require_str(data, "kind", "outcome.")
        if kind != OUTCOME_KIND:
            raise ContractError("outcome.kind", f"expected {OUTCOME_KIND!r}, got {kind!r}")
        status_text = require_str(data, "status", "outcome.")
        try:
            status = OutcomeStatus(status_text)
        except ValueError:
            raise ContractError("outcome.status", f"unknown status {status_text!r}") from None
        return cls(
            instance_id=require_str(data, "instanceId", "outcome."),
            conversation_id=require_str(data, "conversationId", "outcome."),
            status=status,
            result=optional_str(data, "result", "outcome.") or "",
            issued_at=optional_str(data, "issuedAt", "outcome.") or "",
            signature=optional_str(data, "signature", "outcome.") or "",
            kind=kind,
        )
