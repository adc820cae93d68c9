"""Orchestrations on the devhost replay as under the Durable extension: the rules of OutOfProcOrchestrationShim,
DurableOrchestrationContext and DurableTask.Core's TaskOrchestrationContext, run through the real SDK."""

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import pytest

from tests.devhost.functions.hosting import APPS, HostThread, wait_for, wait_status


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostThread]:
    running = HostThread(APPS / "extension", Path(tmp_path_factory.mktemp("extension-data")))
    yield running
    running.close()


def run(host: HostThread, name: str, payload: object = None, instance_id: str | None = None) -> Any:
    async def body(client: df.DurableOrchestrationClient) -> Any:
        return await wait_status(client, await client.start_new(name, instance_id, payload))

    return host.scenario(body)


def test_an_unknown_activity_fails_the_instance_past_the_orchestrators_try_and_warns(
        host: HostThread, caplog: pytest.LogCaptureFixture) -> None:
    # DurableOrchestrationContext.CallDurableTaskFunctionAsync: ThrowIfFunctionDoesNotExist throws inside the shim,
    # so the except block in the orchestrator never runs.
    with caplog.at_level(logging.WARNING, logger="devhost.durable.replay"):
        status = run(host, "calls_missing_activity")
    assert status.runtime_status.value == "Failed"
    assert status.output == (
        "Orchestrator function 'calls_missing_activity' failed: The function 'no_such_activity' doesn't exist, is "
        "disabled, or is not an activity function. Additional info: The following are the known activity functions: "
        "'echo'.")
    assert ("DURABLE TRAP: orchestration 'calls_missing_activity' called activity 'no_such_activity', which does "
            "not exist: the Durable extension fails the whole instance (a try/except around the call cannot catch "
            "it); check the name given to call_activity") in caplog.text


def test_an_unknown_sub_orchestrator_fails_the_instance(host: HostThread) -> None:
    status = run(host, "calls_missing_sub_orchestrator")
    assert status.runtime_status.value == "Failed"
    assert status.output.startswith(
        "Orchestrator function 'calls_missing_sub_orchestrator' failed: The function 'no_such_orchestrator' doesn't "
        "exist, is disabled, or is not an orchestrator function. Additional info: The following are the known "
        "orchestrator functions: 'any_of_nothing', ")


def test_an_activity_name_in_other_case_runs_the_activity(host: HostThread) -> None:
    # FunctionName.Equals: OrdinalIgnoreCase, in the existence check and in the activity dispatch.
    status = run(host, "calls_activity_in_other_case")
    assert (status.runtime_status.value, status.output) == ("Completed", "loud")


def test_task_any_of_nothing_completes_because_sdk_1_7_sends_no_action(host: HostThread) -> None:
    # The extension would fail a WhenAny of nothing (test_shim covers it), but SDK 1.7 resolves task_any([]) itself
    # and its actions stay [[]]: the orchestrator goes on with None.
    status = run(host, "any_of_nothing")
    assert (status.runtime_status.value, status.output) == ("Completed", {"winner": None})


def test_one_event_goes_to_the_newest_of_several_waiters(host: HostThread) -> None:
    # DurableOrchestrationContext.WaitForExternalEvent keeps a stack per name: the newest wait gets the event. Were
    # it the oldest, the shim would wait for "Other" and never schedule the activity the SDK asks for next.
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("two_waiters")
        await wait_status(client, instance_id, "Running")
        await client.raise_event(instance_id, "E", 1)
        status = await wait_status(client, instance_id, seconds=10)
        assert (status.runtime_status.value, status.output) == ("Completed", ["second", "after"])

    host.scenario(body)


def test_a_timer_cancelled_before_the_shim_reaches_it_still_fires_into_history(host: HostThread) -> None:
    # OutOfProcOrchestrationShim.InvokeAPIFromAction creates the timer and then cancels its token: the CreateTimer
    # action is scheduled all the same, and its TimerFired arrives later, a "duplicate" for
    # TaskOrchestrationContext.HandleTimerFiredEvent that keeps nothing waiting.
    async def body(client: df.DurableOrchestrationClient) -> None:
        instance_id = await client.start_new("cancels_a_timer")
        await wait_status(client, instance_id, "Running")
        await client.raise_event(instance_id, "Go", 1)
        await client.raise_event(instance_id, "Start", 1)

        async def fired() -> bool:
            status = await client.get_status(instance_id, show_history=True)
            return "TimerFired" in [e["EventType"] for e in getattr(status, "historyEvents", None) or []]

        await wait_for(fired, "the cancelled timer's TimerFired")
        assert (await client.get_status(instance_id)).runtime_status.value == "Running"
        await client.raise_event(instance_id, "Done", 1)
        assert (await wait_status(client, instance_id)).output == "done"

    host.scenario(body)


def test_a_sub_orchestration_without_an_id_gets_execution_id_and_task_id(host: HostThread) -> None:
    # TaskOrchestrationContext.CreateSubOrchestrationInstanceCore: "<parent execution id>:<task id>".
    status = run(host, "default_child_id")
    assert status.runtime_status.value == "Completed"
    assert re.fullmatch(r"[0-9a-f]{32}:0", status.output["instance"]), status.output


def test_a_sub_orchestration_with_its_parents_id_fails_the_parent(host: HostThread) -> None:
    status = run(host, "child_with_parent_id")
    assert status.runtime_status.value == "Failed"
    assert status.output == ("Orchestrator function 'child_with_parent_id' failed: The instance ID of a "
                             "sub-orchestration must be different than the instance ID of a parent orchestration.")


def test_a_terminated_child_gives_the_parent_its_raw_reason(host: HostThread) -> None:
    # TaskOrchestrationDispatcher: SubOrchestrationInstanceFailedEvent(Result = the reason, Details = null).
    async def body(client: df.DurableOrchestrationClient) -> None:
        parent = await client.start_new("terminated_child", "term-parent")
        await wait_status(client, "term-parent-child", "Running")
        await client.terminate("term-parent-child", "stop the child")
        status = await wait_status(client, parent)
        assert status.output == {"child_error": "stop the child \n None"}

    host.scenario(body)


def test_custom_status_over_16_kb_on_a_later_episode_is_non_determinism(host: HostThread) -> None:
    # OutOfProcOrchestrationShim.ScheduleDurableTaskEvents sets the custom status before it replays the actions:
    # SetCustomStatus throws, the recorded TaskScheduled finds no action, and DurableTask.Core fails the instance.
    status = run(host, "status_grows")
    assert status.runtime_status.value == "Failed"
    assert status.output == (
        "Non-Deterministic workflow detected: A previous execution of this orchestration scheduled an activity task "
        "with sequence ID 0 and name 'echo' (version ''), but the current replay execution hasn't (yet?) scheduled "
        "this task. Was a change made to the orchestrator code after this instance had already started running?")
    assert status.custom_status is None
