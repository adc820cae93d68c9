"""One orchestrator episode: build the request (§A1), replay the user's orchestrator, apply the actions (§A7)."""

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from devhost.durable import history as h
from devhost.durable import runtime_status as rs
from devhost.durable.extension_rules import KnownFunctions
from devhost.durable.history import Event, EventType, kind_of
from devhost.durable.shim import Decision, ShimContext, ShimReplay, ShimResult
from devhost.durable.store import Changes, Instance, NewMessage
from devhost.durable.timefmt import to_dotnet, to_epoch
from devhost.durable.trace_context import sub_orchestration_trace
from devhost.durable.worker import Worker

log = logging.getLogger(__name__)

_OUT_OF_PROC_MARK: Final = "\n\n$OutOfProcData$:"
_COMPLETION_TYPES: Final = frozenset({EventType.TASK_COMPLETED, EventType.TASK_FAILED,
                                      EventType.SUB_ORCHESTRATION_COMPLETED, EventType.SUB_ORCHESTRATION_FAILED})


@dataclass
class Replayed:
    """The orchestrator's answer and the shim's view of it, before anything is written."""

    state: dict[str, Any]
    shim: ShimResult | None
    failure: str | None = None  # set when the instance must fail now, whatever the open tasks
    history: list[Event] = field(default_factory=list)


def orchestrator_request(inst: Instance, events: list[Event]) -> str:
    token: Any = None if inst.input is None else json.loads(inst.input)
    if token is not None and not isinstance(token, str):
        # The SDK only accepts JSON text (or a dict); hand it text for any other stored JSON (§A1).
        token = json.dumps(token)
    played = any(kind_of(e) == EventType.ORCHESTRATOR_COMPLETED for e in events)
    return json.dumps({
        "history": events, "input": token, "instanceId": inst.instance_id, "isReplaying": played,
        "parentInstanceId": inst.parent_instance_id, "upperSchemaVersion": 1, "upperSchemaVersionNew": 2,
        "longRunningTimerIntervalDuration": "3.00:00:00", "maximumShortTimerDuration": "6.00:00:00",
        "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
    })


def replay(worker: Worker, inst: Instance, events: list[Event], lenient: bool = False) -> Replayed:
    """Run the orchestrator over ``events`` (past ones IsPlayed) and the shim over its actions."""
    raised = False
    try:
        state = json.loads(worker.run_orchestrator(inst.name, orchestrator_request(inst, events)))
    except Exception as exc:  # the SDK reports orchestrator failures by raising (§A6)
        state, raised = _failed_state(exc), True
    if not isinstance(state, dict):
        return Replayed({}, None, f"Orchestrator function '{inst.name}' failed: it returned no orchestrator state",
                        events)
    functions = KnownFunctions(tuple(worker.activity_names()), tuple(worker.orchestrator_names()))
    context = ShimContext(inst.name, inst.instance_id, inst.execution_id, inst.parent_instance_id, functions)
    try:
        shim = ShimReplay(state, context, raised).run(events, lenient=lenient)
    except (KeyError, TypeError, ValueError) as exc:
        return Replayed(state, None, f"Orchestrator function '{inst.name}' failed: malformed action: {exc!r}",
                        events)
    for warning in shim.warnings:
        # The extension only fails the instance; say why, loudly, so the cause is not a hunt through history.
        log.warning("DURABLE TRAP: %s", warning, extra={"instance_id": inst.instance_id})
    return Replayed(state, shim, None, events)


def _failed_state(exc: Exception) -> dict[str, Any]:
    text = str(exc)
    head, mark, data = text.partition(_OUT_OF_PROC_MARK)
    if mark:
        try:
            parsed = json.loads(data)
            if isinstance(parsed, dict):
                parsed.setdefault("error", head or type(exc).__name__)
                return parsed
        except json.JSONDecodeError:
            pass
    return {"isDone": False, "actions": [], "error": text or type(exc).__name__}


