"""The function app's spans: each invocation's span starts from the trace context the host hands it.

``context.trace_context`` is the invocation's span as the host made it (azure-functions-python-worker,
azure_functions_worker/dispatcher.py ``_get_context``); a span started under it lands in the operation's trace:
the starter's under the bot's start call, the steps' and notify_bot's under the orchestration, because the Durable
extension runs activities under the span of the start request (distributed tracing V2, host.json; see
devhost/durable/trace_context.py for the chain). The starter's span is current while it calls ``start_new``, which
sends it as ``traceparent`` (azure-functions-durable, DurableOrchestrationClient._get_current_activity_context).
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import azure.functions as func
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from contract import StartRequest
from contract.tracing import CONVERSATION_ID, INSTANCE_ID, OPTION, install_tracing, provider_installed
from orchestrator.payloads import AskRequest, NotifyRequest, ProgressRequest, StepRequest
from orchestrator.settings import tracing_settings

SERVICE_NAME = "long-operation-functions"
_tracer = trace.get_tracer("orchestrator")
_propagator = TraceContextTextMapPropagator()


def configure_tracing(env: Mapping[str, str] = os.environ) -> bool:
    """Install the exporter the settings name, once, when the app is indexed (function_app.py)."""
    return install_tracing(tracing_settings(env), SERVICE_NAME)


@contextmanager
def invocation_span(name: str, context: func.Context, attributes: Mapping[str, AttributeValue]) -> Iterator[Span]:
    """A span for this invocation under the host's, current while the body runs."""
    if not provider_installed():
        yield INVALID_SPAN
        return
    carrier = {"traceparent": context.trace_context.trace_parent, "tracestate": context.trace_context.trace_state}
    parent = _propagator.extract({key: value for key, value in carrier.items() if value})
    with _tracer.start_as_current_span(name, context=parent, kind=SpanKind.SERVER, attributes=attributes) as span:
        yield span


def tag_instance(instance_id: str, request: StartRequest) -> None:
    """Name the instance and its conversation on the current span (the starter learns the id inside its span)."""
    trace.get_current_span().set_attributes({INSTANCE_ID: instance_id, CONVERSATION_ID: request.conversation_id,
                                             OPTION: request.option})


def step_attributes(request: StepRequest) -> dict[str, AttributeValue]:
    return {INSTANCE_ID: request.instance_id, OPTION: request.option, "long_operation.step": request.step,
            "long_operation.steps": request.steps, "long_operation.attempt": request.attempt}


def notify_attributes(request: NotifyRequest) -> dict[str, AttributeValue]:
    return {INSTANCE_ID: request.instance_id, CONVERSATION_ID: request.outcome.conversation_id,
            "long_operation.status": request.outcome.status.value}


def ask_attributes(request: AskRequest) -> dict[str, AttributeValue]:
    question = request.question
    return {INSTANCE_ID: request.instance_id, CONVERSATION_ID: question.conversation_id,
            "long_operation.step": question.step}


def progress_attributes(request: ProgressRequest) -> dict[str, AttributeValue]:
    report = request.report
    return {INSTANCE_ID: report.instance_id, CONVERSATION_ID: report.conversation_id, OPTION: report.option,
            "long_operation.step": report.step, "long_operation.steps": report.steps}
