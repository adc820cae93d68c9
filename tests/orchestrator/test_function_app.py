"""function_app indexes as the Python worker indexes it, and the host configuration files are well formed."""

import json
import subprocess
import sys
from pathlib import Path

from orchestrator.names import (
    ASK_BOT,
    HISTORY_PURGE,
    LONG_OPERATION,
    NOTIFY_BOT,
    NOTIFY_PROGRESS,
    RUN_OPERATION_STEP,
    START_OPERATION,
)
from orchestrator.settings import DEFAULT_HISTORY_PURGE_SCHEDULE, parse_settings, tracing_settings

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter without any app setting: get_functions() may be called only once per app,
# and indexing must not need the secrets.
INDEX_SCRIPT = """
import json, os
for name in ("DirectLineSecret", "OperationSigningKey", "HistoryPurgeSchedule"):
    os.environ.pop(name, None)
import function_app
functions = {}
for function in function_app.app.get_functions():
    bindings = [json.loads(raw) for raw in function.get_raw_bindings()]
    functions[function.get_function_name()] = {
        "trigger": function.get_trigger().get_binding_name(),
        "bindings": bindings,
    }
print(json.dumps(functions))
"""


def test_function_app_indexes_the_seven_functions_under_their_durable_names() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", INDEX_SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    functions = json.loads(completed.stdout.strip().splitlines()[-1])
    # The orchestrator calls and the starter starts these by the names in orchestrator.names.
    assert {name: f["trigger"] for name, f in functions.items()} == {
        START_OPERATION: "httpTrigger",
        LONG_OPERATION: "orchestrationTrigger",
        RUN_OPERATION_STEP: "activityTrigger",
        NOTIFY_BOT: "activityTrigger",
        ASK_BOT: "activityTrigger",
        NOTIFY_PROGRESS: "activityTrigger",
        HISTORY_PURGE: "timerTrigger",
    }
    http = next(b for b in functions[START_OPERATION]["bindings"] if b["type"] == "httpTrigger")
    assert (http["route"], http["methods"], http["authLevel"]) == ("operations", ["POST"], "FUNCTION")
    assert {"type": "durableClient", "direction": "IN", "name": "client"} in functions[START_OPERATION]["bindings"]
    orchestration = functions[LONG_OPERATION]["bindings"][0]
    # The worker only loads an orchestrator whose parameter is literally named "context".
    assert orchestration["name"] == "context"
    timer = next(b for b in functions[HISTORY_PURGE]["bindings"] if b["type"] == "timerTrigger")
    # Daily by default; never on start-up (every restart and scale-out would purge).
    assert timer["schedule"] == DEFAULT_HISTORY_PURGE_SCHEDULE == "0 0 3 * * *"
    assert not timer.get("runOnStartup")
    assert {"type": "durableClient", "direction": "IN", "name": "client"} in functions[HISTORY_PURGE]["bindings"]


def test_host_json_configures_bundle_routes_and_task_hub() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensionBundle"] == {"id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)"}
    assert host["extensions"]["http"]["routePrefix"] == "api"
    durable = host["extensions"]["durableTask"]
    assert durable["hubName"] == "LongOperationHub"
    assert durable["storageProvider"]["maxQueuePollingInterval"] == "00:00:01"
    # The steps and notify_bot run in the starter's trace only with distributed tracing V2 (README, Tracing).
    assert (durable["tracing"]["distributedTracingEnabled"], durable["tracing"]["version"]) == (True, "V2")
    assert host["functionTimeout"] == "00:10:00"


def test_local_settings_example_lists_every_setting_with_parseable_values() -> None:
    example = json.loads((ROOT / "local.settings.json.example").read_text())
    values = example["Values"]
    assert example["IsEncrypted"] is False
    assert example["Host"]["LocalHttpPort"] == 7071
    assert values["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    documented = {
        "DirectLineSecret", "DirectLineEndpoint", "OperationSigningKey", "OperationSeconds", "OperationSteps",
        "OperationTimeoutSeconds", "StepRetryAttempts", "StepFirstRetrySeconds", "NotifyRetryAttempts",
        "NotifyFirstRetrySeconds", "OperationFaults", "HistoryRetentionDays", "HistoryPurgeSchedule",
        "OTEL_TRACES_EXPORTER", "APPLICATIONINSIGHTS_CONNECTION_STRING", "OTEL_SERVICE_NAME",
    }
    assert documented <= set(values)
    settings = parse_settings(values)
    assert (settings.operation_seconds, settings.operation_steps) == (15.0, 5)
    assert settings.history_retention_days == 30
    assert values["HistoryPurgeSchedule"] == DEFAULT_HISTORY_PURGE_SCHEDULE
    assert not tracing_settings(values).enabled


def test_funcignore_keeps_local_only_parts_out_of_the_deployment() -> None:
    ignored = set((ROOT / ".funcignore").read_text().split())
    assert {"local.settings.json", ".venv", "tests", "devhost", "bot", "bench"} <= ignored
    assert "contract" not in ignored and "orchestrator" not in ignored