def apply(inst: Instance, replayed: Replayed, new_events: list[Event], *, now: datetime, changes: Changes,
          known_instance: Any) -> None:
    """Turn a replay into writes: decision events, work items, child instances, status and output."""
    at = to_epoch(now)
    appended = list(new_events)
    state, shim = replayed.state, replayed.shim
    # What the shim set: null when SetCustomStatus threw (the 16 KB limit), as GetStatus() then returns.
    inst.custom_status = None if shim is None else shim.custom_status
    inst.updated = at
    if inst.status in (rs.PENDING, rs.CONTINUED_AS_NEW, rs.RUNNING, rs.SUSPENDED):
        # Suspend and resume are history events the replay handles (TaskOrchestrationExecutor.ProcessEvent).
        inst.status = rs.SUSPENDED if shim is not None and shim.suspended else rs.RUNNING
    if shim is not None:
        for decision in shim.new_decisions:
            appended.append(_schedule(inst, decision, now, changes, known_instance))
    appended.append(h.orchestrator_completed(now))
    if replayed.failure is not None:
        _fail(inst, replayed.failure, replayed.failure, now=now, appended=appended, changes=changes)
    elif shim is not None and shim.non_deterministic is not None:
        # ExecuteCore catches NonDeterministicOrchestrationException and fails at once, open tasks or not, with
        # DurableTask.Core's message as the output (no "Orchestrator function ... failed:" prefix).
        _fail(inst, shim.non_deterministic, shim.non_deterministic, now=now, appended=appended, changes=changes)
    elif shim is not None and shim.open_tasks == 0 and not shim.suspended and shim.fault is not None:
        _fail(inst, shim.fault, shim.fault, now=now, appended=appended, changes=changes)
    elif shim is not None and shim.finished and shim.open_tasks == 0 and not shim.suspended:
        if shim.continued_as_new:
            _continue_as_new(inst, shim.continue_as_new_input, now, appended, changes)
            return
        output = json.dumps(state.get("output"))
        _finish(inst, rs.COMPLETED, output, now=now, appended=appended, changes=changes)
        _notify_parent(inst, h.sub_orchestration_completed(now, inst.parent_task_id or 0, output), now, changes)
    changes.upsert_instances.append(inst)
    changes.append_history.setdefault(inst.instance_id, []).extend(appended)


def _schedule(inst: Instance, decision: Decision, now: datetime, changes: Changes, known_instance: Any) -> Event:
    if decision.kind == EventType.TASK_SCHEDULED:
        changes.new_activities.append((inst.instance_id, inst.execution_id, decision.task_id, decision.name,
                                       decision.input, inst.trace_context))
        return h.event(EventType.TASK_SCHEDULED, now, decision.task_id, Name=decision.name, Version="",
                       Input=decision.input)
    if decision.kind == EventType.TIMER_CREATED:
        fire_at = decision.fire_at or now
        # A cancelled timer was still scheduled (CreateTimer adds the action before the token cancels it); its
        # TimerFired arrives later and is ignored as a duplicate (TaskOrchestrationContext.HandleTimerFiredEvent).
        fired = h.timer_fired(now, decision.task_id, to_dotnet(fire_at))
        changes.new_messages.append(NewMessage(inst.instance_id, inst.execution_id, to_epoch(fire_at), fired))
        return h.event(EventType.TIMER_CREATED, now, decision.task_id, FireAt=to_dotnet(fire_at))
    child_id = decision.instance_id or ""
    existing: Instance | None = known_instance(child_id)
    if existing is not None and existing.status not in rs.TERMINAL:
        reason = f"An Orchestration instance with the status {existing.status} already exists."
        changes.new_messages.append(NewMessage(
            inst.instance_id, inst.execution_id, to_epoch(now),
            h.sub_orchestration_failed(now, decision.task_id, reason, "")))
    else:
        start_child(inst, decision, now, changes)
    return h.event(EventType.SUB_ORCHESTRATION_CREATED, now, decision.task_id, Name=decision.name,
                   Version=decision.version, InstanceId=child_id, Input=decision.input)


