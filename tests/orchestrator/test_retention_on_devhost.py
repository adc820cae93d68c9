"""The history_purge timer of the project's function_app.py on the devhost's timer triggers: a month after its
instances were created, the daily run the host missed while it was down runs at start (past due, as the timer
extension's schedule monitor does) and purges the finished instances, never the running one."""

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import azure.durable_functions as df
import pytest

from devhost.functions.timers import ScheduleStatus, StatusStore
from orchestrator.names import HISTORY_PURGE
from tests.orchestrator.conftest import SIGNING_KEY
from tests.orchestrator.devhost_thread import ProjectHost
from tests.orchestrator.fake_directline import SECRET

WAIT_SECONDS = 30.0
HUB = "LongOperationHub"  # host.json
CONTINUATION = {"type": "message", "channelId": "directline", "serviceUrl": "http://127.0.0.1:9/",
                "conversation": {"id": "conv-retention"}, "from": {"id": "user-1"}, "recipient": {"id": "bot"}}


async def start(host: ProjectHost, option: str) -> str:
    async with aiohttp.ClientSession() as session, session.post(
        f"{host.base_url}/api/operations", headers=host.starter_headers,
        json={"option": option, "continuation": CONTINUATION},
    ) as response:
        assert response.status == 202, await response.text()
        instance_id: str = (await response.json())["id"]
        return instance_id


async def wait_for(client: df.DurableOrchestrationClient, instance_id: str, wanted: str, step: int = 0) -> None:
    """Until ``instance_id`` has runtime status ``wanted`` (and, if given, its custom status has reached ``step``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        status = await client.get_status(instance_id)
        custom = status.custom_status if isinstance(status.custom_status, dict) else {}
        if status.runtime_status is not None and status.runtime_status.value == wanted and (
            not step or "failed; trying again" in str(custom.get("message"))
        ):
            return
        assert loop.time() < deadline, f"{instance_id} is not {wanted}: {status.to_json()}"
        await asyncio.sleep(0.02)


def last_daily_run(now: datetime) -> datetime:
    """The latest 03:00 UTC at or before ``now``: when the default HistoryPurgeSchedule was last due."""
    today = now.replace(hour=3, minute=0, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


def test_the_daily_purge_missed_while_the_host_was_down_runs_at_start_and_keeps_the_running_instance(
    app_settings: Callable[..., None], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Option 1's first step fails and waits an hour before its retry: Running, with nothing in flight. Option 2's
    # outcome cannot be delivered (nothing listens on port 9): Failed.
    app_settings(
        DirectLineSecret=SECRET, OperationSigningKey=SIGNING_KEY, DirectLineEndpoint="http://127.0.0.1:9/v3/directline",
        OperationSeconds="0.02", OperationSteps="1", OperationTimeoutSeconds="86400", StepRetryAttempts="2",
        StepFirstRetrySeconds="3600", NotifyRetryAttempts="1", OperationFaults="option 1@1",
    )
    data = tmp_path / "data"
    host = ProjectHost(data)
    try:
        async def make_history() -> dict[str, str]:
            client = df.DurableOrchestrationClient(host.host.binding)
            ids = {"running": await start(host, "option 1"), "terminated": await start(host, "option 1"),
                   "failed": await start(host, "option 2")}
            await wait_for(client, ids["running"], "Running", step=1)
            await wait_for(client, ids["terminated"], "Running", step=1)
            await client.terminate(ids["terminated"], "no longer needed")
            await wait_for(client, ids["terminated"], "Terminated")
            await wait_for(client, ids["failed"], "Failed")
            return ids

        ids = host.run(make_history(), timeout=WAIT_SECONDS + 10)
    finally:
        host.close()

    # A month later: the instances were created 31 days ago, and the host was down at the last daily run.
    with sqlite3.connect(data / f"{HUB}.sqlite") as hub:
        hub.execute("UPDATE instances SET created = created - ?", (31 * 86400.0,))
    due = last_daily_run(datetime.now(UTC))
    before = due - timedelta(days=1)
    StatusStore(data / "timers").save(HISTORY_PURGE, ScheduleStatus(last=before, next=due, last_updated=before))

    with caplog.at_level(logging.INFO):
        host = ProjectHost(data)
        try:
            async def remaining() -> set[str]:
                client = df.DurableOrchestrationClient(host.host.binding)
                loop = asyncio.get_running_loop()
                deadline = loop.time() + WAIT_SECONDS
                while len(found := {status.instance_id for status in await client.get_status_all()}) > 1:
                    assert loop.time() < deadline, f"not purged: {found}"
                    await asyncio.sleep(0.02)
                return found

            assert host.run(remaining(), timeout=WAIT_SECONDS + 10) == {ids["running"]}
        finally:
            host.close()
    messages = [record.getMessage() for record in caplog.records]
    assert any(message.startswith(f"Timer is past due for function '{HISTORY_PURGE}'") for message in messages)
    [purged] = [message for message in messages if message.startswith("history purge:")]
    cutoff = purged.split("created before ")[1].split(" purged")[0]
    assert purged == f"history purge: 2 finished instances created before {cutoff} purged (HistoryRetentionDays=30)"
    assert datetime.fromisoformat(cutoff) < datetime.now(UTC) - timedelta(days=30) + timedelta(minutes=1)
    assert any(message.startswith(f"Executed 'Functions.{HISTORY_PURGE}' (Succeeded") for message in messages)
