"""Orchestrations that probe the Durable extension's replay rules: unknown names, task_any([]), several waiters,
cancelled timers, sub-orchestration ids and terminate reasons, the custom-status limit on a later episode."""

from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.orchestration_trigger(context_name="context")
def calls_missing_activity(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("no_such_activity", "x")
    except Exception as exc:  # the extension fails the instance instead: this never runs
        return {"caught": str(exc)}
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def calls_missing_sub_orchestrator(context: df.DurableOrchestrationContext):
    try:
        yield context.call_sub_orchestrator("no_such_orchestrator", "x")
    except Exception as exc:
        return {"caught": str(exc)}
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def calls_activity_in_other_case(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("ECHO", "loud"))


@app.orchestration_trigger(context_name="context")
def any_of_nothing(context: df.DurableOrchestrationContext):
    # SDK 1.7 resolves an empty task_any at once and sends no WhenAny action, so the extension's Task.WhenAny
    # never sees the empty list.
    winner = yield context.task_any([])
    return {"winner": winner}


@app.orchestration_trigger(context_name="context")
def two_waiters(context: df.DurableOrchestrationContext):
    """One event, two waits for it: the newest wait gets it, in the extension and in the SDK."""
    first = context.wait_for_external_event("E")
    other = context.wait_for_external_event("Other")
    second = context.wait_for_external_event("E")
    winner = yield context.task_any([context.task_all([first, other]), second])
    done = yield context.call_activity("echo", "after")
    return ["second" if winner == second else "first", done]


@app.orchestration_trigger(context_name="context")
def cancels_a_timer(context: df.DurableOrchestrationContext):
    """The SDK hands a buffered event to every later wait (azure-functions-durable-python#507), so the second wait
    for "Go" wins at once and the timer is cancelled before the extension's shim ever reaches it."""
    yield context.wait_for_external_event("Start")
    yield context.wait_for_external_event("Go")
    timer = context.create_timer(context.current_utc_datetime + timedelta(milliseconds=300))
    winner = yield context.task_any([context.wait_for_external_event("Go"), timer])
    if winner != timer:
        timer.cancel()
    yield context.wait_for_external_event("Done")
    return "done"


@app.orchestration_trigger(context_name="context")
def default_child_id(context: df.DurableOrchestrationContext):
    return (yield context.call_sub_orchestrator("child", "hi"))


@app.orchestration_trigger(context_name="context")
def child_with_parent_id(context: df.DurableOrchestrationContext):
    return (yield context.call_sub_orchestrator("child", "hi", instance_id=context.instance_id))


@app.orchestration_trigger(context_name="context")
def terminated_child(context: df.DurableOrchestrationContext):
    try:
        yield context.call_sub_orchestrator("waits_forever", None, instance_id=f"{context.instance_id}-child")
    except Exception as exc:
        return {"child_error": str(exc)}
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def status_grows(context: df.DurableOrchestrationContext):
    context.set_custom_status("small")
    yield context.call_activity("echo", "one")
    context.set_custom_status("x" * 9000)
    yield context.call_activity("echo", "two")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def child(context: df.DurableOrchestrationContext):
    return {"instance": context.instance_id, "input": context.get_input()}


@app.orchestration_trigger(context_name="context")
def waits_forever(context: df.DurableOrchestrationContext):
    yield context.wait_for_external_event("Never")
    return "unreachable"


@app.activity_trigger(input_name="value")
def echo(value: str) -> str:
    return value
