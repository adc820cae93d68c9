"""Builds Durable history the way the extension sends it (durable-host-protocol §A1-A3) and replays it.

A test writes the history episode by episode, in the host's order: each episode starts with
OrchestratorStarted (its Timestamp is the orchestrator's clock), then the new message (ExecutionStarted,
TaskCompleted, TaskFailed, TimerFired, EventRaised), then the decisions the host recorded (TaskScheduled, TimerCreated),
then OrchestratorCompleted. ``replay`` calls the registered orchestrator's real ``handle`` with that
request and parses the OrchestratorState it returns.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import azure.functions as func

from orchestrator import blueprint

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

# EventType ints (DTFx HistoryEvent).
EXECUTION_STARTED = 0
TASK_SCHEDULED = 4
TASK_COMPLETED = 5
TASK_FAILED = 6
TIMER_CREATED = 10
TIMER_FIRED = 11
ORCHESTRATOR_STARTED = 12
ORCHESTRATOR_COMPLETED = 13
EVENT_RAISED = 15

# ActionType ints.
CALL_ACTIVITY = 0
CALL_ACTIVITY_WITH_RETRY = 1
CONTINUE_AS_NEW = 4
CREATE_TIMER = 5
WAIT_FOR_EXTERNAL_EVENT = 6
WHEN_ANY = 11
WHEN_ALL = 12


def timestamp(moment: datetime) -> str:
    """A .NET-style UTC timestamp with seven fractional digits and a Z, as the extension writes them."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def fire_at(moment: datetime) -> str:
    """How the SDK writes a CreateTimer's fireAt (strftime %Y-%m-%dT%H:%M:%S.%fZ)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class OrchestratorState:
    """The parsed answer of one replay (§A4)."""

    is_done: bool
    actions: list[dict[str, Any]]
    custom_status: Any
    output: Any
    error: str | None


@dataclass
class History:
    instance_id: str
    input: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    # When the execution started (a later generation starts later than T0).
    now: datetime = T0

    def __post_init__(self) -> None:
        started = self._event(EXECUTION_STARTED, Name="long_operation", Version="", Input=json.dumps(self.input),
                              OrchestrationInstance={"InstanceId": self.instance_id, "ExecutionId": "e1"})
        self.episode(self.now, started)

    def _event(self, event_type: int, event_id: int = -1, **fields: Any) -> dict[str, Any]:
        return {"EventType": event_type, "EventId": event_id, "IsPlayed": False, "Timestamp": timestamp(self.now),
                **fields}

    def episode(self, at: datetime, message: dict[str, Any] | None = None) -> "History":
        """Close the previous episode and open a new one at ``at`` with an optional new message."""
        if self.events:
            self.events.append(self._event(ORCHESTRATOR_COMPLETED))
            for event in self.events:
                event["IsPlayed"] = True
        self.now = at
        self.events.append(self._event(ORCHESTRATOR_STARTED))
        if message is not None:
            self.events.append(message)
        return self

    # Decisions the host records after an episode (the SDK ignores them, the real extension keeps them).
    def scheduled(self, task_id: int, name: str, input_json: str) -> "History":
        self.events.append(self._event(TASK_SCHEDULED, task_id, Name=name, Version=None, Input=input_json))
        return self

    def timer_created(self, task_id: int, at: datetime) -> "History":
        self.events.append(self._event(TIMER_CREATED, task_id, FireAt=timestamp(at)))
        return self

    # New messages, each opening an episode at ``at``.
    def completed(self, at: datetime, task_id: int, result: Any) -> "History":
        return self.episode(at, self._event(TASK_COMPLETED, TaskScheduledId=task_id, Result=json.dumps(result)))

    def failed(self, at: datetime, task_id: int, reason: str, details: str = "{}") -> "History":
        return self.episode(at, self._event(TASK_FAILED, TaskScheduledId=task_id, Reason=reason, Details=details))

    def timer_fired(self, at: datetime, task_id: int, fired_at: datetime) -> "History":
        return self.episode(at, self._event(TIMER_FIRED, TimerId=task_id, FireAt=timestamp(fired_at)))

    def raised(self, at: datetime, name: str, payload: Any) -> "History":
        # The SDK reads an EventRaised's payload from Input, not Result (TaskOrchestrationExecutor).
        return self.episode(at, self._event(EVENT_RAISED, Name=name, Input=json.dumps(payload)))

    def request(self) -> str:
        return json.dumps({
            "history": self.events,
            "input": json.dumps(self.input),
            "instanceId": self.instance_id,
            "isReplaying": any(event["IsPlayed"] for event in self.events),
            "parentInstanceId": None,
            "upperSchemaVersion": 1,
            "upperSchemaVersionNew": 2,
            "longRunningTimerIntervalDuration": "3.00:00:00",
            "maximumShortTimerDuration": "6.00:00:00",
            "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
        })


def orchestrator_handle() -> Callable[[func.OrchestrationContext], str]:
    """The callable the worker invokes for ``long_operation``: the SDK's Orchestrator.handle."""
    handle: Callable[[func.OrchestrationContext], str] = blueprint.long_operation._function.get_user_function()
    return handle


def replay(history: History) -> OrchestratorState:
    """Run the real orchestrator over ``history``; a raised failure is parsed from its $OutOfProcData$ (§A6)."""
    try:
        raw = orchestrator_handle()(func.OrchestrationContext(history.request()))
    except Exception as error:
        text = str(error)
        marker = "\n\n$OutOfProcData$:"
        if marker not in text:
            raise
        raw = text.split(marker, 1)[1]
    state = json.loads(raw)
    actions = state.get("actions") or [[]]
    return OrchestratorState(
        is_done=state["isDone"],
        actions=actions[0] if actions else [],
        custom_status=state.get("customStatus"),
        output=state.get("output"),
        error=state.get("error"),
    )
