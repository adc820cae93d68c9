"""W3C trace context as the Functions host and the Durable extension pass it on to the functions they invoke.

On Azure (Durable distributed tracing V2, ``durableTask.tracing.distributedTracingEnabled``):
- the host makes an HTTP trigger's invocation a span under the request's ``traceparent`` (a new trace without
  one) and hands it to the Python worker as the invocation's ``TraceContext`` (azure-functions-python-worker,
  azure_functions_worker/dispatcher.py ``_get_context``: ``invoc_request.trace_context.trace_parent``);
- the Python client sends the caller's current OpenTelemetry context as ``traceparent`` on its start request
  (azure-functions-durable 1.7, DurableOrchestrationClient.start_new, ``_get_current_activity_context``);
- DurableTask.Core opens a ``create_orchestration`` span under it and keeps it in ExecutionStartedEvent's
  ``ParentTraceContext`` (Azure/durabletask, src/DurableTask.Core/Tracing/TraceHelper.cs,
  ``StartActivityForNewOrchestration``), runs the orchestration as a span under that, whose id it stores in the same
  ``ParentTraceContext`` (``Id``, ``SpanId``) so every episode and every continue-as-new generation reuses it
  (``StartTraceActivityForOrchestrationExecution``), and runs each activity as a span under the orchestration's
  (``StartTraceActivityForTaskExecution``), which is the activity invocation's trace context.

The devhost keeps the same parent-child chain without exporting spans of its own: one operation's spans in the
function app share the starter's trace id, and each invocation gets a fresh span id.
"""

import re
import secrets
from dataclasses import dataclass
from typing import Any

# version-traceid-parentid-flags (W3C Trace Context, "traceparent Header Field Values"); a later version may append
# fields after another "-", version 00 may not, and version ff is invalid.
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_SAMPLED = "01"


@dataclass(frozen=True)
class TraceContext:
    """One span's identity as a ``traceparent`` carries it, with the ``tracestate`` that travels beside it."""

    trace_id: str
    span_id: str
    flags: str = _SAMPLED
    state: str = ""

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def child(self) -> "TraceContext":
        """A new span under this one: same trace, same sampling decision and state."""
        return TraceContext(self.trace_id, _random_hex(8), self.flags, self.state)

    @classmethod
    def root(cls) -> "TraceContext":
        """A new trace, sampled (what the host records when a request arrives without a usable traceparent)."""
        return cls(_random_hex(16), _random_hex(8))

    @classmethod
    def parse(cls, traceparent: str | None, tracestate: str | None = None) -> "TraceContext | None":
        """The context a ``traceparent`` header names, or None when it is missing or not valid W3C."""
        match = _TRACEPARENT.match((traceparent or "").strip())
        if match is None:
            return None
        version, trace_id, span_id, flags, rest = match.groups()
        if version == "ff" or (version == "00" and rest) or set(trace_id) == {"0"} or set(span_id) == {"0"}:
            return None
        return cls(trace_id, span_id, flags, (tracestate or "").strip())

    def to_json(self) -> dict[str, Any]:
        return {"TraceParent": self.traceparent, "TraceState": self.state or None}

    @classmethod
    def from_json(cls, data: Any) -> "TraceContext | None":
        if not isinstance(data, dict):
            return None
        return cls.parse(data.get("TraceParent"), data.get("TraceState"))


def invocation_context(traceparent: str | None, tracestate: str | None) -> TraceContext:
    """An HTTP-triggered invocation's context: a span under the caller's, or the first span of a new trace."""
    caller = TraceContext.parse(traceparent, tracestate)
    return caller.child() if caller is not None else TraceContext.root()


def _random_hex(size: int) -> str:
    while True:
        value = secrets.token_hex(size)
        if set(value) != {"0"}:  # all zeros is the invalid id
            return value


def orchestration_trace(caller: TraceContext | None) -> dict[str, Any]:
    """A new instance's ``ParentTraceContext``: the ``create_orchestration`` span under the caller's (a new trace
    without one), and in ``Id``/``SpanId`` the orchestration's own span under it, kept for the instance's life."""
    created = caller.child() if caller is not None else TraceContext.root()
    orchestration = created.child()
    return {**created.to_json(), "Id": orchestration.traceparent, "SpanId": orchestration.span_id}


def orchestration_span(parent_trace_context: dict[str, Any] | None) -> TraceContext | None:
    """The orchestration's own span, from the instance's ``ParentTraceContext`` (None: the instance has none)."""
    if not isinstance(parent_trace_context, dict):
        return None
    return TraceContext.parse(parent_trace_context.get("Id"), parent_trace_context.get("TraceState"))


def activity_context(parent_trace_context: dict[str, Any] | None) -> TraceContext:
    """One activity execution's span: under the orchestration's span, or a new trace for an instance without one."""
    orchestration = orchestration_span(parent_trace_context)
    return orchestration.child() if orchestration is not None else TraceContext.root()


def sub_orchestration_trace(parent_trace_context: dict[str, Any] | None) -> dict[str, Any] | None:
    """A sub-orchestration's ``ParentTraceContext``: started under its parent orchestration's span
    (TraceHelper.CreateTraceActivityForSchedulingSubOrchestration parents it on the running orchestration); none when
    the parent has none."""
    parent = orchestration_span(parent_trace_context)
    return None if parent is None else orchestration_trace(parent)
