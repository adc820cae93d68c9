"""The status API's JSON for an instance, with the extension's history condensation (reference §C3)."""

import json
from typing import Any, Final

from devhost.durable.history import Event, EventType, kind_of
from devhost.durable.store import Instance
from devhost.durable.timefmt import from_epoch, to_status

_HIDDEN: Final = frozenset({EventType.ORCHESTRATOR_STARTED, EventType.ORCHESTRATOR_COMPLETED,
                            EventType.TASK_SCHEDULED, EventType.SUB_ORCHESTRATION_CREATED,
                            EventType.GENERIC_EVENT, EventType.HISTORY_STATE})
_NAMES: Final = {
    EventType.EXECUTION_STARTED: "ExecutionStarted", EventType.EXECUTION_COMPLETED: "ExecutionCompleted",
    EventType.EXECUTION_FAILED: "ExecutionFailed", EventType.EXECUTION_TERMINATED: "ExecutionTerminated",
    EventType.TASK_COMPLETED: "TaskCompleted", EventType.TASK_FAILED: "TaskFailed",
    EventType.SUB_ORCHESTRATION_COMPLETED: "SubOrchestrationInstanceCompleted",
    EventType.SUB_ORCHESTRATION_FAILED: "SubOrchestrationInstanceFailed", EventType.TIMER_CREATED: "TimerCreated",
    EventType.TIMER_FIRED: "TimerFired", EventType.EVENT_SENT: "EventSent", EventType.EVENT_RAISED: "EventRaised",
    EventType.CONTINUE_AS_NEW: "ContinueAsNew", EventType.EXECUTION_SUSPENDED: "ExecutionSuspended",
    EventType.EXECUTION_RESUMED: "ExecutionResumed",
}


def loose_json(text: str | None) -> Any:
    """Stored strings parsed as JSON, or the raw string (terminate reasons, failure messages)."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def status_json(inst: Instance, show_input: bool, events: list[Event] | None, show_output: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": inst.name,
        "instanceId": inst.instance_id,
        "runtimeStatus": inst.status,
        "input": loose_json(inst.input) if show_input else None,
        "customStatus": loose_json(inst.custom_status),
        "output": loose_json(inst.output),
        "createdTime": to_status(from_epoch(inst.created)),
        "lastUpdatedTime": to_status(from_epoch(inst.updated)),
    }
    if events is not None:
        body["historyEvents"] = condensed_history(events, show_input, show_output)
    return body


def condensed_history(events: list[Event], show_input: bool, show_output: bool) -> list[dict[str, Any]]:
    scheduled = {int(e["EventId"]): e for e in events
                 if kind_of(e) in (EventType.TASK_SCHEDULED, EventType.SUB_ORCHESTRATION_CREATED)}
    result: list[dict[str, Any]] = []
    for event in events:
        kind = kind_of(event)
        if kind in _HIDDEN or kind not in _NAMES:
            continue
        item = {k: v for k, v in event.items() if k not in ("EventId", "IsPlayed", "EventType")}
        item = {"EventType": _NAMES[kind], **item}
        if kind == EventType.EXECUTION_STARTED:
            item["FunctionName"] = item.pop("Name", None)
            for key in ("OrchestrationInstance", "ParentInstance", "Version", "Tags", "Correlation",
                        "ScheduledStartTime", "Generation"):
                item.pop(key, None)
            if show_input:
                item["Input"] = loose_json(item.get("Input"))
            else:
                item.pop("Input", None)
        elif "TaskScheduledId" in item:
            origin = scheduled.get(int(item.pop("TaskScheduledId")))
            if origin is not None:
                item["FunctionName"] = origin.get("Name")
                item["ScheduledTime"] = origin.get("Timestamp")
                if show_input:
                    item["Input"] = loose_json(origin.get("Input"))
        elif kind == EventType.TIMER_FIRED:
            item.pop("TimerId", None)
        if "Result" in item:
            if show_output:
                item["Result"] = loose_json(item["Result"])
            else:
                item.pop("Result")
        result.append(item)
    return result
