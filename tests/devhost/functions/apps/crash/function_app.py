"""A slow activity and a timer, to kill the host in the middle of each (crash-recovery tests)."""

import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

import azure.durable_functions as df

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def slow_chain(context: df.DurableOrchestrationContext):
    key = context.get_input()
    first = yield context.call_activity("marked_slow", key)
    second = yield context.call_activity("hello", first)
    return second


@app.orchestration_trigger(context_name="context")
def timer_then_activity(context: df.DurableOrchestrationContext):
    seconds = context.get_input()
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    return (yield context.call_activity("hello", "after timer"))


@app.activity_trigger(input_name="key")
def marked_slow(key: str) -> str:
    # One marker file per run: the test sees the activity start, and counts runs after a crash.
    Path(os.environ["CRASH_MARKER_DIR"], f"{key}.{uuid.uuid4().hex}").touch()
    time.sleep(float(os.environ.get("CRASH_SLEEP_S", "1.5")))
    return key


@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    return f"Hello {name}"
