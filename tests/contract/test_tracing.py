"""Tracing's settings (off by default; console, otlp; Azure Monitor chosen by the connection string) and what
installing each one does, each in a fresh interpreter: a process has one global tracer provider."""

import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from contract import ContractError
from contract.tracing import TracingSettings, parse_tracing_settings

ROOT = Path(__file__).resolve().parents[2]
CONNECTION = "InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=https://example.invalid/"
# Starts one span with the instance id and flushes; prints whether a provider was installed and the traceparent
# the span would send.
SPAN_SCRIPT = """
import os
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from contract.tracing import parse_tracing_settings, install_tracing
installed = install_tracing(parse_tracing_settings(os.environ), "test-service")
headers = {}
with trace.get_tracer("test").start_as_current_span("one traced span", attributes={"durable.instance_id": "op-7"}):
    TraceContextTextMapPropagator().inject(headers)
provider = trace.get_tracer_provider()
if hasattr(provider, "force_flush"):
    provider.force_flush(10000)
print("RESULT", installed, type(provider).__name__, headers.get("traceparent", "-"), flush=True)
"""


def test_tracing_is_off_by_default() -> None:
    settings = parse_tracing_settings({})
    assert settings == TracingSettings()
    assert not settings.enabled


@pytest.mark.parametrize(("value", "exporter"), [("console", "console"), ("otlp", "otlp"), (" OTLP ", "otlp")])
def test_otel_traces_exporter_names_the_exporter(value: str, exporter: str) -> None:
    settings = parse_tracing_settings({"OTEL_TRACES_EXPORTER": value, "OTEL_SERVICE_NAME": "my-bot"})
    assert (settings.exporter, settings.service_name, settings.enabled, settings.azure_monitor) == (
        exporter, "my-bot", True, False)


def test_a_connection_string_selects_azure_monitor_and_stays_out_of_the_repr() -> None:
    settings = parse_tracing_settings({"APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION})
    assert (settings.azure_monitor, settings.enabled, settings.exporter) == (True, True, "none")
    assert "InstrumentationKey" not in repr(settings)


def test_exporter_none_turns_tracing_off_even_with_a_connection_string() -> None:
    settings = parse_tracing_settings({"APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION,
                                       "OTEL_TRACES_EXPORTER": "none"})
    assert not settings.enabled


def test_an_unknown_exporter_is_refused_naming_the_setting() -> None:
    with pytest.raises(ContractError) as refused:
        parse_tracing_settings({"OTEL_TRACES_EXPORTER": "zipkin"})
    assert str(refused.value) == "OTEL_TRACES_EXPORTER: expected one of none, console, otlp, got 'zipkin'"


def test_a_connection_string_without_an_instrumentation_key_is_refused_without_quoting_it() -> None:
    with pytest.raises(ContractError) as refused:
        parse_tracing_settings({"APPLICATIONINSIGHTS_CONNECTION_STRING": "IngestionEndpoint=https://secret.example/"})
    assert str(refused.value) == ("APPLICATIONINSIGHTS_CONNECTION_STRING: is not an Application Insights connection "
                                  "string (expected InstrumentationKey=...;IngestionEndpoint=...)")


def _run_span_script(env: dict[str, str]) -> tuple[list[str], str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "APPLICATIONINSIGHTS_"))}
    done = subprocess.run([sys.executable, "-c", SPAN_SCRIPT], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return result.split()[1:], done.stdout + done.stderr


def test_off_installs_no_provider_and_sends_no_traceparent() -> None:
    result, _ = _run_span_script({})
    assert result == ["False", "ProxyTracerProvider", "-"]


def test_console_prints_each_span_with_the_service_name() -> None:
    result, out = _run_span_script({"OTEL_TRACES_EXPORTER": "console"})
    assert result[:2] == ["True", "TracerProvider"]
    span = json.loads(out[out.index("{"):out.rindex("}") + 1])
    assert span["name"] == "one traced span"
    assert span["attributes"] == {"durable.instance_id": "op-7"}
    assert span["resource"]["attributes"]["service.name"] == "test-service"
    # The traceparent the span would send names it (flags 01 or 03: sampled, with or without a random trace id).
    assert result[2].split("-")[1:3] == [span["context"]["trace_id"][2:], span["context"]["span_id"][2:]]


class _Collector:
    """A loopback endpoint that keeps every POST's path and (decompressed) body."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                collector.posts.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"itemsReceived": 1, "itemsAccepted": 1, "errors": []}')

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[_Collector]:
    running = _Collector()
    yield running
    running.close()


def test_otlp_posts_the_span_to_the_configured_endpoint(collector: _Collector) -> None:
    result, _ = _run_span_script({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url})
    assert result[:2] == ["True", "TracerProvider"]
    traces = [body for path, body in collector.posts if path == "/v1/traces"]
    assert len(traces) == 1
    assert b"one traced span" in traces[0] and b"op-7" in traces[0] and b"test-service" in traces[0]


def test_azure_monitor_sends_the_span_to_the_connection_strings_ingestion_endpoint(collector: _Collector) -> None:
    connection = (f"InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint={collector.url}/;"
                  f"LiveEndpoint={collector.url}/")
    # Statsbeat would report to Microsoft's own endpoint: tests talk to loopback only. The distro's default sampler
    # lets 5 traces a second through, which may drop a fresh process's first one: this test wants every span.
    result, out = _run_span_script({"APPLICATIONINSIGHTS_CONNECTION_STRING": connection,
                                    "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
                                    "OTEL_TRACES_SAMPLER": "microsoft.fixed_percentage",
                                    "OTEL_TRACES_SAMPLER_ARG": "1.0"})
    assert result[0] == "True"
    envelopes = [envelope for path, body in collector.posts if path == "/v2.1/track"
                 for envelope in json.loads(body)]
    spans = [e for e in envelopes if e["data"]["baseData"].get("name") == "one traced span"]
    assert len(spans) == 1, out[-3000:]
    assert spans[0]["data"]["baseData"]["properties"]["durable.instance_id"] == "op-7"
    assert spans[0]["tags"]["ai.cloud.role"] == "test-service"
    assert spans[0]["tags"]["ai.operation.id"] == result[2].split("-")[1]
