"""The start request the bot sends to ``POST /api/operations``."""

from dataclasses import dataclass, field
from typing import Any, Final

from contract._fields import require_object, require_str

# Large enough for any continuation activity (Direct Line caps activities at 256 KB), small enough
# that a flood of huge bodies cannot exhaust the function app.
MAX_START_BODY_BYTES: Final = 64 * 1024


def validate_continuation(value: object) -> dict[str, Any]:
    """The continuation activity (wire JSON), checked for what a proactive turn needs."""
    continuation = require_object(value, "continuation")
    require_str(continuation, "channelId", "continuation.")
    require_str(continuation, "serviceUrl", "continuation.")
    conversation = require_object(continuation.get("conversation"), "continuation.conversation")
    require_str(conversation, "id", "continuation.conversation.")
    return continuation


@dataclass(frozen=True)
class StartRequest:
    option: str
    # The continuation activity in wire JSON (camelCase, "from"): what the bot needs to resume.
    continuation: dict[str, Any]
    # The operation's inputs (operations/api.py), as the bot collected them; the starter validates them against
    # the operation's schema. Absent from a bot of the previous version: no inputs.
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def channel_id(self) -> str:
        return str(self.continuation["channelId"])

    @property
    def conversation_id(self) -> str:
        return str(self.continuation["conversation"]["id"])

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"option": self.option, "continuation": self.continuation}
        if self.inputs:
            data["inputs"] = self.inputs
        return data

    @classmethod
    def from_json(cls, value: object) -> "StartRequest":
        data = require_object(value, "body")
        option = require_str(data, "option")
        inputs = data.get("inputs")
        return cls(
            option=option,
            continuation=validate_continuation(data.get("continuation")),
            inputs={} if inputs is None else require_object(inputs, "inputs"),
        )
