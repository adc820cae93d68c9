"""Timer triggers for the devhost tests: each invocation appends what the function received to the file named by
the TIMER_LOG setting, one JSON line each."""

import json
import os
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def record(function: str, timer: func.TimerRequest, **extra: object) -> None:
    entry = {"function": function, "at": datetime.now(UTC).isoformat(), "past_due": timer.past_due,
             "schedule_status": timer.schedule_status, "schedule": timer.schedule, **extra}
    with open(os.environ["TIMER_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


@app.timer_trigger(schedule="* * * * * *", arg_name="timer")
def every_second(timer: func.TimerRequest) -> None:
    record("every_second", timer)


@app.timer_trigger(schedule="0 0 0 1 Jan *", arg_name="timer", run_on_startup=True)
def on_startup(timer: func.TimerRequest) -> None:
    record("on_startup", timer)


@app.timer_trigger(schedule="0 * * * * *", arg_name="timer")
def every_minute(timer: func.TimerRequest) -> None:
    record("every_minute", timer)


# What the retention purge does: a timer with a Durable client binding.
@app.timer_trigger(schedule="%YearlySchedule%", arg_name="timer", run_on_startup=True, use_monitor=False)
@app.durable_client_input(client_name="client")
async def start_from_timer(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    instance_id = await client.start_new("hello", "timer-started", "from a timer")
    record("start_from_timer", timer, instance_id=instance_id)


@app.orchestration_trigger(context_name="context")
def hello(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    return f"hello {context.get_input()}"
    yield  # a generator, as orchestrators are


@app.timer_trigger(schedule="*/1 * * * * *", arg_name="timer")
def failing_every_second(timer: func.TimerRequest) -> None:
    record("failing_every_second", timer)
    raise RuntimeError("this timer function always fails")
