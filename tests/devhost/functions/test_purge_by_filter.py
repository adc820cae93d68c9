"""Purge by filter as the Durable extension on the Azure Storage backend does it (Azure/durabletask,
AzureTableTrackingStore.PurgeInstanceHistoryAsync and OrchestrationInstanceStatusQueryCondition.ToOData): only the
terminal statuses of ``runtimeStatus`` are kept, an empty list matches EVERY status (Running instances in the range
are purged too), and the range is ``createdTimeFrom <= CreatedTime <= createdTimeTo``. With no runtimeStatus at all:
test_http_api_extension.py."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import azure.durable_functions as df
import pytest

from tests.devhost.functions.hosting import APPS, HostThread, wait_status

API = "/runtime/webhooks/durabletask"

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # what the SDK sends


@pytest.fixture
def host(tmp_path: Path) -> Iterator[HostThread]:
    running = HostThread(APPS / "patterns", tmp_path / "data")
    yield running
    running.close()


def history(host: HostThread) -> datetime:
    """A Running instance "running", a Completed one "completed" and, after the returned moment, "newer"."""

    async def body(client: df.DurableOrchestrationClient) -> datetime:
        await client.start_new("waiting", "running")
        await client.start_new("plain_function", "completed", 1)
        await wait_status(client, "running", "Running")
        await wait_status(client, "completed", "Completed")
        between = datetime.now(UTC)
        await client.start_new("plain_function", "newer", 2)
        await wait_status(client, "newer", "Completed")
        return between

    return host.scenario(body)


def purge(host: HostThread, query: str) -> tuple[int, Any]:
    """DELETE /instances/?<query> with the system key, as a client of the webhook calls it; status and JSON body."""

    async def go() -> tuple[int, Any]:
        async with aiohttp.ClientSession() as session, session.delete(
            f"{host.base_url}{API}/instances/?{query}", headers=host.durable_headers
        ) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None

    return host.run(go())


def remaining(host: HostThread) -> set[str]:
    async def body(client: df.DurableOrchestrationClient) -> set[str]:
        return {status.instance_id for status in await client.get_status_all()}

    return host.scenario(body)


SINCE = "createdTimeFrom=2000-01-01T00:00:00.000000Z"


def test_naming_only_non_terminal_statuses_purges_every_status_too(host: HostThread) -> None:
    history(host)
    assert purge(host, f"{SINCE}&runtimeStatus=Running") == (200, {"instancesDeleted": 3})
    assert remaining(host) == set()


def test_terminal_statuses_keep_running_instances_and_the_created_range_is_honoured(host: HostThread) -> None:
    between = history(host)
    until = f"createdTimeTo={between.strftime(FORMAT)}"
    statuses = "runtimeStatus=Completed,Failed,Terminated,Canceled"
    assert purge(host, f"{SINCE}&{until}&{statuses}") == (200, {"instancesDeleted": 1})
    assert remaining(host) == {"running", "newer"}
    # Nothing more matches: 404, as HttpApiHandler answers a purge that deleted nothing.
    assert purge(host, f"{SINCE}&{until}&{statuses}")[0] == 404
