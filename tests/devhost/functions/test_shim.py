"""The shim emulation (reference §A7) on hand-made histories: ids, the sequential await, retries, determinism."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devhost.durable import history as h
from devhost.durable.extension_rules import KnownFunctions
from devhost.durable.history import EventType
from devhost.durable.shim import ShimContext, ShimReplay

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CONTEXT = ShimContext("orch", "i", "e", None, KnownFunctions(
    ("first", "second", "work", "post_event", "a", "b", "flaky", "after"), ("orch", "child")))


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


def wait(name: str) -> dict[str, Any]:
    return {"actionType": 6, "externalEventName": name}


def retry(options: dict[str, Any], name: str = "flaky") -> dict[str, Any]:
    return {"actionType": 1, "functionName": name, "input": "null", "retryOptions": options}


def failed_attempts(options: dict[str, Any], failures: int, step: timedelta = timedelta(seconds=1)) -> list[Any]:
    """Replay a retried activity failing ``failures`` times; returns the timers' fire times the shim asked for."""
    events = [*start()]
    now, fire_times = T0, []
    for _ in range(failures):
        result = replay([retry(options)], events)
        decision = result.new_decisions[0]
        events += [h.event(decision.kind, now, decision.task_id, Name=decision.name, Input="null",
                           FireAt="" if decision.fire_at is None else decision.fire_at.isoformat()),
                   h.orchestrator_completed(now)]
        if decision.kind == EventType.TASK_SCHEDULED:
            now += step
            events += [h.orchestrator_started(now), h.task_failed(now, decision.task_id, "boom", "")]
            timer = replay([retry(options)], events).new_decisions
            if not timer:
                break
            fire_times.append(timer[0].fire_at - now)
            events += [h.event(EventType.TIMER_CREATED, now, timer[0].task_id, FireAt=""),
                       h.orchestrator_completed(now), h.orchestrator_started(now),
                       h.timer_fired(now, timer[0].task_id, "")]
    return fire_times


def test_an_empty_when_any_faults_the_orchestration() -> None:
    # OutOfProcOrchestrationShim.InvokeAPIFromAction: Task.WhenAny of nothing throws ArgumentException.
    result = replay([{"actionType": 11, "compoundActions": []}], start())
    assert result.fault == "Orchestrator function 'orch' failed: The tasks argument contains no tasks. " \
                           "(Parameter 'tasks')"


def test_an_unknown_activity_faults_before_taking_an_id() -> None:
    result = replay([activity("nope")], start())
    assert result.fault == (
        "Orchestrator function 'orch' failed: The function 'nope' doesn't exist, is disabled, or is not an activity "
        "function. Additional info: The following are the known activity functions: 'first', 'second', 'work', "
        "'post_event', 'a', 'b', 'flaky', 'after'.")
    assert result.new_decisions == []


def test_a_fault_waits_for_the_open_tasks() -> None:
    # TaskOrchestrationExecutor fails the instance only when !HasOpenTasks: "a" is still scheduled and open.
    result = replay([{"actionType": 12, "compoundActions": [activity("a"), activity("nope")]}], start())
    assert result.fault is not None
    assert [(d.task_id, d.name) for d in result.new_decisions] == [(0, "a")]
    assert result.open_tasks == 1


def test_the_newest_waiter_gets_a_raised_event() -> None:
    # WhenAny([WhenAll([E, Other]), E]): the second E wait is the newest and completes the WhenAny.
    actions = [{"actionType": 11, "compoundActions": [
        {"actionType": 12, "compoundActions": [wait("E"), wait("Other")]}, wait("E")]}, activity("after")]
    result = replay(actions, [*start(), h.event_raised(T0, "E", "1")])
    assert [d.name for d in result.new_decisions] == ["after"]


def test_event_names_match_ignoring_case_and_a_mismatch_warns() -> None:
    result = replay([wait("Approval"), activity("after")], [*start(), h.event_raised(T0, "approval", "1")])
    assert [d.name for d in result.new_decisions] == ["after"]
    assert result.warnings == [
        "event 'approval' was raised to orchestration 'orch', which waits for 'Approval': the Durable extension "
        "matches event names ignoring case but the Python SDK does not, so the extension counts the wait as done "
        "while the orchestrator never sees the event"]


def test_schema_v1_waits_for_any_action_of_each_yield() -> None:
    # ProcessAsyncActionsV1: Task.WhenAny over one yield's actions, then the next yield.
    state = {"isDone": False, "actions": [[activity("a"), activity("b")], [activity("after")]]}
    events = [*start(), scheduled(0, "a"), scheduled(1, "b"), h.orchestrator_completed(T0),
              h.orchestrator_started(T0), h.task_completed(T0, 1, "1")]
    result = ShimReplay(state, CONTEXT).run(events)
    assert [(d.task_id, d.name) for d in result.new_decisions] == [(2, "after")]


def test_schema_v2_needs_exactly_one_outer_action_list() -> None:
    result = ShimReplay({"isDone": True, "schemaVersion": 2, "actions": []}, CONTEXT).run(start())
    assert result.fault == ("Orchestrator function 'orch' failed: With OOProc schema V3, expected actions array to be "
                            "of length 1 in outer layer but got size: 0")


