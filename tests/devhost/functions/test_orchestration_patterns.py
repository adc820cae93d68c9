"""Orchestration patterns run through the real SDK on the devhost, driven by the SDK's own client."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import azure.durable_functions as df
import pytest

from tests.devhost.functions.hosting import APPS, HostThread, wait_for, wait_status


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostThread]:
    running = HostThread(APPS / "patterns", Path(tmp_path_factory.mktemp("patterns-data")))
    yield running
    running.close()


def test_chaining_passes_each_result_on_and_sets_custom_status(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("chain", None, "world")
        status = await wait_status(client, instance_id)
        assert status.runtime_status.value == "Completed"
        assert status.output == ["Hello world", "Hello Hello world", 34]
        assert status.custom_status == {"done": True}
        # Python-started inputs are stored as the JSON text the client sent (reference §C3).
        assert status.input_ == '"world"'

    host.scenario(body)


def test_fan_out_fan_in_sums_parallel_activities(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("fan_out_in", None, 20)
        status = await wait_status(client, instance_id)
        assert status.output == sum(i * 2 for i in range(20))

    host.scenario(body)


def test_human_interaction_event_beats_the_timer(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("approval", None, {"timeout_s": 60})
        await client.raise_event(instance_id, "Approval", {"by": "ann"})
        status = await wait_status(client, instance_id)
        # The Python client double-encodes event data: the orchestrator sees JSON text (known issue #295).
        assert status.output == {"approved": '{"by": "ann"}'}

    host.scenario(body)


def test_human_interaction_timer_wins_without_an_event(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("approval", None, {"timeout_s": 0.2})
        status = await wait_status(client, instance_id)
        assert status.output == {"approved": None, "timed_out": True}

    host.scenario(body)


def test_events_are_delivered_fifo_including_ones_raised_before_the_wait(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("waiting")
        for value in ("a", "b", "stop"):
            await client.raise_event(instance_id, "Go", value)
        status = await wait_status(client, instance_id)
        assert status.output == ['"a"', '"b"', '"stop"']

    host.scenario(body)


def test_monitor_loop_continues_as_new_until_done(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("monitor", None, {"polls": 0, "until": 3, "interval_ms": 20})
        status = await wait_status(client, instance_id)
        assert status.output == {"polls": 3}
        assert status.custom_status == {"polls": 3}
        history = await client.get_status(instance_id, show_history=True)
        # Each execution starts with fresh history: the last one never created a timer.
        assert [e["EventType"] for e in history.historyEvents] == ["ExecutionStarted", "ExecutionCompleted"]

    host.scenario(body)


def test_retry_succeeds_after_failed_attempts_with_host_made_timers(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("retrying", None, {"key": "retry-ok", "failures": 2, "max": 3})
        status = await wait_status(client, instance_id)
        assert status.output == {"result": "ok after 3"}
        history = await client.get_status(instance_id, show_history=True)
        kinds = [e["EventType"] for e in history.historyEvents]
        assert kinds.count("TaskFailed") == 2
        assert kinds.count("TimerFired") == 2

    host.scenario(body)


def test_retry_exhaustion_raises_the_last_failure_after_the_dummy_timer(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("retrying", None, {"key": "retry-never", "failures": 9, "max": 2})
        status = await wait_status(client, instance_id)
        assert status.output["error"].split(" \n ")[0] == \
            "Activity function 'flaky' failed:  ConnectionError: attempt 2 failed"
        history = await client.get_status(instance_id, show_history=True)
        kinds = [e["EventType"] for e in history.historyEvents]
        # attempt, timer, attempt, dummy timer (reference §A3)
        assert kinds.count("TaskFailed") == 2
        assert kinds.count("TimerFired") == 2

    host.scenario(body)


def test_sub_orchestrations_return_outputs_and_failures(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("parent")
        status = await wait_status(client, instance_id)
        assert status.runtime_status.value == "Completed"
        assert status.output["outputs"] == [["Hello kid0", "Hello Hello kid0", 32],
                                            ["Hello kid1", "Hello Hello kid1", 32]]
        assert status.output["named"] == 6
        assert status.output["child_error"].split(" \n ")[0] == (
            "Orchestrator function 'failing' failed: Activity function 'fail_always' failed:  ValueError: cannot "
            "handle x")
        named = await client.get_status(f"{instance_id}-named")
        assert named.runtime_status.value == "Completed"

    host.scenario(body)


def test_unhandled_activity_failure_fails_the_instance_with_the_reason(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("failing")
        status = await wait_status(client, instance_id)
        assert status.runtime_status.value == "Failed"
        # TaskActivityShim keeps the worker's message after "Exception:", its leading space included.
        assert status.output.split(" \n ")[0] == ("Orchestrator function 'failing' failed: Activity function "
                                                  "'fail_always' failed:  ValueError: cannot handle x")

    host.scenario(body)


def test_caught_activity_failure_is_an_exception_in_the_orchestrator(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        status = await wait_status(client, await client.start_new("catching"))
        reason, details = status.output["caught"].split(" \n ", 1)
        assert reason == "Activity function 'fail_always' failed:  ValueError: cannot handle caught"
        # Details: the serialised exception, whose inner RpcException carries the worker's message and stack.
        inner = json.loads(details)["InnerException"]
        assert inner["Message"].startswith("Result: Failure\nException: ValueError: cannot handle caught\nStack: ")

    host.scenario(body)


def test_orchestrator_exception_fails_with_its_message(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        status = await wait_status(client, await client.start_new("raising"))
        assert status.runtime_status.value == "Failed"
        assert status.output == "Orchestrator function 'raising' failed: orchestrator gave up"

    host.scenario(body)


def test_plain_function_orchestrator_completes_at_once(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("plain_function", "fixed-plain", [1, 2])
        status = await wait_status(client, instance_id)
        assert status.output == {"input": [1, 2], "instance": "fixed-plain"}

    host.scenario(body)


def test_terminate_ends_a_waiting_instance_with_the_reason(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("waiting")
        await client.terminate(instance_id, "user cancelled")
        status = await wait_status(client, instance_id)
        assert status.runtime_status.value == "Terminated"
        assert status.output == "user cancelled"
        await client.terminate(instance_id, "again")  # 410 is not an error for the client
        with pytest.raises(Exception, match="gone"):
            await client.raise_event(instance_id, "Go", "late")

    host.scenario(body)


def test_suspend_defers_events_in_the_replay_while_the_orchestrator_still_runs(host: HostThread) -> None:
    # TaskOrchestrationExecutor.ProcessEvent: events arriving while suspended are appended to history and deferred
    # inside the replay; the Python orchestrator still sees them, so its custom status moves, but nothing it
    # schedules takes effect and the instance stays Suspended until the resume.
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("waiting")
        await wait_status(client, instance_id, "Running")
        await client.suspend(instance_id, "hold on")
        await wait_status(client, instance_id, "Suspended")
        await client.raise_event(instance_id, "Go", "one")

        async def seen_one() -> bool:
            current = await client.get_status(instance_id)
            return current.custom_status == {"seen": ['"one"']}

        await wait_for(seen_one, "the orchestrator to see the event while suspended")
        status = await client.get_status(instance_id, show_history=True)
        assert status.runtime_status.value == "Suspended"
        assert [e["EventType"] for e in status.historyEvents][-2:] == ["ExecutionSuspended", "EventRaised"]
        with pytest.raises(Exception, match="unexpected status code 500"):
            await client.suspend(instance_id, "twice")
        await client.raise_event(instance_id, "Go", "stop")
        await wait_for(lambda: _custom_status_is(client, instance_id, {"seen": ['"one"', '"stop"']}),
                       "the second event to be seen while suspended")
        # The orchestrator returned, but the deferred events keep the shim waiting: still Suspended.
        assert (await client.get_status(instance_id)).runtime_status.value == "Suspended"
        await client.resume(instance_id, "go on")
        assert (await wait_status(client, instance_id)).output == ['"one"', '"stop"']

    host.scenario(body)


async def _custom_status_is(client: df.DurableOrchestrationClient, instance_id: str, wanted: object) -> bool:
    return (await client.get_status(instance_id)).custom_status == wanted


def test_timer_win_keeps_instance_running_until_the_activity_ends(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("race_keeps_running", None, {"sleep_s": 0.8, "timer_ms": 20})

        async def timer_fired() -> bool:
            status = await client.get_status(instance_id, show_history=True)
            return any(e["EventType"] == "TimerFired" for e in getattr(status, "historyEvents", None) or [])

        await wait_for(timer_fired, "the timer to fire")
        assert (await client.get_status(instance_id)).runtime_status.value == "Running"
        status = await wait_status(client, instance_id)
        assert status.output == "timer"

    host.scenario(body)


def test_custom_status_over_16_kb_fails_the_instance(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        status = await wait_status(client, await client.start_new("big_status"))
        assert status.runtime_status.value == "Failed"
        # MessagePayloadDataConverter.Serialize: 9,002 JSON characters are 17 KB of UTF-16. SetCustomStatus threw,
        # so no custom status was set.
        assert status.output == ("Orchestrator function 'big_status' failed: The UTF-16 size of the JSON-serialized "
                                 "payload must not exceed 16 KB. The current payload size is 17 KB.")
        assert status.custom_status is None

    host.scenario(body)


def test_non_deterministic_replay_fails_the_instance(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        status = await wait_status(client, await client.start_new("nondeterministic"))
        assert status.runtime_status.value == "Failed"
        # DurableTask.Core's message is the whole output: no "Orchestrator function ... failed:" in front.
        assert status.output == (
            "Non-Deterministic workflow detected: A previous execution of this orchestration scheduled an activity "
            "task with sequence number 0 named 'hello', but the current orchestration replay instead scheduled an "
            "activity task named 'async_double' with this sequence number.  Was a change made to the orchestrator "
            "code after this instance had already started running?")

    host.scenario(body)


def test_function_timeout_fails_a_long_activity(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        status = await wait_status(client, await client.start_new("timeout_activity"))
        assert status.output["error"] == ("Activity function 'slow' failed: Timeout value of 00:00:02 was exceeded "
                                          "by function: Functions.slow \n ")

    host.scenario(body)


def test_rewind_reruns_the_failed_activity(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("rewindable", None, {"key": "rewind", "failures": 1})
        assert (await wait_status(client, instance_id)).runtime_status.value == "Failed"
        await client.rewind(instance_id, "try again")
        status = await wait_status(client, instance_id, "Completed")
        assert status.output == ["Hello one", "ok after 2"]
        with pytest.raises(Exception, match="only supported on failed"):
            await client.rewind(instance_id, "completed instances cannot be rewound")

    host.scenario(body)


def test_restart_starts_the_same_orchestration_again(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        first = await client.start_new("chain", None, "again")
        await wait_status(client, first)
        fresh = await client.restart(first)
        fresh_id = fresh["id"] if isinstance(fresh, dict) else fresh
        assert fresh_id != first
        assert (await wait_status(client, fresh_id)).output[0] == "Hello again"
        same = await client.restart(first, restart_with_new_instance_id=False)
        same_id = same["id"] if isinstance(same, dict) else same
        assert same_id == first
        assert (await wait_status(client, first)).output[0] == "Hello again"

    host.scenario(body)


def test_start_with_an_existing_running_id_conflicts(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        await client.start_new("waiting", "conflict-1")
        with pytest.raises(Exception) as caught:
            await client.start_new("waiting", "conflict-1")
        assert "already exists" in json.dumps(caught.value.args[0])
        await client.terminate("conflict-1", "done")
        await wait_status(client, "conflict-1")
        # A finished instance can be replaced.
        assert await client.start_new("plain_function", "conflict-1", 5) == "conflict-1"
        assert (await wait_status(client, "conflict-1", "Completed")).output["input"] == 5

    host.scenario(body)


def test_client_queries_and_purges(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        ids = [await client.start_new("plain_function", f"query-{i}", i) for i in range(3)]
        for instance_id in ids:
            await wait_status(client, instance_id)
        running = await client.start_new("waiting", "query-running")
        await wait_status(client, running, "Running")
        everything = await client.get_status_all()
        assert set(ids) | {running} <= {s.instance_id for s in everything}
        since = datetime.now(UTC) - timedelta(hours=1)
        completed = await client.get_status_by(since, None, [df.OrchestrationRuntimeStatus.Completed])
        assert set(ids) <= {s.instance_id for s in completed}
        assert running not in {s.instance_id for s in completed}
        prefixed = await client.get_status_by(instance_id_prefix="query-")
        assert sorted(s.instance_id for s in prefixed) == sorted([*ids, running])
        missing = await client.get_status("query-missing")
        assert not missing
        purged = await client.purge_instance_history(ids[0])
        assert purged.instances_deleted == 1
        assert (await client.purge_instance_history(ids[0])).instances_deleted == 0
        # Purge by filter only removes finished instances.
        purged = await client.purge_instance_history_by(since, None, [df.OrchestrationRuntimeStatus.Completed,
                                                                      df.OrchestrationRuntimeStatus.Running])
        assert purged.instances_deleted >= 2
        assert not await client.get_status(ids[1])
        assert (await client.get_status(running)).runtime_status.value == "Running"
        await client.terminate(running, "cleanup")

    host.scenario(body)


def test_a_blocked_activity_does_not_hold_up_other_orchestrations(host: HostThread, tmp_path: Path) -> None:
    gate = tmp_path / "gate"

    async def body(client: df.DurableOrchestrationClient) -> None:
        blocked = await client.start_new("gated", None, str(gate))
        quick = await client.start_new("chain", None, "meanwhile")
        assert (await wait_status(client, quick)).runtime_status.value == "Completed"
        assert (await client.get_status(blocked)).runtime_status.value == "Running"
        gate.touch()
        assert (await wait_status(client, blocked)).output == "opened"

    host.scenario(body)


def test_retried_activity_raced_against_a_cancelled_timer_is_non_deterministic(host: HostThread) -> None:
    # On replay the cancelled timer completes the WhenAny at once, so the shim reaches the next action before
    # the retry's timers and re-attempts take their ids: the extension's replay diverges (reference §A7.1, §A3).
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("retry_race", None, {"key": "race-hazard", "failures": 1})
        status = await wait_status(client, instance_id)
        assert status.runtime_status.value == "Failed"
        assert "Non-Deterministic workflow detected" in status.output

    host.scenario(body)


def test_manual_retries_raced_against_fresh_timers_complete(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("manual_retry_race", None, {"key": "race-safe", "failures": 1})
        status = await wait_status(client, instance_id)
        assert status.output == [2, "ok after 2", "Hello after"]

    host.scenario(body)
