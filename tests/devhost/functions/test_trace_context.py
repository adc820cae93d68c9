"""The devhost hands its functions the trace context the Functions host and the Durable extension would: an HTTP
trigger's span under the request's traceparent, the orchestration under the start request's, each activity
execution a span of its own in that trace, across continue-as-new (devhost/durable/trace_context.py)."""

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devhost.durable.trace_context import TraceContext, invocation_context
from devhost.functions.config import HostJson
from devhost.functions.errors import ConfigError
from tests.devhost.functions.hosting import APPS, WAIT_SECONDS, HostThread

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
V2 = {"distributedTracingEnabled": True, "version": "V2"}


def _host(tmp_path: Path, tracing: dict[str, Any] | None) -> HostThread:
    root = tmp_path / "app"
    shutil.copytree(APPS / "tracing", root)
    host_json = json.loads((root / "host.json").read_text())
    host_json["extensions"]["durableTask"].pop("tracing")
    if tracing is not None:
        host_json["extensions"]["durableTask"]["tracing"] = tracing
    (root / "host.json").write_text(json.dumps(host_json))
    return HostThread(root, tmp_path / "data", check_keys=False)


@pytest.fixture
def host_with(tmp_path: Path) -> Iterator[Any]:
    hosts: list[HostThread] = []

    def start(tracing: dict[str, Any] | None) -> HostThread:
        hosts.append(_host(tmp_path, tracing))
        return hosts[-1]

    yield start
    for host in hosts:
        host.close()


def _run(host: HostThread, headers: dict[str, str], orchestrator: str = "traced_chain",
         ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start ``orchestrator`` through the HTTP starter: the starter's answer and the completed instance's status."""
    return host.run(_run_async(host, headers, orchestrator))


async def _run_async(host: HostThread, headers: dict[str, str], orchestrator: str,
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{host.base_url}/api/start", headers=headers,
                                params={"orchestrator": orchestrator}) as response:
            assert response.status == 200, await response.text()
            started: dict[str, Any] = await response.json()
        url = f"{host.base_url}/runtime/webhooks/durabletask/instances/{started['id']}?showHistory=true"
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while True:
            async with session.get(url) as response:
                status: dict[str, Any] = await response.json(content_type=None)
            if status["runtimeStatus"] == "Completed":
                return started, status
            assert status["runtimeStatus"] in ("Pending", "Running", "ContinuedAsNew"), status
            assert asyncio.get_running_loop().time() < deadline, f"{started['id']} did not complete: {status}"
            await asyncio.sleep(0.02)


def _parsed(traceparent: str) -> TraceContext:
    parsed = TraceContext.parse(traceparent)
    assert parsed is not None, traceparent
    return parsed


def test_the_starters_trace_reaches_every_activity_across_continue_as_new(host_with: Any) -> None:
    started, status = _run(host_with(V2), {"traceparent": CALLER, "tracestate": "vendor=1"})
    starter = _parsed(started["traceparent"])
    # The invocation is a span of its own under the caller's, the state passed on.
    assert (starter.trace_id, started["tracestate"]) == (CALLER_TRACE, "vendor=1")
    assert starter.span_id != "00f067aa0ba902b7"
    activities = [_parsed(report["traceparent"]) for report in status["output"]]
    assert len(activities) == 4  # two generations of two activities
    assert {activity.trace_id for activity in activities} == {CALLER_TRACE}
    assert {report["tracestate"] for report in status["output"]} == {"vendor=1"}
    assert len({activity.span_id for activity in activities} | {starter.span_id}) == 5


def test_a_sub_orchestrations_activities_stay_in_the_parents_trace(host_with: Any) -> None:
    _, status = _run(host_with(V2), {"traceparent": CALLER}, "traced_parent")
    activities = [_parsed(report["traceparent"]) for report in status["output"]]
    assert [activity.trace_id for activity in activities] == [CALLER_TRACE, CALLER_TRACE]
    assert activities[0].span_id != activities[1].span_id


def test_without_a_traceparent_the_starter_begins_a_trace_that_its_activities_share(host_with: Any) -> None:
    started, status = _run(host_with(V2), {})
    starter = _parsed(started["traceparent"])
    assert starter.flags == "01"
    assert {_parsed(report["traceparent"]).trace_id for report in status["output"]} == {starter.trace_id}


def test_a_malformed_traceparent_is_ignored_and_a_new_trace_begins(host_with: Any) -> None:
    started, _ = _run(host_with(V2), {"traceparent": "00-" + "0" * 32 + "-00f067aa0ba902b7-01"})
    assert _parsed(started["traceparent"]).trace_id != "0" * 32


def test_without_distributed_tracing_v2_each_activity_runs_in_a_trace_of_its_own(host_with: Any) -> None:
    started, status = _run(host_with(None), {"traceparent": CALLER})
    assert _parsed(started["traceparent"]).trace_id == CALLER_TRACE
    traces = {_parsed(report["traceparent"]).trace_id for report in status["output"]}
    assert CALLER_TRACE not in traces
    assert len(traces) == 4


@pytest.mark.parametrize("traceparent", [
    "",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  # no flags
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version ff
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # version 00 has four fields
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero span id
])
def test_a_traceparent_that_is_not_w3c_names_no_caller(traceparent: str) -> None:
    assert TraceContext.parse(traceparent) is None
    assert invocation_context(traceparent, None).trace_id != "4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_later_versions_extra_fields_are_accepted() -> None:
    parsed = TraceContext.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-more")
    assert parsed == TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "00")
    assert parsed.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"


def test_host_json_tracing_needs_enabled_and_version_v2(tmp_path: Path) -> None:
    def load(tracing: Any) -> HostJson:
        (tmp_path / "host.json").write_text(json.dumps({"version": "2.0",
                                                        "extensions": {"durableTask": {"tracing": tracing}}}))
        return HostJson.load(tmp_path)

    assert load({"distributedTracingEnabled": True, "version": "v2"}).distributed_tracing
    assert not load({"distributedTracingEnabled": True}).distributed_tracing  # V1 by default
    assert not load({"distributedTracingEnabled": False, "version": "V2"}).distributed_tracing
    with pytest.raises(ConfigError) as bad_version:
        load({"distributedTracingEnabled": True, "version": "V3"})
    assert str(bad_version.value) == (f"{tmp_path / 'host.json'}: extensions.durableTask.tracing.version must be one "
                                      "of None, V1, V2, got 'V3'")
