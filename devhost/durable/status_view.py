"""The status API's JSON for an instance, with the extension's history condensation (reference §C3)."""

import json
from typing import Any, Final

from devhost.durable.history import Event, EventType, kind_of
from devhost.durable.runtime_status import PENDING
from devhost.durable.store import Instance
from devhost.durable.timefmt import from_epoch, to_status

_SCHEDULING: Final = {EventType.TASK_SCHEDULED: "TaskScheduled",
                      EventType.SUB_ORCHESTRATION_CREATED: "SubOrchestrationInstanceCreated"}
_COMPLETIONS: Final = {EventType.TASK_COMPLETED: EventType.TASK_SCHEDULED,
                       EventType.TASK_FAILED: EventType.TASK_SCHEDULED,
                       EventType.SUB_ORCHESTRATION_COMPLETED: EventType.SUB_ORCHESTRATION_CREATED,
                       EventType.SUB_ORCHESTRATION_FAILED: EventType.SUB_ORCHESTRATION_CREATED}
# DurableTask.Core's EventType names, as EventType.ToString() writes them.
_NAMES: Final = {
    EventType.EXECUTION_STARTED: "ExecutionStarted", EventType.EXECUTION_COMPLETED: "ExecutionCompleted",
    EventType.EXECUTION_FAILED: "ExecutionFailed", EventType.EXECUTION_TERMINATED: "ExecutionTerminated",
    EventType.TASK_SCHEDULED: "TaskScheduled", EventType.TASK_COMPLETED: "TaskCompleted",
    EventType.TASK_FAILED: "TaskFailed", EventType.SUB_ORCHESTRATION_CREATED: "SubOrchestrationInstanceCreated",
    EventType.SUB_ORCHESTRATION_COMPLETED: "SubOrchestrationInstanceCompleted",
    EventType.SUB_ORCHESTRATION_FAILED: "SubOrchestrationInstanceFailed", EventType.TIMER_CREATED: "TimerCreated",
    EventType.TIMER_FIRED: "TimerFired", EventType.ORCHESTRATOR_STARTED: "OrchestratorStarted",
    EventType.ORCHESTRATOR_COMPLETED: "OrchestratorCompleted", EventType.EVENT_SENT: "EventSent",
    EventType.EVENT_RAISED: "EventRaised", EventType.CONTINUE_AS_NEW: "ContinueAsNew",
    EventType.GENERIC_EVENT: "GenericEvent", EventType.HISTORY_STATE: "HistoryState",
    EventType.EXECUTION_SUSPENDED: "ExecutionSuspended", EventType.EXECUTION_RESUMED: "ExecutionResumed",
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
    # A Pending instance has no history to show, and then no "historyEvents" key at all (EmitDefaultValue=false).
    if events is not None and inst.status != PENDING:
        body["historyEvents"] = condensed_history(events, show_input, show_output)
    return body


def condensed_history(events: list[Event], show_input: bool, show_output: bool) -> list[dict[str, Any]]:
    """DurableClient.GetDurableOrchestrationStatusAsync's rewrite of the history, rule for rule.

    A TaskScheduled (or SubOrchestrationInstanceCreated) is folded into its completion and hidden only once that
    completion is found, so in-flight work still shows; inputs stay the raw strings history holds.
    """
    items: list[dict[str, Any] | None] = []
    scheduled: dict[tuple[EventType, int], tuple[int, Event]] = {}
    for index, event in enumerate(events):
        kind = kind_of(event)
        item: dict[str, Any] = {key: (_NAMES.get(kind, str(value)) if key == "EventType" else value)
                                for key, value in event.items()}
        if kind in (EventType.ORCHESTRATOR_STARTED, EventType.ORCHESTRATOR_COMPLETED):
            items.append(None)
            continue
        if kind in _SCHEDULING:
            scheduled[(kind, int(event["EventId"]))] = (index, event)
            item.pop("Version", None)
        elif kind in _COMPLETIONS:
            origin = scheduled.get((_COMPLETIONS[kind], int(event.get("TaskScheduledId", -1))))
            if origin is not None:
                item["ScheduledTime"] = _newtonsoft_date(str(origin[1].get("Timestamp")))
                item["FunctionName"] = origin[1].get("Name")
                if show_input:
                    item["Input"] = origin[1].get("Input")
                items[origin[0]] = None
            item.pop("TaskScheduledId", None)
            keep_result = show_output and kind in (EventType.TASK_COMPLETED, EventType.SUB_ORCHESTRATION_COMPLETED)
            if kind in (EventType.TASK_COMPLETED, EventType.SUB_ORCHESTRATION_COMPLETED) and not show_output:
                item.pop("Result", None)
            if keep_result:
                item["Result"] = loose_json(item.get("Result"))
        elif kind == EventType.EXECUTION_STARTED:
            name = item.pop("Name", None)
            item["FunctionName"] = name
            for key in ("OrchestrationInstance", "ParentInstance", "Version", "Tags"):
                item.pop(key, None)
        elif kind == EventType.EXECUTION_COMPLETED:
            if show_output:
                item["Result"] = loose_json(item.get("Result"))
            else:
                item.pop("Result", None)
        elif kind == EventType.TIMER_FIRED:
            item.pop("TimerId", None)
        if not show_input:
            item.pop("Input", None)
        item.pop("EventId", None)
        item.pop("IsPlayed", None)
        items.append(item)
    return [item for item in items if item is not None]


def _newtonsoft_date(timestamp: str) -> str:
    # (DateTime)token re-serialised by Json.NET: ISO 8601 with "FFFFFFF", trailing zeros of the fraction dropped.
    head, dot, rest = timestamp.partition(".")
    if not dot:
        return timestamp
    fraction = rest.rstrip("Z").rstrip("0")
    return f"{head}.{fraction}Z" if fraction else f"{head}Z"