def start_child(parent: Instance, decision: Decision, now: datetime, changes: Changes) -> None:
    child_id = decision.instance_id or ""
    execution_id = uuid.uuid4().hex
    # The shim passes the action's input string on, so the child's stored input is that string as JSON (§A1).
    raw_input = None if decision.input is None else json.dumps(decision.input)
    trace = sub_orchestration_trace(None if parent.trace_context is None else json.loads(parent.trace_context))
    child = Instance(child_id, decision.name, decision.version, execution_id, rs.PENDING, raw_input, None, None,
                     to_epoch(now), to_epoch(now), parent.instance_id, parent.execution_id, decision.task_id,
                     None if trace is None else json.dumps(trace))
    parent_ref = {"Name": parent.name, "Version": parent.version or "", "TaskScheduleId": decision.task_id,
                  "OrchestrationInstance": {"InstanceId": parent.instance_id, "ExecutionId": parent.execution_id}}
    started = h.execution_started(now, decision.name, decision.version, raw_input,
                                  instance_id=child_id, execution_id=execution_id, parent=parent_ref, trace=trace)
    changes.upsert_instances.append(child)
    changes.reset_history.add(child_id)
    changes.drop_messages_of.add(child_id)
    changes.new_messages.append(NewMessage(child_id, execution_id, to_epoch(now), started))


def _fail(inst: Instance, message: str, details: str, *, now: datetime, appended: list[Event],
          changes: Changes) -> None:
    log.info("orchestration failed", extra={"instance_id": inst.instance_id})
    _finish(inst, rs.FAILED, message, now=now, appended=appended, changes=changes)
    _notify_parent(inst, h.sub_orchestration_failed(now, inst.parent_task_id or 0, message, details), now, changes)


def _finish(inst: Instance, status: str, output: str, *, now: datetime, appended: list[Event],
            changes: Changes) -> None:
    inst.status, inst.output, inst.updated = status, output, to_epoch(now)
    appended.append(h.execution_completed(now, status, output))


def _notify_parent(inst: Instance, event: Event, now: datetime, changes: Changes) -> None:
    """Tell a sub-orchestration's parent how it ended; nothing for a top-level instance."""
    if inst.parent_instance_id:
        changes.new_messages.append(NewMessage(inst.parent_instance_id, inst.parent_execution_id, to_epoch(now),
                                               event))


def _continue_as_new(inst: Instance, input_text: str | None, now: datetime, appended: list[Event],
                     changes: Changes) -> None:
    # The same id restarts with a new execution and fresh history; old work results are dropped by execution id.
    inst.execution_id = uuid.uuid4().hex
    inst.status = rs.CONTINUED_AS_NEW
    inst.input = None if input_text is None else json.dumps(input_text)
    inst.output = None
    inst.updated = to_epoch(now)
    # The new generation stays in the instance's trace (DurableTask.Core copies ParentTraceContext onto the new
    # ExecutionStartedEvent unless asked for a new trace: TaskOrchestrationDispatcher, ExecutionStartedEvent).
    started = h.execution_started(now, inst.name, inst.version, inst.input,
                                  instance_id=inst.instance_id, execution_id=inst.execution_id, parent=None,
                                  trace=None if inst.trace_context is None else json.loads(inst.trace_context))
    changes.upsert_instances.append(inst)
    changes.reset_history.add(inst.instance_id)
    changes.new_messages.append(NewMessage(inst.instance_id, inst.execution_id, to_epoch(now), started))
    del appended[:]


def is_duplicate_completion(past: list[Event], event: Event) -> bool:
    """A completion for a task that already has one (a re-run activity's second result) is dropped."""
    task_id = completion_id(event)
    return task_id is not None and any(completion_id(e) == task_id for e in past)


def completion_id(event: Event) -> int | None:
    kind = kind_of(event)
    if kind == EventType.TIMER_FIRED:
        return int(event["TimerId"])
    if kind in _COMPLETION_TYPES:
        return int(event["TaskScheduledId"])
    return None
