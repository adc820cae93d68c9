"""Texts and lookups the Durable extension and DurableTask.Core use while replaying, word for word.

Function names are case-insensitive (``FunctionName.Equals``, OrdinalIgnoreCase, in
Azure/azure-functions-durable-extension src/WebJobs.Extensions.DurableTask/FunctionName.cs), and so is the check of
a replayed name (``TaskOrchestrationContext.HandleTaskScheduledEvent`` in Azure/durabletask
src/DurableTask.Core/TaskOrchestrationContext.cs).
"""

from dataclasses import dataclass
from typing import Final

from devhost.durable.history import EventType

NON_DETERMINISTIC: Final = "Non-Deterministic workflow detected: "
_CHANGED: Final = ("Was a change made to the orchestrator code after this instance had already started running?")
# DurableTask.Core's action class for each decision, named in its "instead produced a ... action" texts.
ACTION_CLASS: Final = {
    EventType.TASK_SCHEDULED: "ScheduleTaskOrchestratorAction",
    EventType.TIMER_CREATED: "CreateTimerOrchestratorAction",
    EventType.SUB_ORCHESTRATION_CREATED: "CreateSubOrchestrationAction",
    EventType.EVENT_SENT: "SendEventOrchestratorAction",
}
# FrameworkConstants.FakeTimerIdToSplitDecision: a TimerCreated with this id is never matched.
FAKE_TIMER_ID: Final = -100


class ShimFault(Exception):
    """Something the shim throws: the orchestration function faults with this message."""

    def __init__(self, message: str, warning: str | None = None, prefixed: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.warning = warning
        # An OrchestrationFailureException, whose message already names the orchestrator.
        self.prefixed = prefixed


@dataclass(frozen=True)
class KnownFunctions:
    """The app's activity and orchestrator names, in the order the extension lists them."""

    activities: tuple[str, ...]
    orchestrators: tuple[str, ...]

    def activity(self, name: str) -> str | None:
        return _find(self.activities, name)

    def orchestrator(self, name: str) -> str | None:
        return _find(self.orchestrators, name)

    def missing_activity(self, name: str) -> str:
        # DurableTaskExtension.GetInvalidActivityFunctionMessage
        head = f"The function '{name}' doesn't exist, is disabled, or is not an activity function. Additional info: "
        if not self.activities:
            return head + "No activity functions are currently registered!"
        return head + "The following are the known activity functions: '" + "', '".join(self.activities) + "'."

    def missing_orchestrator(self, name: str) -> str:
        # DurableTaskExtension.GetInvalidOrchestratorFunctionMessage
        head = (f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. Additional "
                "info: ")
        if not self.orchestrators:
            return head + "No orchestrator functions are currently registered!"
        return head + "The following are the known orchestrator functions: '" + "', '".join(self.orchestrators) + "'."


def _find(names: tuple[str, ...], name: str) -> str | None:
    wanted = name.casefold()
    return next((known for known in names if known.casefold() == wanted), None)


def same_name(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def not_yet_scheduled(kind: EventType, task_id: int, name: str, version: str, instance_id: str) -> str:
    """A recorded decision the replay has not (yet) made (TaskOrchestrationContext.Handle*Event)."""
    if kind == EventType.TASK_SCHEDULED:
        text = (f"A previous execution of this orchestration scheduled an activity task with sequence ID {task_id} "
                f"and name '{name}' (version '{version}'), but the current replay execution hasn't (yet?) "
                f"scheduled this task. {_CHANGED}")
    elif kind == EventType.TIMER_CREATED:
        text = (f"A previous execution of this orchestration scheduled a timer task with sequence number {task_id} "
                f"but the current replay execution hasn't (yet?) scheduled this task. {_CHANGED}")
    elif kind == EventType.SUB_ORCHESTRATION_CREATED:
        text = (f"A previous execution of this orchestration scheduled a sub-orchestration task with sequence ID "
                f"{task_id} and name '{name}' (version '{version}', instance ID '{instance_id}'), but the current "
                f"replay execution hasn't (yet?) scheduled this task. {_CHANGED}")
    else:
        text = (f"A previous execution of this orchestration scheduled a send event task with sequence ID {task_id}, "
                f"type 'EventSent' name '{name}', instance ID '{instance_id}', but the current replay execution "
                f"hasn't (yet?) scheduled this task. Was a change made to the orchestrator code after this instance "
                "had already started running?")
    return NON_DETERMINISTIC + text


def other_kind(kind: EventType, task_id: int, name: str, version: str, instance_id: str, *, made: EventType) -> str:
    """The replay made a different kind of decision for a recorded sequence number."""
    produced = ACTION_CLASS[made]
    if kind == EventType.TASK_SCHEDULED:
        text = (f"A previous execution of this orchestration scheduled an activity task with sequence number "
                f"{task_id} named '{name}', but the current orchestration replay instead produced a {produced} action "
                f"with this sequence number. {_CHANGED}")
    elif kind == EventType.TIMER_CREATED:
        # "named but" is DurableTask.Core's own wording.
        text = (f"A previous execution of this orchestration scheduled a timer task with sequence number {task_id} "
                f"named but the current orchestration replay instead produced a {produced} action with this sequence "
                f"number. {_CHANGED}")
    elif kind == EventType.SUB_ORCHESTRATION_CREATED:
        text = (f"A previous execution of this orchestration scheduled a sub-orchestration task with sequence ID "
                f"{task_id} and name '{name}' (version '{version}', instance ID '{instance_id}'), but the current "
                f"orchestration replay instead produced a {produced} action at this sequence number. {_CHANGED}")
    else:
        text = (f"A previous execution of this orchestration scheduled a send event task with sequence ID {task_id}, "
                f"type 'EventSent', name '{name}', instance ID '{instance_id}', but the current orchestration replay "
                f"instead scheduled a {produced} task at this sequence number. {_CHANGED}")
    return NON_DETERMINISTIC + text


def other_name(kind: EventType, task_id: int, name: str, version: str, instance_id: str, *, made: str) -> str:
    """The replay scheduled the same kind of task under another name."""
    if kind == EventType.TASK_SCHEDULED:
        # Two spaces before "Was": DurableTask.Core's own wording.
        text = (f"A previous execution of this orchestration scheduled an activity task with sequence number "
                f"{task_id} named '{name}', but the current orchestration replay instead scheduled an activity task "
                f"named '{made}' with this sequence number.  {_CHANGED}")
    else:
        text = (f"A previous execution of this orchestration scheduled a sub-orchestration task with sequence ID "
                f"{task_id} and name '{name}' (version '{version}', instance ID '{instance_id}'), but the current "
                f"orchestration replay instead scheduled a sub-orchestration task with name {made} at this sequence "
                f"number. {_CHANGED}")
    return NON_DETERMINISTIC + text
