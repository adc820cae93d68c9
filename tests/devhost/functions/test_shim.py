"""The shim emulation (reference §A7) on hand-made histories: ids, the sequential await, retries, determinism."""

from datetime import UTC, datetime, timedelta
from typing import Any

from devhost.durable import history as h
from devhost.durable.extension_rules import KnownFunctions
from devhost.durable.history import EventType
from devhost.durable.shim import ShimContext, ShimReplay

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CONTEXT = ShimContext("orch", "i", "e", None, KnownFunctions(
    ("first", "second", "work", "post_event", "a", "b", "flaky"), ("orch", "child")))


def start(at: datetime = T0) -> list[dict[str, Any]]:
    return [h.orchestrator_started(at),
            h.execution_started(at, "orch", "", None, instance_id="i", execution_id="e", parent=None)]


def activity(name: str) -> dict[str, Any]:
    return {"actionType": 0, "functionName": name, "input": "null"}


def scheduled(task_id: int, name: str) -> dict[str, Any]:
    return h.event(EventType.TASK_SCHEDULED, T0, task_id, Name=name, Input="null")


def replay(actions: list[dict[str, Any]], events: list[dict[str, Any]], **state: Any) -> Any:
    return ShimReplay({"isDone": False, "schemaVersion": 2, "actions": [actions], **state}, CONTEXT).run(events)


def test_a_pending_action_blocks_every_later_action() -> None:
    # task_any re-yielded with only a new wait: the shim awaits it, so post_event is not scheduled (§A7.1).
    actions = [{"actionType": 11, "compoundActions": [activity("work"), {"actionType": 6,
                                                                         "externalEventName": "progress"}]},
               {"actionType": 11, "compoundActions": [{"actionType": 6, "externalEventName": "progress"}]},
               activity("post_event")]
    events = [*start(), scheduled(0, "work"), h.orchestrator_completed(T0), h.orchestrator_started(T0),
              h.event_raised(T0, "progress", '"1"')]
    result = replay(actions, events)
    assert [d.name for d in result.new_decisions] == []
    assert not result.finished
    # The second "progress" event unblocks it.
    result = replay(actions, [*events, h.event_raised(T0, "progress", '"2"')])
    assert [(d.task_id, d.name) for d in result.new_decisions] == [(1, "post_event")]


def test_ids_follow_the_order_the_shim_reaches_each_leaf() -> None:
    actions = [{"actionType": 12, "compoundActions": [activity("a"), activity("b")]},
               {"actionType": 5, "fireAt": "2024-05-01T12:00:30.000000Z", "isCanceled": False}]
    result = replay(actions, start())
    assert [(d.task_id, d.kind, d.name) for d in result.new_decisions] == [
        (0, EventType.TASK_SCHEDULED, "a"), (1, EventType.TASK_SCHEDULED, "b")]
    assert result.open_tasks == 2


def test_retry_creates_the_timer_then_the_next_attempt_then_the_dummy_timer() -> None:
    retry = {"actionType": 12, "compoundActions": [{
        "actionType": 1, "functionName": "flaky", "input": "null",
        "retryOptions": {"firstRetryIntervalInMilliseconds": 5000, "maxNumberOfAttempts": 2}}]}
    later = T0 + timedelta(seconds=1)
    events = [*start(), scheduled(0, "flaky"), h.orchestrator_completed(T0), h.orchestrator_started(later),
              h.task_failed(later, 0, "boom", "")]
    first_failure = replay([retry], events)
    assert [(d.task_id, d.kind, d.fire_at) for d in first_failure.new_decisions] == [
        (1, EventType.TIMER_CREATED, later + timedelta(seconds=5))]
    events += [h.event(EventType.TIMER_CREATED, later, 1, FireAt=""), h.orchestrator_completed(later),
               h.orchestrator_started(later), h.timer_fired(later, 1, "")]
    assert [(d.task_id, d.name) for d in replay([retry], events).new_decisions] == [(2, "flaky")]
    events += [scheduled(2, "flaky"), h.orchestrator_completed(later), h.orchestrator_started(later),
               h.task_failed(later, 2, "boom", "")]
    dummy = replay([retry], events).new_decisions
    # After the last attempt the dummy timer fires at the current time (§A3).
    assert [(d.task_id, d.kind, d.fire_at) for d in dummy] == [(3, EventType.TIMER_CREATED, later)]


def test_cancelled_timer_is_done_and_not_an_open_task() -> None:
    actions = [{"actionType": 11, "compoundActions": [
        activity("work"), {"actionType": 5, "fireAt": "2024-05-01T12:00:30.000000Z", "isCanceled": True}]}]
    events = [*start(), scheduled(0, "work"), h.event(EventType.TIMER_CREATED, T0, 1, FireAt=""),
              h.orchestrator_completed(T0), h.orchestrator_started(T0), h.task_completed(T0, 0, "1")]
    result = replay(actions, events, isDone=True)
    assert result.finished and result.open_tasks == 0


def test_uncancelled_losing_timer_stays_open() -> None:
    actions = [{"actionType": 11, "compoundActions": [
        activity("work"), {"actionType": 5, "fireAt": "2024-05-01T12:00:30.000000Z", "isCanceled": False}]}]
    events = [*start(), scheduled(0, "work"), h.event(EventType.TIMER_CREATED, T0, 1, FireAt=""),
              h.orchestrator_completed(T0), h.orchestrator_started(T0), h.task_completed(T0, 0, "1")]
    result = replay(actions, events, isDone=True)
    assert result.finished and result.open_tasks == 1


def test_a_different_activity_for_a_recorded_id_is_non_deterministic_in_dtfx_words() -> None:
    result = replay([activity("second")], [*start(), scheduled(0, "first")])
    # TaskOrchestrationContext.HandleTaskScheduledEvent, two spaces before "Was" included.
    assert result.non_deterministic == (
        "Non-Deterministic workflow detected: A previous execution of this orchestration scheduled an activity task "
        "with sequence number 0 named 'first', but the current orchestration replay instead scheduled an activity "
        "task named 'second' with this sequence number.  Was a change made to the orchestrator code after this "
        "instance had already started running?")


def test_a_recorded_name_in_other_case_is_still_deterministic() -> None:
    result = replay([activity("FIRST")], [*start(), scheduled(0, "first")])
    assert result.non_deterministic is None


def test_entities_are_reported_as_unsupported() -> None:
    result = replay([{"actionType": 9, "instanceId": "@c@k", "operation": "add", "input": "1"}], start())
    assert result.fault == "Orchestrator function 'orch' failed: durable entities are not supported by the devhost " \
                           "functions host"
