"""History events as DTFx serialises them (Newtonsoft, PascalCase, EventType as an int); reference §A2."""

from datetime import datetime
from enum import IntEnum
from typing import Any

from devhost.durable.timefmt import to_dotnet

Event = dict[str, Any]


class EventType(IntEnum):
    EXECUTION_STARTED = 0
    EXECUTION_COMPLETED = 1
    EXECUTION_FAILED = 2
    EXECUTION_TERMINATED = 3
    TASK_SCHEDULED = 4
    TASK_COMPLETED = 5
    TASK_FAILED = 6
    SUB_ORCHESTRATION_CREATED = 7
    SUB_ORCHESTRATION_COMPLETED = 8
    SUB_ORCHESTRATION_FAILED = 9
    TIMER_CREATED = 10
    TIMER_FIRED = 11
    ORCHESTRATOR_STARTED = 12
    ORCHESTRATOR_COMPLETED = 13
    EVENT_SENT = 14
    EVENT_RAISED = 15
    CONTINUE_AS_NEW = 16
    GENERIC_EVENT = 17
    HISTORY_STATE = 18
    EXECUTION_SUSPENDED = 19
    EXECUTION_RESUMED = 20
    # Not a DTFx event: the devhost's inbox message asking for a rewind of a failed instance. Never in history.
    REWIND_REQUESTED = 1000


# Messages that change the instance's state without running the orchestrator. Suspend and resume are not among
# them: DurableTask.Core appends them to history and replays (TaskOrchestrationExecutor.ProcessEvent).
CONTROL_TYPES = frozenset({EventType.EXECUTION_TERMINATED, EventType.REWIND_REQUESTED})
# Decision events carry the shim's sequence number in EventId (reference §A3).
DECISION_TYPES = frozenset({EventType.TASK_SCHEDULED, EventType.TIMER_CREATED,
                            EventType.SUB_ORCHESTRATION_CREATED, EventType.EVENT_SENT})


def event(kind: EventType, at: datetime, event_id: int = -1, **fields: Any) -> Event:
    return {"EventType": int(kind), "EventId": event_id, "IsPlayed": False, "Timestamp": to_dotnet(at), **fields}


def orchestrator_started(at: datetime) -> Event:
    return event(EventType.ORCHESTRATOR_STARTED, at)


def orchestrator_completed(at: datetime) -> Event:
    return event(EventType.ORCHESTRATOR_COMPLETED, at)


def execution_started(at: datetime, name: str, version: str | None, raw_input: str | None, *, instance_id: str,
                      execution_id: str, parent: dict[str, Any] | None, trace: dict[str, Any] | None = None) -> Event:
    # Version MUST be present: SDK 1.7 reads event.Version and fails with AttributeError without it (§A2).
    started = event(EventType.EXECUTION_STARTED, at, Name=name, Version=version or "", Input=raw_input,
                    OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
                    ParentInstance=parent, Tags=None, Correlation=None, ScheduledStartTime=None, Generation=0)
    if trace is not None:
        # DurableTask.Core's ExecutionStartedEvent.ParentTraceContext (devhost/durable/trace_context.py).
        started["ParentTraceContext"] = trace
    return started


def task_completed(at: datetime, task_id: int, result: str | None) -> Event:
    return event(EventType.TASK_COMPLETED, at, TaskScheduledId=task_id, Result=result)


def task_failed(at: datetime, task_id: int, reason: str, details: str) -> Event:
    return event(EventType.TASK_FAILED, at, TaskScheduledId=task_id, Reason=reason, Details=details,
                 FailureDetails=None)


def sub_orchestration_completed(at: datetime, task_id: int, result: str | None) -> Event:
    return event(EventType.SUB_ORCHESTRATION_COMPLETED, at, TaskScheduledId=task_id, Result=result)


def sub_orchestration_failed(at: datetime, task_id: int, reason: str | None, details: str | None) -> Event:
    return event(EventType.SUB_ORCHESTRATION_FAILED, at, TaskScheduledId=task_id, Reason=reason, Details=details,
                 FailureDetails=None)


def timer_fired(at: datetime, timer_id: int, fire_at: str) -> Event:
    return event(EventType.TIMER_FIRED, at, TimerId=timer_id, FireAt=fire_at)


def event_raised(at: datetime, name: str, payload: str | None) -> Event:
    return event(EventType.EVENT_RAISED, at, Name=name, Input=payload)


def execution_terminated(at: datetime, reason: str | None) -> Event:
    return event(EventType.EXECUTION_TERMINATED, at, Input=reason)


def execution_completed(at: datetime, status: str, result: str | None) -> Event:
    return event(EventType.EXECUTION_COMPLETED, at, OrchestrationStatus=status, Result=result, FailureDetails=None)


_BY_VALUE: dict[int, EventType] = {kind.value: kind for kind in EventType}


def kind_of(ev: Event) -> EventType:
    # A dict lookup: the enum's own call is several times slower, and each replay asks once per event and check.
    value = int(ev["EventType"])
    kind = _BY_VALUE.get(value)
    return EventType(value) if kind is None else kind
