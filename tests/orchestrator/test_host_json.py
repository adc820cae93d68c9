"""host.json ships the production settings a user needs in the Portal, and host.dts.json is the same host on the
Durable Task Scheduler."""

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / name).read_text(encoding="utf-8"))
    return data


def test_logging_keeps_the_durable_tracking_events_and_sampling_cannot_drop_them() -> None:
    logging = load("host.json")["logging"]
    # The extension's tracking events (started, completed, failed per instance) are written under this category at
    # Information (azure-functions-durable-extension, DurableTaskExtension.LoggerCategoryName, EndToEndTraceHelper).
    assert logging["logLevel"]["Host.Triggers.DurableTask"] == "Information"
    assert logging["logLevel"]["DurableTask.AzureStorage"] == "Warning"
    assert logging["logLevel"]["DurableTask.Core"] == "Warning"
    sampling = logging["applicationInsights"]["samplingSettings"]
    # They are Trace telemetry: excluded from sampling, every one of an operation's events reaches Application Insights.
    assert sampling["isEnabled"] is True
    assert set(sampling["excludedTypes"].split(";")) == {"Request", "Exception", "Trace"}


def test_durable_tracing_keeps_inputs_and_outputs_out_and_distributed_tracing_on() -> None:
    tracing = load("host.json")["extensions"]["durableTask"]["tracing"]
    # Inputs and outputs carry the conversation reference (the continuation activity): logged only as their length
    # (EndToEndTraceHelper.SanitizeString, "(Redacted N characters)"). Version V2 is the OpenTelemetry-style tracing
    # (TraceOptions.Version, DurableDistributedTracingVersion.V2; TelemetryActivator.Initialize).
    assert tracing == {
        "traceInputsAndOutputs": False,
        "traceReplayEvents": False,
        "distributedTracingEnabled": True,
        "version": "V2",
    }


def test_the_scheduler_variant_differs_only_in_its_storage_provider() -> None:
    azure_storage, scheduler = load("host.json"), load("host.dts.json")
    provider = scheduler["extensions"]["durableTask"].pop("storageProvider")
    assert provider == {"type": "azureManaged", "connectionStringName": "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"}
    # maxQueuePollingInterval is an Azure Storage queue setting; the scheduler pushes work items instead.
    del azure_storage["extensions"]["durableTask"]["storageProvider"]
    assert scheduler == azure_storage


def test_the_scheduler_connection_setting_is_in_the_example_settings_pointing_at_the_emulator() -> None:
    example = load("local.settings.json.example")["Values"]
    # Read only with host.dts.json; the DTS emulator listens on 8080 and takes no credentials.
    assert example["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"] == "Endpoint=http://localhost:8080;Authentication=None"
