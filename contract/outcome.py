"""Outcome: how one operation ended, signed by the function app and verified by the bot.

Facts only: the result of a completed operation, and for one that failed or timed out, a StopReason (where it
stopped, after how many attempts, against which deadline). The bot words them (``bot/texts.py``).
"""

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from contract._fields import Signed, optional_str, require_kind, require_member, require_object, require_str
from contract.errors import ContractError
from contract.events import OUTCOME_KIND
from contract.stop_reason import StopReason


class OutcomeStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class Outcome(Signed):
    instance_id: str
    conversation_id: str
    status: OutcomeStatus
    # The operation's result when completed. Empty otherwise; an outcome from a function app older than this
    # contract carries a sentence here when failed or timed out, which the bot does not show.
    result: str = ""
    # What stopped a failed or timed-out operation; None when completed, and when an older function app sent it.
    reason: StopReason | None = None
    signature: str = ""
    kind: str = OUTCOME_KIND
    # A structured (JSON) result, when the operation returned one instead of text (operations/api.py ``Done``):
    # its "kind" names the bot's renderer. On the wire only when present, so outcomes without it keep the exact
    # form (and so the signature) of the previous contract.
    data: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.status is OutcomeStatus.COMPLETED and self.reason is not None:
            raise ContractError("outcome.reason", "a completed outcome has no reason")
        if self.data is not None and self.status is not OutcomeStatus.COMPLETED:
            raise ContractError("outcome.data", "only a completed outcome has a result")

    def unsigned(self) -> "Outcome":
        return replace(self, signature="")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "instanceId": self.instance_id,
            "conversationId": self.conversation_id,
            "status": self.status.value,
            "result": self.result,
            "reason": None if self.reason is None else self.reason.to_json(),
            "signature": self.signature,
        }
        if self.data is not None:
            data["data"] = self.data
        return data

    @classmethod
    def from_json(cls, value: object) -> "Outcome":
        data = require_object(value, "outcome")
        kind = require_kind(data, OUTCOME_KIND, "outcome.")
        status = require_member(data, "status", OutcomeStatus, "outcome.")
        reason = data.get("reason")
        result_data = data.get("data")
        return cls(
            instance_id=require_str(data, "instanceId", "outcome."),
            conversation_id=require_str(data, "conversationId", "outcome."),
            status=status,
            result=optional_str(data, "result", "outcome.") or "",
            reason=None if reason is None else StopReason.from_json(reason),
            signature=optional_str(data, "signature", "outcome.") or "",
            kind=kind,
            data=None if result_data is None else require_object(result_data, "outcome.data"),
        )
