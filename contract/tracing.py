"""Tracing: the span attributes both sides write, the settings both sides read, and the one place that installs
an exporter (bot/tracing.py and orchestrator/tracing.py make the spans).

The instance id is the join key across the Direct Line hop: the function app's post carries no trace context to
the bot (Direct Line forwards the activity, not the HTTP headers), so the bot's delivery spans are found by the
attribute, in their own trace. Settings are the standard OpenTelemetry and Application Insights names:

OTEL_TRACES_EXPORTER                    ``none`` (the default), ``console`` (spans as JSON on stdout) or ``otlp``
                                        (OTLP over HTTP to OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, which the
                                        exporter reads itself; default http://localhost:4318/v1/traces).
APPLICATIONINSIGHTS_CONNECTION_STRING   set: spans go to Azure Monitor (azure-monitor-opentelemetry's
                                        configure_azure_monitor), besides any console or otlp exporter named above;
                                        OTEL_TRACES_EXPORTER=none turns tracing off even then, as the distro does.
OTEL_SERVICE_NAME                       the service name spans carry (default: the side's own, see install_tracing).

Off (neither set), nothing is imported from the SDK and no provider is installed: the sides start no spans at all
(``provider_installed``), and no traceparent is sent.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from opentelemetry import trace

from contract.errors import ContractError

INSTANCE_ID: Final = "durable.instance_id"
CONVERSATION_ID: Final = "botframework.conversation_id"
CHANNEL_ID: Final = "botframework.channel_id"
OPTION: Final = "long_operation.option"

TRACES_EXPORTER: Final = "OTEL_TRACES_EXPORTER"
CONNECTION_STRING: Final = "APPLICATIONINSIGHTS_CONNECTION_STRING"
SERVICE_NAME: Final = "OTEL_SERVICE_NAME"
_EXPORTERS: Final = ("none", "console", "otlp")

Exporter = Literal["none", "console", "otlp"]


@dataclass(frozen=True)
class TracingSettings:
    exporter: Exporter = "none"
    # Holds the Application Insights ingestion key: never in a repr or a message.
    connection_string: str = field(default="", repr=False)
    service_name: str = ""
    # OTEL_TRACES_EXPORTER=none given explicitly: off, whatever else is set.
    disabled: bool = False

    @property
    def azure_monitor(self) -> bool:
        return bool(self.connection_string) and not self.disabled

    @property
    def enabled(self) -> bool:
        return self.azure_monitor or self.exporter != "none"


def parse_tracing_settings(env: Mapping[str, str]) -> TracingSettings:
    """The tracing settings in ``env``; ContractError names the setting that is wrong (never its value, for the
    connection string)."""
    raw = env.get(TRACES_EXPORTER, "").strip().lower()
    if raw and raw not in _EXPORTERS:
        raise ContractError(TRACES_EXPORTER, f"expected one of {', '.join(_EXPORTERS)}, got {raw!r}")
    exporter: Exporter = "console" if raw == "console" else "otlp" if raw == "otlp" else "none"
    connection_string = env.get(CONNECTION_STRING, "").strip()
    if connection_string:
        keys = {part.split("=", 1)[0].strip().lower() for part in connection_string.split(";") if "=" in part}
        if "instrumentationkey" not in keys:
            raise ContractError(CONNECTION_STRING, "is not an Application Insights connection string (expected "
                                                   "InstrumentationKey=...;IngestionEndpoint=...)")
    return TracingSettings(exporter, connection_string, env.get(SERVICE_NAME, "").strip(), disabled=raw == "none")


def provider_installed() -> bool:
    """Whether a tracer provider is installed (ours, the Python worker's or a test's). Without one, the sides skip
    their spans altogether: OpenTelemetry's no-op spans still cost several context managers and a context switch
    each, on every turn and every invocation."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def install_tracing(settings: TracingSettings, default_service_name: str) -> bool:
    """Install the global tracer provider the settings ask for; False when tracing is off or a provider is there
    already (the Python worker's own, with PYTHON_ENABLE_OPENTELEMETRY, or a test's): that one is kept."""
    if not settings.enabled:
        return False
    # Imported only when tracing is on: the SDK and the distro cost start-up time nobody asked for (the API above is
    # the Durable client's dependency anyway).
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    if provider_installed():
        return False
    resource = Resource.create({"service.name": settings.service_name or default_service_name})
    processors: list[SpanProcessor] = []
    if settings.exporter == "console":
        processors.append(SimpleSpanProcessor(ConsoleSpanExporter()))
    elif settings.exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processors.append(BatchSpanProcessor(OTLPSpanExporter()))
    if settings.azure_monitor:
        from azure.monitor.opentelemetry import configure_azure_monitor

        configure_azure_monitor(connection_string=settings.connection_string, resource=resource,
                                span_processors=processors)
        return True
    provider = TracerProvider(resource=resource)
    for processor in processors:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    return True
