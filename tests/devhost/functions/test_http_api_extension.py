"""The Durable HTTP API's details as the extension's HttpApiHandler and DurableClient have them.

Each test names the source it follows (Azure/azure-functions-durable-extension, src/WebJobs.Extensions.DurableTask/).
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import azure.durable_functions as df
import pytest

from devhost.durable import runtime_status as rs
from devhost.durable.status_view import status_json
from devhost.durable.store import Instance
from tests.devhost.functions.hosting import APPS, HostThread, call, wait_for, wait_status

API = "/runtime/webhooks/durabletask"
SINCE = "2000-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostThread]:
    running = HostThread(APPS / "patterns", Path(tmp_path_factory.mktemp("http-api-extension-data")))
    yield running
    running.close()




def finished(host: HostThread, name: str, payload: Any = None, instance_id: str | None = None) -> str:
    async def body(client: df.DurableOrchestrationClient) -> str:
        started = await client.start_new(name, instance_id, payload)
        await wait_status(client, started)
        return started

    return host.scenario(body)


def test_check_status_payload_has_eight_keys_and_the_id_url_encoded(host: HostThread) -> None:
    # CreateCheckStatusResponseMessage: no rewindPostUri; GetClientResponseLinks: WebUtility.UrlEncode(instanceId).
    status, _, body = call(host, "POST", f"{API}/orchestrators/waiting/a%20b%2Bc%26d")
    assert status == 202
    assert list(body) == ["id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri",
                          "restartPostUri", "suspendPostUri", "resumePostUri"]
    assert body["id"] == "a b+c&d"
    code = quote(host.keys.durable_system_key, safe="")
    assert body["statusQueryGetUri"] == (f"{host.base_url}{API}/instances/a+b%2Bc%26d?taskHub=PatternsHub"
                                         f"&connection=Storage&code={code}")
    assert body["terminatePostUri"] == (f"{host.base_url}{API}/instances/a+b%2Bc%26d/terminate?reason={{text}}"
                                        f"&taskHub=PatternsHub&connection=Storage&code={code}")
    call(host, "POST", f"{API}/instances/a%20b%2Bc%26d/terminate")


def test_start_waits_only_when_both_timeout_and_polling_interval_are_given(host: HostThread) -> None:
    # HandleStartOrchestratorRequestAsync: timeout.HasValue && pollingInterval.HasValue
    assert call(host, "POST", f"{API}/orchestrators/fan_out_in?timeout=10", json=2)[0] == 202
    assert call(host, "POST", f"{API}/orchestrators/fan_out_in?pollingInterval=1", json=2)[0] == 202
    assert call(host, "POST", f"{API}/orchestrators/fan_out_in?timeout=10&pollingInterval=0.05", json=2)[:3:2] == \
        (200, 2)


def test_a_polling_interval_above_the_timeout_is_400(host: HostThread) -> None:
    # WaitForCompletionOrCreateCheckStatusResponseAsync's ArgumentException, after the instance started.
    status, _, body = call(host, "POST", f"{API}/orchestrators/plain_function/poll-gt?timeout=1&pollingInterval=2")
    assert (status, body["Message"], body["ExceptionMessage"]) == (
        400, "One or more of the arguments submitted is incorrect",
        "Total timeout 1 should be bigger than retry timeout 2")
    assert call(host, "GET", f"{API}/instances/poll-gt")[0] in (200, 202)


def test_start_and_wait_answers_a_failed_instance_with_200_and_its_status(host: HostThread) -> None:
    # The Failed case calls HandleGetStatusRequestAsync with returnInternalServerErrorOnFailure: false.
    status, _, body = call(host, "POST", f"{API}/orchestrators/failing?timeout=10&pollingInterval=0.05")
    assert (status, body["runtimeStatus"]) == (200, "Failed")
    assert body["output"].startswith("Orchestrator function 'failing' failed: Activity function 'fail_always' "
                                     "failed:  ValueError: cannot handle x")


def test_bad_start_json_is_400_invalid_json_content(host: HostThread) -> None:
    status, _, body = call(host, "POST", f"{API}/orchestrators/chain", data="{not json",
                           headers={"Content-Type": "application/json"})
    assert (status, body["Message"], body["ExceptionType"]) == (400, "Invalid JSON content",
                                                                 "Newtonsoft.Json.JsonReaderException")


def test_raise_event_with_an_empty_body_is_400(host: HostThread) -> None:
    # ConvertToJToken("") throws a JsonReaderException: HandleRaiseEventRequestAsync answers "Invalid JSON content".
    call(host, "POST", f"{API}/orchestrators/waiting/empty-event")
    status, _, body = call(host, "POST", f"{API}/instances/empty-event/raiseEvent/Go", data=b"",
                           headers={"Content-Type": "application/json"})
    assert (status, body["Message"], body["ExceptionMessage"]) == (
        400, "Invalid JSON content", "Error reading JToken from JsonReader. Path '', line 0, position 0.")
    status, _, body = call(host, "POST", f"{API}/instances/empty-event/raiseEvent/Go", data=b"1")
    assert (status, body) == (400, {"Message": "Only application/json request content is supported"})
    call(host, "POST", f"{API}/instances/empty-event/terminate")


def test_404_and_410_answers_have_empty_bodies(host: HostThread) -> None:
    done = finished(host, "plain_function", 1)
    tomorrow = f"{datetime.now(UTC) + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}"
    for method, path, code in (("GET", "/instances/nobody", 404), ("DELETE", "/instances/nobody", 404),
                               ("POST", "/instances/nobody/terminate", 404), ("POST", "/instances/nobody/suspend", 404),
                               ("POST", "/instances/nobody/raiseEvent/Go", 404),
                               ("POST", f"/instances/{done}/raiseEvent/Go", 410),
                               ("POST", f"/instances/{done}/terminate", 410),
                               ("DELETE", f"/instances/?createdTimeFrom={tomorrow}", 404)):
        status, headers, body = call(host, method, API + path, json=1 if "raiseEvent" in path else None)
        assert (status, body, headers.get("Content-Length")) == (code, None, "0"), (method, path)


def test_purge_by_filter_needs_created_time_from(host: HostThread) -> None:
    status, headers, body = call(host, "DELETE", f"{API}/instances/")
    assert (status, body) == (400, "Please provide value for 'createdTimeFrom' parameter.")
    assert headers["Content-Type"].startswith("application/json")


def test_purge_by_filter_without_a_terminal_status_purges_running_instances_too(host: HostThread) -> None:
    # AzureTableTrackingStore.PurgeInstanceHistoryAsync keeps only terminal statuses of the filter, and an empty
    # filter matches every status (HttpApiHandler.HandleDeleteHistoryWithFiltersRequestAsync passes what parsed).
    async def body(client: df.DurableOrchestrationClient) -> None:
        for instance_id in ("purge-scope-a", "purge-scope-b"):
            await client.start_new("waiting", instance_id)
            await wait_status(client, instance_id, "Running")

    host.scenario(body)
    created = (datetime.now(UTC) - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, _, deleted = call(host, "DELETE", f"{API}/instances/?createdTimeFrom={created}&runtimeStatus=Running")
    assert status == 200 and deleted["instancesDeleted"] >= 1
    assert call(host, "GET", f"{API}/instances/purge-scope-a")[0] == 404
    assert call(host, "GET", f"{API}/instances/purge-scope-b")[0] == 404


def test_purge_by_filter_with_a_terminal_status_keeps_running_instances(host: HostThread) -> None:
    async def body(client: df.DurableOrchestrationClient) -> None:
        await client.start_new("waiting", "purge-keep")
        await wait_status(client, "purge-keep", "Running")

    host.scenario(body)
    call(host, "DELETE", f"{API}/instances/?createdTimeFrom={SINCE}&runtimeStatus=Completed,Running")
    assert call(host, "GET", f"{API}/instances/purge-keep")[0] == 202
    call(host, "POST", f"{API}/instances/purge-keep/terminate")


def test_show_history_keeps_in_flight_activities_and_raw_inputs(host: HostThread, tmp_path: Path) -> None:
    # DurableClient.GetDurableOrchestrationStatusAsync: a TaskScheduled goes only once its completion is found.
    gate = tmp_path / "gate"

    async def scheduled(client: df.DurableOrchestrationClient) -> list[dict[str, Any]]:
        await client.start_new("gated", "history-in-flight", str(gate))

        async def in_flight() -> bool:
            status = await client.get_status("history-in-flight", show_history=True)
            # A Pending instance has no historyEvents at all.
            kinds = [e["EventType"] for e in getattr(status, "historyEvents", None) or []]
            return kinds == ["ExecutionStarted", "TaskScheduled"]

        await wait_for(in_flight, "the activity to be scheduled")
        return list((await client.get_status("history-in-flight", show_history=True)).historyEvents)

    started_event, task = host.scenario(scheduled)
    # Inputs stay the raw strings of history; Name becomes FunctionName, last.
    assert started_event["Input"] == json.dumps(json.dumps(str(gate)))
    assert list(started_event)[-1] == "FunctionName" and started_event["FunctionName"] == "gated"
    assert task["Name"] == "wait_for_gate" and task["Input"] == json.dumps(str(gate))
    assert "EventId" not in task and "Version" not in task
    gate.touch()
    host.scenario(lambda client: wait_status(client, "history-in-flight"))
    _, _, body = call(host, "GET", f"{API}/instances/history-in-flight?showHistory=true&showHistoryOutput=true")
    kinds = [e["EventType"] for e in body["historyEvents"]]
    assert kinds == ["ExecutionStarted", "TaskCompleted", "ExecutionCompleted"]
    completed = body["historyEvents"][1]
    assert completed["FunctionName"] == "wait_for_gate" and completed["Input"] == json.dumps(str(gate))
    assert completed["Result"] == "opened"
    assert body["historyEvents"][2]["Result"] == "opened"
    assert body["historyEvents"][2]["OrchestrationStatus"] == "Completed"


def test_show_input_false_strips_every_input_from_history(host: HostThread) -> None:
    instance_id = finished(host, "chain", "strip")
    _, _, body = call(host, "GET", f"{API}/instances/{instance_id}?showHistory=true&showInput=false")
    assert body["input"] is None
    assert all("Input" not in e for e in body["historyEvents"])


def test_a_pending_instance_has_no_history_events_key() -> None:
    pending = Instance("p", "chain", None, "e", rs.PENDING, None, None, None, 0.0, 0.0)
    assert "historyEvents" not in status_json(pending, True, [], False)
    running = Instance("r", "chain", None, "e", rs.RUNNING, None, None, None, 0.0, 0.0)
    assert status_json(running, True, [], False)["historyEvents"] == []


def test_routes_operations_and_query_names_ignore_case(host: HostThread) -> None:
    # TemplateMatcher literals and the operation names compare OrdinalIgnoreCase; GetQueryNameValuePairs builds a
    # NameValueCollection with StringComparer.OrdinalIgnoreCase.
    status, _, body = call(host, "POST", f"{API}/ORCHESTRATORS/waiting/case-route")
    assert (status, body["id"]) == (202, "case-route")
    assert call(host, "POST", f"{API}/Instances/case-route/RAISEEVENT/Go", json="x")[0] == 202
    status, _, body = call(host, "GET", f"{API}/INSTANCES/case-route?SHOWHISTORY=TRUE")
    assert status == 202 and "historyEvents" in body
    assert call(host, "POST", f"{API}/instances/case-route/Terminate?REASON=shouting")[0] == 202
    final = host.scenario(lambda client: wait_status(client, "case-route"))
    assert final.output == "shouting"


def test_orchestrator_names_ignore_case_and_keep_the_name_as_given(host: HostThread) -> None:
    # FunctionName.Equals is OrdinalIgnoreCase: StartNewAsync finds "CHAIN"; the instance keeps that name.
    status, _, _ = call(host, "POST", f"{API}/orchestrators/CHAIN/case-name", json=json.dumps("x"))
    assert status == 202
    final = host.scenario(lambda client: wait_status(client, "case-name"))
    assert (final.name, final.output) == ("CHAIN", ["Hello x", "Hello Hello x", 26])


def test_suspend_resume_and_rewind_refusals_use_the_clients_words(host: HostThread) -> None:
    call(host, "POST", f"{API}/orchestrators/waiting/refusals")
    host.scenario(lambda client: wait_status(client, "refusals", "Running"))
    status, _, body = call(host, "POST", f"{API}/instances/refusals/resume")
    assert (status, body["ExceptionMessage"]) == (
        500, "Cannot resume the orchestration instance refusals because instance is in the Running state.")
    status, _, body = call(host, "POST", f"{API}/instances/refusals/rewind")
    assert (status, body["ExceptionMessage"]) == (
        500, "The rewind operation is only supported on failed orchestration instances.")
    call(host, "POST", f"{API}/instances/refusals/suspend")
    host.scenario(lambda client: wait_status(client, "refusals", "Suspended"))
    status, _, body = call(host, "POST", f"{API}/instances/refusals/suspend")
    assert (status, body["ExceptionMessage"]) == (
        500, "Cannot suspend the orchestration instance refusals because instance is in the Suspended state.")
    call(host, "POST", f"{API}/instances/refusals/terminate")


def test_terminate_without_a_reason_leaves_a_null_output(host: HostThread) -> None:
    call(host, "POST", f"{API}/orchestrators/waiting/no-reason")
    call(host, "POST", f"{API}/instances/no-reason/terminate")
    final = host.scenario(lambda client: wait_status(client, "no-reason"))
    assert (final.runtime_status.value, final.output) == ("Terminated", None)


def test_the_webhook_path_itself_ignores_case_and_still_needs_the_key(host: HostThread) -> None:
    status, _, body = call(host, "POST", "/RUNTIME/Webhooks/DurableTask/orchestrators/plain_function/case-base",
                           json=1)
    assert (status, body["id"]) == (202, "case-base")
    assert call(host, "GET", "/Runtime/WebHooks/durabletask/instances/case-base", headers={"x-functions-key": ""})[0] \
        == 401