def test_retry_honours_backoff_and_max_interval_from_raw_options() -> None:
    # RetryOptionsConverter reads them; RetryInterceptor.ComputeNextDelay: first * coefficient^attempt, capped.
    options = {"firstRetryIntervalInMilliseconds": 1000, "maxNumberOfAttempts": 5, "backoffCoefficient": 2,
               "maxRetryIntervalInMilliseconds": 3000}
    assert failed_attempts(options, 4) == [timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=3),
                                           timedelta(seconds=3)]


def test_retry_timeout_stops_the_retries_without_a_timer() -> None:
    options = {"firstRetryIntervalInMilliseconds": 1000, "maxNumberOfAttempts": 5, "retryTimeoutInMilliseconds": 1500}
    # First failure at +1 s (within 1.5 s): a timer; second at +3 s: past the timeout, no timer, no more attempts.
    assert failed_attempts(options, 3) == [timedelta(seconds=1)]


def test_zero_attempts_complete_the_call_without_running_it() -> None:
    result = replay([retry({"firstRetryIntervalInMilliseconds": 1000, "maxNumberOfAttempts": 0}),
                     activity("after")], start())
    assert [(d.task_id, d.name) for d in result.new_decisions] == [(0, "after")]


@pytest.mark.parametrize(("options", "message"), [
    ({"maxNumberOfAttempts": 2}, "Invalid JSON. Must contain field firstRetryIntervalInMilliseconds (Parameter "
                                 "'reader')"),
    ({"firstRetryIntervalInMilliseconds": 0, "maxNumberOfAttempts": 2},
     "Invalid interval.  Specify a TimeSpan value greater then TimeSpan.Zero. (Parameter 'firstRetryInterval')"),
    ({"firstRetryIntervalInMilliseconds": 1000, "maxNumberOfAttempts": 2,
      "maxRetryIntervalInMilliseconds": 7 * 86_400_000},
     "The Azure Storage provider supports a maximum of 6 days for time-based delays (Parameter 'MaxRetryInterval')"),
])
def test_bad_retry_options_fault_with_the_extensions_message(options: dict[str, Any], message: str) -> None:
    result = replay([retry(options)], start())
    assert result.fault == f"Orchestrator function 'orch' failed: {message}"


def test_a_sub_orchestration_without_an_id_is_execution_id_colon_task_id() -> None:
    result = replay([activity("a"), {"actionType": 2, "functionName": "child", "input": "null"}],
                    [*start(), scheduled(0, "a"), h.task_completed(T0, 0, "1")])
    assert [(d.task_id, d.instance_id) for d in result.new_decisions] == [(1, "e:1")]


def test_a_recorded_timer_the_replay_has_not_made_is_non_deterministic() -> None:
    events = [*start(), h.event(EventType.TIMER_CREATED, T0, 0, FireAt="")]
    assert replay([], events).non_deterministic == (
        "Non-Deterministic workflow detected: A previous execution of this orchestration scheduled a timer task with "
        "sequence number 0 but the current replay execution hasn't (yet?) scheduled this task. Was a change made to "
        "the orchestrator code after this instance had already started running?")


def test_a_cancelled_timer_is_still_a_decision() -> None:
    result = replay([{"actionType": 5, "fireAt": "2024-05-01T12:00:30.000000Z", "isCanceled": True}], start(),
                    isDone=True)
    assert [(d.kind, d.canceled) for d in result.new_decisions] == [(EventType.TIMER_CREATED, True)]
    assert result.finished and result.open_tasks == 0


def test_events_while_suspended_wait_for_the_resume() -> None:
    actions = [wait("Go"), activity("after")]
    suspended = [*start(), h.orchestrator_completed(T0), h.orchestrator_started(T0),
                 h.event(EventType.EXECUTION_SUSPENDED, T0), h.event_raised(T0, "Go", "1")]
    held = replay(actions, suspended)
    assert (held.suspended, held.new_decisions) == (True, [])
    resumed = replay(actions, [*suspended, h.event(EventType.EXECUTION_RESUMED, T0)])
    assert [d.name for d in resumed.new_decisions] == ["after"]


def test_custom_status_is_measured_as_compact_utf16_json() -> None:
    # MessagePayloadDataConverter.Serialize: (int)(UTF-16 bytes / 1024.0) > 16 fails, so up to 17,407 bytes pass.
    assert replay([], start(), customStatus="x" * 8701).fault is None
    assert replay([], start(), customStatus="x" * 8702).fault == (
        "Orchestrator function 'orch' failed: The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. "
        "The current payload size is 17 KB.")
    # Compact JSON (JToken.ToString(Formatting.None)): 4,350 ones are 8,701 characters, not 13,051.
    assert replay([], start(), customStatus=[1] * 4350).custom_status == "[" + ",".join(["1"] * 4350) + "]"


def test_unreadable_retry_options_fault_before_any_action_runs() -> None:
    # They fail result.Json.ToObject<OutOfProcOrchestratorState>(), before the first action is invoked.
    result = replay([activity("a"), retry({"maxNumberOfAttempts": 2})], start())
    assert result.new_decisions == [] and result.fault is not None
