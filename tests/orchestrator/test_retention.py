"""History retention: the plain purge function against the devhost's Durable API (in process) and against a fake
that records the SDK's request, as the extension receives it. The clock is injected: ``now`` is a moment 30 days
after the instances to purge were created, so nothing waits for days to pass."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import azure.durable_functions as df
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from devhost.functions.binding import RPC_PATH, client_binding
from orchestrator.retention import purge_cutoff, purge_finished_history
from orchestrator.settings import Settings
from tests.devhost.functions.hosting import APPS, HostThread, wait_status

THIRTY_DAYS = Settings(history_retention_days=30)


@pytest.fixture
def host(tmp_path: Path) -> Iterator[HostThread]:
    running = HostThread(APPS / "patterns", tmp_path / "data")
    yield running
    running.close()


async def remaining_ids(client: df.DurableOrchestrationClient) -> set[str]:
    return {status.instance_id for status in await client.get_status_all()}


def test_finished_instances_older_than_the_retention_are_purged_and_running_and_newer_ones_kept(
    host: HostThread,
) -> None:
    async def scenario(client: df.DurableOrchestrationClient) -> tuple[int, set[str], set[str]]:
        completed = await client.start_new("chain", "old-completed", "x")
        failed = await client.start_new("failing", "old-failed")
        terminated = await client.start_new("waiting", "old-terminated")
        running = await client.start_new("waiting", "old-running")
        await wait_status(client, completed, "Completed")
        await wait_status(client, failed, "Failed")
        await wait_status(client, running, "Running")
        await wait_status(client, terminated, "Running")
        await client.terminate(terminated, "done with it")
        await wait_status(client, terminated, "Terminated")
        # Everything above was created before this moment, the next instance after it (an HTTP call later).
        boundary = datetime.now(UTC)
        newer = await client.start_new("chain", "new-completed", "y")
        await wait_status(client, newer, "Completed")

        purged = await purge_finished_history(client, THIRTY_DAYS, boundary + timedelta(days=30))
        return purged, await remaining_ids(client), {running, newer}

    purged, remaining, expected = host.scenario(scenario)
    assert purged == 3
    # The Running one is older than the retention too: a purge without runtimeStatus would delete it mid-operation.
    assert remaining == expected


def test_nothing_to_purge_counts_zero(host: HostThread) -> None:
    async def scenario(client: df.DurableOrchestrationClient) -> tuple[int, set[str]]:
        instance = await client.start_new("chain", "recent", "x")
        await wait_status(client, instance, "Completed")
        # Created just now: 30 days' retention keeps it (the host answers 404, which the SDK reads as 0).
        return await purge_finished_history(client, THIRTY_DAYS, datetime.now(UTC)), await remaining_ids(client)

    assert host.scenario(scenario) == (0, {"recent"})


class RecordingDurableRpc:
    """The extension's RPC listener as far as a purge by filter goes: records each request, answers ``answer``."""

    def __init__(self, answer: web.Response) -> None:
        self.answer = answer
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def app(self) -> web.Application:
        async def record(request: web.Request) -> web.StreamResponse:
            self.requests.append((request.method, request.path, dict(request.query)))
            return self.answer

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", record)
        return app


def purge_through(host: HostThread, rpc: RecordingDurableRpc, settings: Settings, now: datetime) -> Any:
    """Run the purge with an SDK client whose rpcBaseUrl is the recording fake (on the host's loop, where the SDK's
    shared session lives and is closed with the host)."""

    async def go() -> Any:
        server = TestServer(rpc.app(), host="127.0.0.1")
        await server.start_server()
        try:
            binding = client_binding(str(server.make_url("")).rstrip("/"), "LongOperationHub",
                                     str(server.make_url(RPC_PATH + "/")), None)
            return await purge_finished_history(df.DurableOrchestrationClient(binding), settings, now)
        finally:
            await server.close()

    return host.run(go())


def test_the_purge_names_both_ends_of_the_time_range_and_only_the_terminal_statuses(host: HostThread) -> None:
    rpc = RecordingDurableRpc(web.json_response({"instancesDeleted": 7}))
    now = datetime(2026, 12, 1, 3, 0, 0, 123456, tzinfo=UTC)
    assert purge_through(host, rpc, Settings(history_retention_days=30), now) == 7
    # HttpApiHandler.HandleDeleteHistoryWithFiltersRequestAsync: createdTimeFrom is required; without runtimeStatus
    # the Azure Storage backend purges every status in the range, Running included.
    assert rpc.requests == [("DELETE", "/durabletask/instances/", {
        "createdTimeFrom": "1970-01-01T00:00:00.000000Z",
        "createdTimeTo": "2026-11-01T03:00:00.123456Z",
        "runtimeStatus": "Completed,Failed,Terminated,Canceled",
    })]


def test_a_failing_purge_raises_naming_the_status_so_the_timer_run_fails(host: HostThread) -> None:
    rpc = RecordingDurableRpc(web.json_response({"Message": "storage unavailable"}, status=500))
    with pytest.raises(Exception, match=r"^The operation failed with an unexpected status code 500$"):
        purge_through(host, rpc, THIRTY_DAYS, datetime(2026, 12, 1, tzinfo=UTC))


def test_the_cutoff_is_now_minus_the_retention_in_utc() -> None:
    now = datetime(2026, 12, 1, 4, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    assert purge_cutoff(now, Settings(history_retention_days=7)) == datetime(2026, 11, 24, 4, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"^now must be timezone-aware"):
        purge_cutoff(datetime(2026, 12, 1), THIRTY_DAYS)
