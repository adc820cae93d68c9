"""The durable benchmark's app: a chain of three instant activities, each reporting when it started."""

import time

import azure.durable_functions as df

app = df.DFApp()


@app.orchestration_trigger(context_name="context")  # type: ignore[untyped-decorator]
def chain3(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    started = []
    for step in range(3):
        started.append((yield context.call_activity("instant", step)))
    return started


@app.activity_trigger(input_name="step")  # type: ignore[untyped-decorator]
def instant(step: int) -> float:
    return time.time()
