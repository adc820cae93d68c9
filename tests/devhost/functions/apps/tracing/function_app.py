"""Reports the trace contexts the host hands its functions: an HTTP starter, two activities, a continue-as-new.

The starter makes its invocation's context current, as the Python worker does with PYTHON_ENABLE_OPENTELEMETRY
(azure_functions_worker/dispatcher.py, configure_opentelemetry), so the SDK's start_new sends it as traceparent.
"""

import json

import azure.durable_functions as df
import azure.functions as func
from opentelemetry import context as otel_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="start", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient,
                context: func.Context) -> func.HttpResponse:
    carrier = {"traceparent": context.trace_context.trace_parent, "tracestate": context.trace_context.trace_state}
    token = otel_context.attach(TraceContextTextMapPropagator().extract(carrier))
    try:
        instance_id = await client.start_new(req.params.get("orchestrator", "traced_chain"), None, [])
    finally:
        otel_context.detach(token)
    body = {"id": instance_id, "traceparent": context.trace_context.trace_parent,
            "tracestate": context.trace_context.trace_state}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.orchestration_trigger(context_name="context")
def traced_chain(context: df.DurableOrchestrationContext):
    # Two activities per generation, two generations: the reports so far travel in the continue-as-new input.
    reports = context.get_input()
    reports.append((yield context.call_activity("report_trace", len(reports))))
    reports.append((yield context.call_activity("report_trace", len(reports))))
    if len(reports) < 4:
        context.continue_as_new(reports)
        return None
    return reports


@app.orchestration_trigger(context_name="context")
def traced_parent(context: df.DurableOrchestrationContext):
    # One activity of its own, then one in a sub-orchestration.
    mine = yield context.call_activity("report_trace", 0)
    child = yield context.call_sub_orchestrator("traced_child", None)
    return [mine, child]


@app.orchestration_trigger(context_name="context")
def traced_child(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("report_trace", 1))


@app.activity_trigger(input_name="number")
def report_trace(number: int, context: func.Context) -> dict:
    return {"traceparent": context.trace_context.trace_parent, "tracestate": context.trace_context.trace_state}
