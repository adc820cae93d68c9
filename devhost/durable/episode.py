"""Process an instance's due inbox messages: control messages, or one orchestrator episode for a batch.

Runs on the engine's database thread; everything it decides is committed in one transaction.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from devhost.durable import history as h
from devhost.durable import runtime_status as rs
from devhost.durable.history import CONTROL_TYPES, DECISION_TYPES, Event, EventType, kind_of
from devhost.durable.replay import apply, completion_id, is_duplicate_completion, replay
from devhost.durable.store import Changes, Committed, Instance, Message, NewMessage, Store
from devhost.durable.timefmt import to_epoch
from devhost.durable.worker import Worker

# Completions delivered to one episode at most; the extension batches too, and it bounds replay work.
MAX_BATCH: Final = 100
_FAILURES: Final = frozenset({EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_FAILED})


@dataclass(frozen=True)
class Episode:
    """What one call of ``run_episode`` did."""

    # What the commit created, for the engine to dispatch; None when nothing was due (nothing was committed).
    committed: Committed | None
    # Due messages this episode left in the inbox (a control message behind a batch, more than MAX_BATCH): the
    # engine runs another episode at once. Only this episode's own reads can tell (every commit runs on the one
    # database thread, and what later commits add wakes the instance itself), so the engine needs no empty
    # episode after each one to find out.
    more: bool = False


def run_episode(store: Store, worker: Worker, instance_id: str, now: datetime) -> Episode:
    """Handle what is due for one instance."""
    messages = store.messages(instance_id, to_epoch(now))
    if not messages:
        return Episode(None)
    changes = Changes()
    committed = _handle(store, worker, instance_id, messages, now=now, changes=changes)
    if committed is None or instance_id in changes.drop_messages_of:
        return Episode(committed)
    consumed = set(changes.consumed_messages)
    return Episode(committed, any(m.id not in consumed for m in messages))


def _handle(store: Store, worker: Worker, instance_id: str, messages: list[Message], *, now: datetime,
            changes: Changes) -> Committed | None:
    inst = store.instance(instance_id)
    if inst is None:
        changes.consumed_messages += [m.id for m in messages]
        return store.commit(changes)
    live = [m for m in messages if m.execution_id in (None, inst.execution_id)]
    changes.consumed_messages += [m.id for m in messages if m not in live]
    batch = _pick(inst, live)
    if inst.status in rs.TERMINAL:
        # Late results for a finished instance are dropped, except a rewind request for a failed one.
        changes.consumed_messages += [m.id for m in live if m not in batch]
    if not batch:
        return store.commit(changes) if changes.consumed_messages else None
    changes.consumed_messages += [m.id for m in batch]
    first = kind_of(batch[0].event)
    if first == EventType.REWIND_REQUESTED:
        _rewind(store, worker, inst, now, changes)
    elif first in CONTROL_TYPES:
        _control(inst, batch[0].event, now, changes)
    else:
        _orchestrate(store, worker, inst, batch, now=now, changes=changes)
    return store.commit(changes)


def _pick(inst: Instance, live: list[Message]) -> list[Message]:
    if inst.status in rs.TERMINAL:
        rewinds = [m for m in live if kind_of(m.event) == EventType.REWIND_REQUESTED]
        return rewinds[:1] if inst.status == rs.FAILED else []
    if not live:
        return []
    # A fresh execution must see ExecutionStarted first, even if events for it were queued before it.
    starts = [m for m in live if kind_of(m.event) == EventType.EXECUTION_STARTED]
    ordered = starts + [m for m in live if m not in starts]
    if kind_of(ordered[0].event) in CONTROL_TYPES:
        return ordered[:1]
    batch: list[Message] = []
    for message in ordered:
        if kind_of(message.event) in CONTROL_TYPES or len(batch) >= MAX_BATCH:
            break
        batch.append(message)
    return batch


def _control(inst: Instance, event: Event, now: datetime, changes: Changes) -> None:
    kind = kind_of(event)
    appended: list[Event] = []
    if kind == EventType.EXECUTION_TERMINATED:
        # The reason as given: no ?reason= is a null output (HandleTerminateInstanceRequestAsync passes null).
        reason = event.get("Input")
        inst.status, inst.output = rs.TERMINATED, reason
        appended += [event, h.execution_completed(now, rs.TERMINATED, reason)]
        changes.drop_messages_of.add(inst.instance_id)
        changes.drop_activities_of.add(inst.instance_id)
        if inst.parent_instance_id:
            # The parent gets the raw terminate reason and no details (TaskOrchestrationDispatcher, the
            # SubOrchestrationInstanceFailedEvent built from the Terminated completion's Result and Details).
            failed = h.sub_orchestration_failed(now, inst.parent_task_id or 0, reason, None)
            changes.new_messages.append(NewMessage(inst.parent_instance_id, inst.parent_execution_id,
                                                   to_epoch(now), failed))
    inst.updated = to_epoch(now)
    changes.upsert_instances.append(inst)
    changes.append_history[inst.instance_id] = appended


def _orchestrate(store: Store, worker: Worker, inst: Instance, batch: list[Message], *, now: datetime,
                 changes: Changes) -> None:
    past = _played(store.history(inst.instance_id))
    new: list[Event] = [h.orchestrator_started(now)]
    for message in batch:
        event = message.event
        if kind_of(event) == EventType.EXECUTION_STARTED and past:
            continue  # a duplicate start
        if is_duplicate_completion(past + new, event):
            continue
        new.append(event)
    if len(new) == 1 or not (past or kind_of(new[1]) == EventType.EXECUTION_STARTED):
        return  # nothing this execution can use
    apply(inst, replay(worker, inst, past + new), new, now=now, changes=changes, known_instance=store.instance)


def _rewind(store: Store, worker: Worker, inst: Instance, now: datetime, changes: Changes) -> None:
    """Forget the failures, replay, and run the failed activities (and rewind failed children) again."""
    past = _played(store.history(inst.instance_id))
    failed_ids = {completion_id(e) for e in past if kind_of(e) in _FAILURES}
    kept = [e for e in past if kind_of(e) not in _FAILURES and kind_of(e) != EventType.EXECUTION_COMPLETED]
    inst.status, inst.output = rs.RUNNING, None
    new = [h.orchestrator_started(now)]
    first = replay(worker, inst, kept + new, lenient=True)
    if first.shim is not None and first.shim.orphans:
        # Retry timers and re-attempts that only existed because of a failure are gone with it.
        orphans = first.shim.orphans
        kept = [e for e in kept if not (kind_of(e) in DECISION_TYPES and e.get("EventId") in orphans)
                and completion_id(e) not in orphans]
    second = replay(worker, inst, kept + new)
    changes.reset_history.add(inst.instance_id)
    changes.append_history[inst.instance_id] = kept
    apply(inst, second, new, now=now, changes=changes, known_instance=store.instance)
    if second.shim is None:
        return
    for task_id in sorted(i for i in failed_ids if i is not None and i in second.shim.pending_ids):
        decision = second.shim.decisions[task_id]
        if decision in second.shim.new_decisions:
            continue
        if decision.kind == EventType.TASK_SCHEDULED:
            changes.new_activities.append((inst.instance_id, inst.execution_id, task_id, decision.name,
                                           decision.input, inst.trace_context))
        elif decision.kind == EventType.SUB_ORCHESTRATION_CREATED and decision.instance_id:
            changes.new_messages.append(NewMessage(decision.instance_id, None, to_epoch(now),
                                                   h.event(EventType.REWIND_REQUESTED, now)))


def _played(events: list[Event]) -> list[Event]:
    for event in events:
        event["IsPlayed"] = True
    return events
