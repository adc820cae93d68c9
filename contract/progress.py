"""Progress: the orchestration's custom status, one shape for the bot, the status API and dashboards."""

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from contract._fields import optional_str, require_int, require_member, require_object, require_str


class Stage(StrEnum):
    RUNNING = "running"
    # A step asked the conversation a question (contract/question.py) and the orchestration waits for the answer.
    WAITING = "waiting"
    NOTIFYING = "notifying"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class Progress:
    option: str
    stage: Stage
    step: int
    steps: int
    percent: int
    message: str

    @classmethod
    def of(cls, option: str, stage: Stage, step: int, steps: int, message: str) -> "Progress":
        """Progress after ``step`` of ``steps`` steps, with the percentage computed once, here."""
        percent = 100 if steps <= 0 else max(0, min(100, (step * 100) // steps))
        return cls(option, stage, step, steps, percent, message)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["stage"] = self.stage.value
        return data

    @classmethod
    def from_json(cls, value: object) -> "Progress":
        data = require_object(value, "progress")
        stage = require_member(data, "stage", Stage, "progress.")
        return cls(
            option=require_str(data, "option", "progress."),
            stage=stage,
            step=require_int(data, "step", "progress."),
            steps=require_int(data, "steps", "progress."),
            percent=require_int(data, "percent", "progress."),
            message=optional_str(data, "message", "progress.") or "",
        )
