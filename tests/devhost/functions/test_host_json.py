"""The devhost reads the project's host.json (and its scheduler variant) with the production keys, and ignores keys it
has no use for, as the Functions host does."""

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from devhost.functions import HostJson

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", ["host.json", "host.dts.json"])
def test_the_projects_host_json_and_its_scheduler_variant_load(tmp_path: Path, name: str) -> None:
    shutil.copy(ROOT / name, tmp_path / "host.json")
    assert HostJson.load(tmp_path) == HostJson("api", "LongOperationHub", timedelta(minutes=10),
                                               distributed_tracing=True)


def test_keys_the_devhost_has_no_use_for_are_ignored(tmp_path: Path) -> None:
    # The host binds host.json into options classes, where a key without a property is left unread; a newer
    # extension's option must not stop an older host (or this one) from starting.
    host = {
        "version": "2.0",
        "aggregator": {"batchSize": 1000},
        "logging": {"logLevel": {"default": "Warning"}, "applicationInsights": {"samplingSettings": {}}},
        "extensions": {
            "http": {"routePrefix": "ops", "maxConcurrentRequests": 100},
            "durableTask": {
                "hubName": "SomeHub",
                "storageProvider": {"type": "azureManaged", "someFutureOption": [1, 2]},
                "tracing": {"distributedTracingEnabled": True, "version": "V2"},
                "someFutureSection": {"enabled": True},
            },
            "queues": {"batchSize": 16},
        },
    }
    (tmp_path / "host.json").write_text(json.dumps(host), encoding="utf-8")
    assert HostJson.load(tmp_path) == HostJson("ops", "SomeHub", None, distributed_tracing=True)
