"""The public Durable HTTP API and HTTP triggers, over loopback with a plain aiohttp client."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import pytest

from tests.devhost.functions.hosting import APPS, HostThread, call, wait_status

API = "/runtime/webhooks/durabletask"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostThread]:
    running = HostThread(APPS / "patterns", Path(tmp_path_factory.mktemp("http-api-data")))
    yield running
    running.close()




def finished(host: HostThread, name: str, payload: Any = None, instance_id: str | None = None) -> str:
    async def body(client: df.DurableOrchestrationClient) -> str:
        started = await client.start_new(name, instance_id, payload)
        await wait_status(client, started)
        return started

    return host.scenario(body)


def test_start_answers_202_with_the_check_status_payload(host: HostThread) -> None:
    status, headers, body = call(host, "POST", f"{API}/orchestrators/chain", json="api")
    assert status == 202
    assert headers["Location"] == body["statusQueryGetUri"]
    assert headers["Retry-After"] == "10"
    # As the extension's GetClientResponseLinks: the task hub, the connection, then the webhook's code=<system key>.
    code = f"code={host.keys.durable_system_key}"
    assert body["statusQueryGetUri"] == f"{host.base_url}{API}/instances/{body['id']}?taskHub=PatternsHub" \
                                        f"&connection=Storage&{code}"
    assert body["sendEventPostUri"].endswith(f"/instances/{body['id']}/raiseEvent/{{eventName}}?taskHub="
                                             f"PatternsHub&connection=Storage&{code}")


def test_start_of_an_unknown_orchestrator_is_400_listing_the_known_ones(host: HostThread) -> None:
    status, _, body = call(host, "POST", f"{API}/orchestrators/nope")
    assert status == 400
    assert body["Message"] == "One or more of the arguments submitted is incorrect"
    assert body["ExceptionMessage"].startswith("The function 'nope' doesn't exist, is disabled, or is not an "
                                               "orchestrator function. Additional info: The following are the known "
                                               "orchestrator functions: 'approval', 'big_status', 'catching'")
    assert body["ExceptionType"] == "System.ArgumentException"


def test_start_with_bad_json_or_bad_id_is_400(host: HostThread) -> None:
    status, _, body = call(host, "POST", f"{API}/orchestrators/chain", data="{not json",
                           headers={"Content-Type": "application/json"})
    assert status == 400
    assert "not valid JSON" in body["ExceptionMessage"]
    status, _, body = call(host, "POST", f"{API}/orchestrators/chain/@entity")
    assert status == 400
    assert "must not start with '@'" in body["ExceptionMessage"]


def test_start_of_a_running_id_is_500_conflict(host: HostThread) -> None:
    assert call(host, "POST", f"{API}/orchestrators/waiting/api-conflict")[0] == 202
    status, _, body = call(host, "POST", f"{API}/orchestrators/waiting/api-conflict")
    assert status == 500
    assert body["Message"] == "Something went wrong while processing your request"
    assert body["ExceptionMessage"] == "An Orchestration instance with the status Running already exists." or \
        body["ExceptionMessage"] == "An Orchestration instance with the status Pending already exists."


def test_start_and_wait_returns_the_output_when_done_in_time(host: HostThread) -> None:
    status, _, body = call(host, "POST", f"{API}/orchestrators/fan_out_in?timeout=10&pollingInterval=0.05", json=4)
    assert status == 200
    assert body == 12


def test_start_and_wait_gives_the_check_status_payload_on_timeout(host: HostThread) -> None:
    status, _, body = call(host, "POST", f"{API}/orchestrators/waiting?timeout=0.1&pollingInterval=0.05")
    assert status == 202
    assert "statusQueryGetUri" in body


def test_status_codes_follow_the_runtime_status(host: HostThread) -> None:
    status, headers, body = call(host, "POST", f"{API}/orchestrators/waiting/api-running")
    status, headers, body = call(host, "GET", f"{API}/instances/api-running")
    assert status == 202
    assert headers["Retry-After"] == "5"
    assert body["runtimeStatus"] in ("Pending", "Running")
    assert set(body) == {"name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime",
                         "lastUpdatedTime"}
    assert body["createdTime"].endswith("Z") and len(body["createdTime"]) == 20
    failed = finished(host, "failing")
    assert call(host, "GET", f"{API}/instances/{failed}")[0] == 200
    assert call(host, "GET", f"{API}/instances/{failed}?returnInternalServerErrorOnFailure=true")[0] == 500
    status, _, body = call(host, "GET", f"{API}/instances/no-such-instance")
    assert (status, body) == (404, None)


def test_status_with_history_condenses_events_like_the_extension(host: HostThread) -> None:
    instance_id = finished(host, "chain", "hist")
    _, _, body = call(host, "GET", f"{API}/instances/{instance_id}?showHistory=true&showHistoryOutput=true"
                                   "&showInput=false")
    events = body["historyEvents"]
    assert body["input"] is None
    assert [e["EventType"] for e in events] == ["ExecutionStarted", "TaskCompleted", "TaskCompleted",
                                                "TaskCompleted", "ExecutionCompleted"]
    assert events[0]["FunctionName"] == "chain"
    assert events[1]["FunctionName"] == "hello" and events[1]["Result"] == "Hello hist"
    assert "ScheduledTime" in events[1] and "EventId" not in events[1] and "TaskScheduledId" not in events[1]
    _, _, plain = call(host, "GET", f"{API}/instances/{instance_id}?showHistory=true")
    assert "Result" not in plain["historyEvents"][1]


def test_list_filters_by_prefix_status_and_time_and_pages(host: HostThread) -> None:
    for i in range(5):
        finished(host, "plain_function", i, f"page-{i}")
    status, headers, body = call(host, "GET", f"{API}/instances?instanceIdPrefix=page-&top=2")
    assert status == 200
    assert [b["instanceId"] for b in body] == ["page-0", "page-1"]
    token = headers["x-ms-continuation-token"]
    _, headers, body = call(host, "GET", f"{API}/instances?instanceIdPrefix=page-&top=2",
                            headers={"x-ms-continuation-token": token})
    assert [b["instanceId"] for b in body] == ["page-2", "page-3"]
    _, headers, body = call(host, "GET", f"{API}/instances?instanceIdPrefix=page-&top=2",
                            headers={"x-ms-continuation-token": headers["x-ms-continuation-token"]})
    assert [b["instanceId"] for b in body] == ["page-4"]
    # The header is always sent; on the last page it is empty (HandleGetStatusRequestAsync).
    assert headers["x-ms-continuation-token"] == ""
    _, _, body = call(host, "GET", f"{API}/instances/?instanceIdPrefix=page-&runtimeStatus=Running,Failed")
    assert body == []
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    _, _, body = call(host, "GET", f"{API}/instances/?createdTimeFrom={future}")
    assert body == []
    assert call(host, "GET", f"{API}/instances/", headers={"x-ms-continuation-token": "garbage!"})[0] == 400


def test_list_ignores_filter_values_that_do_not_parse(host: HostThread) -> None:
    # TryGet*QueryParameterValue: Enum.TryParse (case-sensitive), DateTime.TryParse, int.TryParse and
    # bool.TryParse failures leave the default, they are not a 400.
    for i in range(2):
        finished(host, "plain_function", i, f"lenient-{i}")
    expected = ["lenient-0", "lenient-1"]
    for query in ("runtimeStatus=Sleeping", "runtimeStatus=completed", "createdTimeFrom=yesterday",
                  "createdTimeFrom=9999", "top=many", "top=2.5", "showInput=yes",
                  "createdTimeTo=%7Bnot%20a%20time%7D"):
        status, headers, body = call(host, "GET", f"{API}/instances/?instanceIdPrefix=lenient-&{query}")
        assert status == 200, query
        assert [b["instanceId"] for b in body] == expected, query
        assert headers["x-ms-continuation-token"] == "", query
    _, _, body = call(host, "GET", f"{API}/instances/?instanceIdPrefix=lenient-&runtimeStatus=Sleeping,Completed")
    assert [b["instanceId"] for b in body] == expected
    _, _, body = call(host, "GET", f"{API}/instances/?instanceIdPrefix=lenient-&runtimeStatus=Running")
    assert body == []


def test_list_pages_by_100_unless_top_says_otherwise(host: HostThread) -> None:
    # OrchestrationStatusQueryCondition.PageSize = 100
    ids = [f"hundred-{i:03d}" for i in range(101)]

    async def start_all(client: df.DurableOrchestrationClient) -> None:
        for instance_id in ids:
            await client.start_new("plain_function", instance_id, 0)
        for instance_id in ids:
            await wait_status(client, instance_id)

    host.scenario(start_all)
    _, headers, body = call(host, "GET", f"{API}/instances?instanceIdPrefix=hundred-")
    assert [b["instanceId"] for b in body] == ids[:100]
    assert headers["x-ms-continuation-token"] != ""
    _, headers, body = call(host, "GET", f"{API}/instances?instanceIdPrefix=hundred-",
                            headers={"x-ms-continuation-token": headers["x-ms-continuation-token"]})
    assert [b["instanceId"] for b in body] == ids[100:]
    assert headers["x-ms-continuation-token"] == ""


def test_deeply_nested_json_bodies_are_400_not_500(host: HostThread) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    status, _, body = call(host, "POST", f"{API}/orchestrators/chain", data=deep,
                           headers={"Content-Type": "application/json"})
    assert status == 400
    assert (body["Message"], body["ExceptionMessage"], body["ExceptionType"]) == (
        "Invalid JSON content", "The reader's MaxDepth of 64 has been exceeded.", "Newtonsoft.Json.JsonReaderException")
    call(host, "POST", f"{API}/orchestrators/waiting/api-deep-event")
    status, _, body = call(host, "POST", f"{API}/instances/api-deep-event/raiseEvent/Go", data=deep,
                           headers={"Content-Type": "application/json"})
    assert (status, body["Message"], body["ExceptionMessage"]) == (
        400, "Invalid JSON content", "The reader's MaxDepth of 64 has been exceeded.")


def test_json_deeper_than_newtonsofts_max_depth_of_64_is_400(host: HostThread) -> None:
    assert call(host, "POST", f"{API}/orchestrators/plain_function", data="[" * 64 + "]" * 64,
                headers={"Content-Type": "application/json"})[0] == 202
    status, _, body = call(host, "POST", f"{API}/orchestrators/plain_function", data="[" * 65 + "]" * 65,
                           headers={"Content-Type": "application/json"})
    assert (status, body["Message"]) == (400, "Invalid JSON content")


def test_raise_event_status_codes(host: HostThread) -> None:
    call(host, "POST", f"{API}/orchestrators/waiting/api-events")
    assert call(host, "POST", f"{API}/instances/api-events/raiseEvent/Go", json="x")[0] == 202
    status, _, body = call(host, "POST", f"{API}/instances/api-events/raiseEvent/Go", data="plain",
                           headers={"Content-Type": "text/plain"})
    assert status == 400 and body["Message"] == "Only application/json request content is supported"
    assert call(host, "POST", f"{API}/instances/api-events/raiseEvent/Go", data="{bad",
                headers={"Content-Type": "application/json"})[0] == 400
    assert call(host, "POST", f"{API}/instances/missing/raiseEvent/Go", json=1)[0] == 404
    done = finished(host, "plain_function", 1)
    assert call(host, "POST", f"{API}/instances/{done}/raiseEvent/Go", json=1)[0] == 410


def test_terminate_suspend_resume_rewind_status_codes(host: HostThread) -> None:
    call(host, "POST", f"{API}/orchestrators/waiting/api-ops")
    assert call(host, "POST", f"{API}/instances/api-ops/resume?reason=x")[0] == 500
    assert call(host, "POST", f"{API}/instances/api-ops/rewind?reason=x")[0] == 500
    assert call(host, "POST", f"{API}/instances/api-ops/terminate?reason=stop")[0] == 202
    assert call(host, "POST", f"{API}/instances/missing/terminate?reason=stop")[0] == 404
    done = finished(host, "plain_function", 2)
    for operation in ("terminate", "suspend", "resume", "rewind"):
        # request.CreateResponse(HttpStatusCode.Gone): no body.
        assert call(host, "POST", f"{API}/instances/{done}/{operation}?reason=x")[:3:2] == (410, None), operation
    status, _, body = call(host, "POST", f"{API}/instances/missing/restart")
    assert (status, body["Message"], body["ExceptionMessage"]) == (
        400, "InstanceId does not match a valid orchestration instance.",
        "An orchestrastion with the instanceId missing was not found.")


def test_purge_one_and_by_filter(host: HostThread) -> None:
    done = finished(host, "plain_function", 3, "purge-me")
    status, _, body = call(host, "DELETE", f"{API}/instances/{done}")
    assert (status, body) == (200, {"instancesDeleted": 1})
    assert call(host, "DELETE", f"{API}/instances/{done}")[0] == 404
    assert call(host, "DELETE", f"{API}/instances/")[0] == 400
    finished(host, "plain_function", 4, "purge-by")
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, _, body = call(host, "DELETE", f"{API}/instances/?createdTimeFrom={since}&runtimeStatus=Completed")
    assert status == 200 and body["instancesDeleted"] >= 1
    assert call(host, "GET", f"{API}/instances/purge-by")[0] == 404
    assert call(host, "DELETE", f"{API}/instances/?createdTimeFrom={since}&runtimeStatus=Completed")[0] == 404


def test_unknown_durable_routes_and_methods_are_an_empty_404(host: HostThread) -> None:
    # HandleRequestAsync: request.CreateResponse(HttpStatusCode.NotFound) for every route or method it lacks.
    for method, path in (("GET", "/nothing/here"), ("PUT", "/instances/x"), ("GET", "/orchestrators/chain"),
                         ("POST", "/instances/x/explode"), ("GET", "/instances/x/terminate"), ("GET", ""),
                         ("GET", "/instances/x/raiseEvent/Go")):
        status, headers, body = call(host, method, API + path)
        assert (status, body, headers.get("Content-Length")) == (404, None, "0"), (method, path)


def test_http_trigger_gets_route_params_query_headers_and_body(host: HostThread) -> None:
    status, headers, body = call(host, "POST", "/api/echo/ann/3?q=1", data=b"hello", headers={"x-test": "t"})
    assert status == 201
    assert headers["x-echo"] == "yes"
    assert headers["Content-Type"].startswith("application/json")
    assert body["method"] == "POST" and body["name"] == "ann" and body["count"] == "3"
    assert body["query"] == {"q": "1"} and body["header"] == "t" and body["body"] == "hello"
    assert body["function"] == "echo"
    assert body["url"] == f"{host.base_url}/api/echo/ann/3?q=1"
    _, _, body = call(host, "GET", "/api/echo/bob")
    assert body["name"] == "bob" and body["count"] is None


def test_http_trigger_routing_errors(host: HostThread) -> None:
    assert call(host, "GET", "/api/echo/ann/notanumber")[0] == 404
    assert call(host, "DELETE", "/api/echo/ann")[0] == 405
    assert call(host, "GET", "/api/nothing")[0] == 404
    assert call(host, "GET", "/elsewhere")[0] == 404
    status, _, body = call(host, "GET", "/api/boom")
    assert status == 500 and "Functions.boom" in body["error"]


def test_generic_starter_and_wait_for_completion_helpers(host: HostThread) -> None:
    status, headers, body = call(host, "POST", "/api/orchestrators/chain", json="starter")
    assert status == 202
    assert headers["Location"].startswith(f"{host.base_url}{API}/instances/")
    status, _, body = call(host, "POST", "/api/run/fan_out_in", json=5)
    assert (status, body) == (200, 20)
    status, _, body = call(host, "POST", "/api/run/failing", json={"x": 1})
    assert status == 500 and body["runtimeStatus"] == "Failed"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "Infinity"])
def test_a_top_that_is_no_int_is_ignored(host: HostThread, value: str) -> None:
    status, headers, _ = call(host, "GET", f"{API}/instances?top={value}")
    assert (status, "x-ms-continuation-token" in headers) == (200, True)


def test_wait_parameters_that_are_no_timespan_fail_after_the_start(host: HostThread) -> None:
    # TryGetTimeSpanQueryParameterValue: double.TryParse takes NaN and Infinity, TimeSpan.FromSeconds then throws:
    # an ArgumentException (400) for NaN, an OverflowException (500) for infinity, after StartNewAsync.
    status, _, body = call(host, "POST", f"{API}/orchestrators/plain_function/wait-nan?timeout=NaN&pollingInterval=1")
    assert (status, body["Message"], body["ExceptionMessage"]) == (
        400, "One or more of the arguments submitted is incorrect",
        "TimeSpan does not accept floating point Not-a-Number values.")
    status, _, body = call(host, "POST", f"{API}/orchestrators/plain_function/wait-inf?timeout=Infinity"
                                         "&pollingInterval=1")
    assert (status, body["Message"], body["ExceptionMessage"], body["ExceptionType"]) == (
        500, "Something went wrong while processing your request",
        "TimeSpan overflowed because the duration is too long.", "System.OverflowException")
    for instance_id in ("wait-nan", "wait-inf"):
        assert call(host, "GET", f"{API}/instances/{instance_id}")[0] in (200, 202), instance_id
    # "inf" is no .NET double: ignored, so there is no wait at all.
    assert call(host, "POST", f"{API}/orchestrators/plain_function?timeout=inf&pollingInterval=1")[0] == 202


def test_ids_and_event_names_with_braces_reach_their_routes(host: HostThread) -> None:
    # Found by tests/fuzz: aiohttp's default {param} pattern excludes braces, so these fell through to "no route".
    status, _, body = call(host, "POST", f"{API}/orchestrators/waiting/%7Bbraced%7D-id")
    assert (status, body["id"]) == (202, "{braced}-id")
    assert call(host, "GET", f"{API}/instances/%7Bbraced%7D-id")[0] == 202
    assert call(host, "POST", f"{API}/instances/%7Bbraced%7D-id/raiseEvent/%7Bodd%7D", json=1)[0] == 202
    status, _, body = call(host, "GET", f"{API}/instances/%7Bnobody%7D")
    assert (status, body) == (404, None)


def test_a_path_with_an_encoded_newline_is_a_json_404(host: HostThread) -> None:
    assert call(host, "GET", f"{API}/x%0Ay")[:3:2] == (404, None)
    for path in ("/%0A", "/api/%0A"):
        status, headers, body = call(host, "GET", path)
        assert status == 404, path
        assert headers["Content-Type"].startswith("application/json"), path
        assert isinstance(body, dict), path
