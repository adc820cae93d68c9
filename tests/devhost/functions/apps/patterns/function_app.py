"""Orchestration patterns for the devhost tests: chaining, fan-out/in, human interaction, monitor, retries,
sub-orchestrations, continue-as-new, failures, terminate. Written in the samples' DFApp style."""

import asyncio
import json
import time
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

# Attempts per key, so a flaky activity fails a set number of times (in-process only, fine for tests).
_ATTEMPTS: dict[str, int] = {}
# Changes between replays, to provoke the non-determinism check.
_REPLAYS = {"count": 0}


@app.route(route="orchestrators/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    payload = json.loads(body) if body else None
    instance_id = await client.start_new(req.route_params["functionName"], None, payload)
    return client.create_check_status_response(req, instance_id)


@app.route(route="run/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_run_and_wait(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = await client.start_new(req.route_params["functionName"], None, req.get_json())
    return await client.wait_for_completion_or_create_check_status_response(req, instance_id, 5000, 50)


@app.route(route="echo/{name}/{count:int?}", methods=["GET", "POST"])
def echo(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return func.HttpResponse(json.dumps({
        "method": req.method, "name": req.route_params.get("name"), "count": req.route_params.get("count"),
        "query": dict(req.params), "header": req.headers.get("x-test"), "body": req.get_body().decode(),
        "function": context.function_name, "url": req.url,
    }), status_code=201, headers={"x-echo": "yes"}, mimetype="application/json")


@app.route(route="boom")
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("boom")


@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext):
    name = context.get_input()
    first = yield context.call_activity("hello", name)
    second = yield context.call_activity("hello", first)
    third = yield context.call_activity("async_double", len(second))
    context.set_custom_status({"done": True})
    return [first, second, third]


@app.orchestration_trigger(context_name="context")
def fan_out_in(context: df.DurableOrchestrationContext):
    count = context.get_input()
    results = yield context.task_all([context.call_activity("async_double", i) for i in range(count)])
    return sum(results)


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    seconds = context.get_input()["timeout_s"]
    timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    event = context.wait_for_external_event("Approval")
    winner = yield context.task_any([event, timer])
    if winner == event:
        timer.cancel()
        return {"approved": event.result}
    return {"approved": None, "timed_out": True}


@app.orchestration_trigger(context_name="context")
def monitor(context: df.DurableOrchestrationContext):
    state = context.get_input()
    polls = state["polls"] + 1
    context.set_custom_status({"polls": polls})
    if polls >= state["until"]:
        return {"polls": polls}
    yield context.create_timer(context.current_utc_datetime + timedelta(milliseconds=state["interval_ms"]))
    context.continue_as_new({"polls": polls, "until": state["until"], "interval_ms": state["interval_ms"]})
    return None


@app.orchestration_trigger(context_name="context")
def retrying(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    options = df.RetryOptions(first_retry_interval_in_milliseconds=50, max_number_of_attempts=spec["max"])
    try:
        result = yield context.call_activity_with_retry("flaky", options, spec)
        return {"result": result}
    except Exception as exc:  # retries exhausted: the last failure arrives here
        return {"error": str(exc)}


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    outputs = yield context.task_all([context.call_sub_orchestrator("chain", f"kid{i}") for i in range(2)])
    named = yield context.call_sub_orchestrator("fan_out_in", 3, instance_id=f"{context.instance_id}-named")
    try:
        yield context.call_sub_orchestrator("failing", None)
    except Exception as exc:
        return {"outputs": outputs, "named": named, "child_error": str(exc)}
    return {"outputs": outputs, "named": named}


@app.orchestration_trigger(context_name="context")
def failing(context: df.DurableOrchestrationContext):
    yield context.call_activity("fail_always", "x")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def catching(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("fail_always", "caught")
    except Exception as exc:
        return {"caught": str(exc)}
    return None


@app.orchestration_trigger(context_name="context")
def raising(context: df.DurableOrchestrationContext):
    yield context.call_activity("hello", "before")
    raise ValueError("orchestrator gave up")


@app.orchestration_trigger(context_name="context")
def waiting(context: df.DurableOrchestrationContext):
    """Waits for events named 'Go' until one says stop; records what arrived."""
    seen = []
    while True:
        value = yield context.wait_for_external_event("Go")
        seen.append(value)
        context.set_custom_status({"seen": seen})
        if value in ('"stop"', "stop"):
            return seen


@app.orchestration_trigger(context_name="context")
def slow_then_timer(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    slept = yield context.call_activity("slow", spec["sleep_s"])
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=spec["timer_s"]))
    return {"slept": slept, "timer": True}


@app.orchestration_trigger(context_name="context")
def race_keeps_running(context: df.DurableOrchestrationContext):
    """The timer wins; the slow activity still runs, so the instance stays Running until it ends (§A7.5)."""
    spec = context.get_input()
    work = context.call_activity("slow", spec["sleep_s"])
    timer = context.create_timer(context.current_utc_datetime + timedelta(milliseconds=spec["timer_ms"]))
    winner = yield context.task_any([work, timer])
    return "timer" if winner == timer else "work"


@app.orchestration_trigger(context_name="context")
def big_status(context: df.DurableOrchestrationContext):
    context.set_custom_status("x" * 9000)
    yield context.call_activity("hello", "status")
    return "never"


@app.orchestration_trigger(context_name="context")
def nondeterministic(context: df.DurableOrchestrationContext):
    _REPLAYS["count"] += 1
    name = "hello" if _REPLAYS["count"] == 1 else "async_double"
    yield context.call_activity(name, 1)
    yield context.call_activity("hello", "second")
    return "never"


@app.orchestration_trigger(context_name="context")
def timeout_activity(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("slow", 3)
    except Exception as exc:
        return {"error": str(exc)}
    return None


@app.orchestration_trigger(context_name="context")
def plain_function(context: df.DurableOrchestrationContext):
    return {"input": context.get_input(), "instance": context.instance_id}


@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    return f"Hello {name}"


@app.activity_trigger(input_name="value")
async def async_double(value: int) -> int:
    await asyncio.sleep(0)
    return value * 2


@app.activity_trigger(input_name="payload")
def fail_always(payload: str) -> str:
    raise ValueError(f"cannot handle {payload}")


@app.activity_trigger(input_name="spec")
def flaky(spec: dict) -> str:
    key = spec["key"]
    _ATTEMPTS[key] = _ATTEMPTS.get(key, 0) + 1
    if _ATTEMPTS[key] <= spec["failures"]:
        raise ConnectionError(f"attempt {_ATTEMPTS[key]} failed")
    return f"ok after {_ATTEMPTS[key]}"


@app.activity_trigger(input_name="seconds")
def slow(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@app.orchestration_trigger(context_name="context")
def rewindable(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("hello", "one")
    second = yield context.call_activity("flaky", context.get_input())
    return [first, second]


@app.orchestration_trigger(context_name="context")
def gated(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("wait_for_gate", context.get_input()))


@app.activity_trigger(input_name="path")
def wait_for_gate(path: str) -> str:
    """Blocks its thread until the test creates ``path``: a slow activity the test controls."""
    from pathlib import Path

    deadline = time.monotonic() + 30
    while not Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return "opened"


@app.orchestration_trigger(context_name="context")
def retry_race(context: df.DurableOrchestrationContext):
    """A retried activity raced against a timer that is cancelled afterwards: replay hazard (reference §A7.1)."""
    options = df.RetryOptions(first_retry_interval_in_milliseconds=20, max_number_of_attempts=3)
    work = context.call_activity_with_retry("flaky", options, context.get_input())
    timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=60))
    winner = yield context.task_any([work, timer])
    timer.cancel()
    after = yield context.call_activity("hello", "after")
    return [winner == work, after]


@app.orchestration_trigger(context_name="context")
def manual_retry_race(context: df.DurableOrchestrationContext):
    """The safe shape: each attempt is a plain activity raced against a fresh timer; back-off is a plain timer."""
    spec = context.get_input()
    for attempt in range(1, 4):
        work = context.call_activity("flaky", spec)
        timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=60))
        winner = yield context.task_any([work, timer])
        timer.cancel()
        if winner == work and not isinstance(work.result, Exception):
            after = yield context.call_activity("hello", "after")
            return [attempt, work.result, after]
        yield context.create_timer(context.current_utc_datetime + timedelta(milliseconds=20))
    return None
