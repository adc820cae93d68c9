"""The bot's spans: the user's turn, the start call to the function app, and an outcome's proactive delivery.

The start call carries the W3C ``traceparent`` of its span, so the function app's spans join the turn's trace
(orchestrator/tracing.py). The outcome comes back over Direct Line, which forwards the event's activity and no
trace context, so its turn begins a trace of its own; the delivery spans carry the instance id
(contract.tracing.INSTANCE_ID), the key that finds both halves of one operation.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from bot.settings import BotSettings
from contract import Outcome, Question, StartRequest
from contract.tracing import CHANNEL_ID, CONVERSATION_ID, INSTANCE_ID, OPTION, install_tracing, provider_installed

if TYPE_CHECKING:  # the operations client (and so this module) loads without botbuilder: tests/orchestrator
    from botbuilder.schema import Activity

SERVICE_NAME = "long-operation-bot"
_tracer = trace.get_tracer("bot")
_propagator = TraceContextTextMapPropagator()


def configure_tracing(settings: BotSettings) -> bool:
    """Install the exporter the settings name, once, at start-up (bot/__main__.py)."""
    return install_tracing(settings.tracing, SERVICE_NAME)


@contextmanager
def turn_span(activity: "Activity") -> Iterator[Span]:
    """One incoming activity's turn, from the channel's POST to the answer."""
    if not provider_installed():
        yield INVALID_SPAN
        return
    attributes = {CHANNEL_ID: activity.channel_id or "", "botframework.activity_type": activity.type or "",
                  CONVERSATION_ID: activity.conversation.id if activity.conversation else ""}
    with _tracer.start_as_current_span("bot turn", kind=SpanKind.SERVER, attributes=attributes) as span:
        yield span


class StartCall:
    """The start call's span, and the turn's around it: both learn the instance id once the call has answered."""

    def __init__(self, span: Span, turn: Span) -> None:
        self._spans = (span, turn)

    def started(self, instance_id: str) -> None:
        for span in self._spans:
            span.set_attribute(INSTANCE_ID, instance_id)


@contextmanager
def start_call_span(request: StartRequest, headers: dict[str, str]) -> Iterator[StartCall]:
    """The start call; puts its ``traceparent`` (and ``tracestate``) into ``headers``. Off: nothing is added."""
    turn = trace.get_current_span()
    if not provider_installed():
        yield StartCall(INVALID_SPAN, turn)
        return
    attributes = {OPTION: request.option, CONVERSATION_ID: request.conversation_id}
    with _tracer.start_as_current_span("start operation", kind=SpanKind.CLIENT, attributes=attributes) as span:
        _propagator.inject(headers)
        yield StartCall(span, turn)


@contextmanager
def delivery_span(delivered: Outcome | Question) -> Iterator[Span]:
    """Delivering a verified outcome (or a step's question) into the user's conversation (continue_conversation and
    its sends); the event's turn span gets the instance id too."""
    if not provider_installed():
        yield INVALID_SPAN
        return
    trace.get_current_span().set_attribute(INSTANCE_ID, delivered.instance_id)
    attributes: dict[str, str | int] = {INSTANCE_ID: delivered.instance_id,
                                        CONVERSATION_ID: delivered.conversation_id}
    if isinstance(delivered, Outcome):
        attributes["long_operation.status"] = delivered.status.value
        name = "deliver outcome"
    else:
        attributes["long_operation.step"] = delivered.step
        name = "deliver question"
    with _tracer.start_as_current_span(name, kind=SpanKind.INTERNAL, attributes=attributes) as span:
        yield span
