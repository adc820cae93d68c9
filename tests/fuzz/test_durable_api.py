"""Bad input at the Durable HTTP API (/runtime/webhooks/durabletask/, reference §C3) and at unknown host routes.

The answers are the extension's own (HttpApiHandler.cs): 400 with ``{"Message", "ExceptionMessage",
"ExceptionType"}`` for bad arguments and bodies, an empty 404 for unknown instances, routes and methods, filter
values that do not parse ignored, never a 5xx or a hang. After each example the live instance's status and a
listing still answer.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.fuzz.hosts import GOOD_START, WEBHOOK, project_host
from tests.fuzz.strategies import (
    invalid_instance_ids,
    json_values,
    not_json_bodies,
    query_values,
    unknown_instance_ids,
)
from tests.fuzz.support import FUZZ, Http, LoopThread, Reply, assert_client_error, durable_error, segment, url


@dataclass
class Host:
    base_url: str
    http: Http
    live_id: str  # a running long_operation instance
    durable_headers: dict[str, str]  # the host's durabletask system key

    def call(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: object) -> Reply:
        return self.http.request(method, url(self.base_url, path),  # type: ignore[arg-type]
                                 headers={**self.durable_headers, **(headers or {})}, **kwargs)

    def still_serves(self) -> None:
        status = self.call("GET", f"{WEBHOOK}/instances/{self.live_id}")
        assert status.status == 202 and status.json()["runtimeStatus"] == "Running", f"status after bad input: {status}"
        listing = self.call("GET", f"{WEBHOOK}/instances", params={"instanceIdPrefix": self.live_id})
        assert listing.status == 200 and [item["instanceId"] for item in listing.json()] == [self.live_id], listing


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    loop = LoopThread()
    http = Http(loop)
    try:
        with project_host(Path(tmp_path_factory.mktemp("fuzz-durable"))) as project:
            started = http.request("POST", project.base_url + "/api/operations", json_body=GOOD_START,
                                   headers=project.starter_headers)
            assert started.status == 202, started
            yield Host(project.base_url, http, started.json()["id"], project.durable_headers)
    finally:
        http.close()
        loop.close()


@FUZZ
@given(instance_id=unknown_instance_ids, operation=st.sampled_from(
    ["status", "purge", "terminate", "suspend", "resume", "rewind", "restart", "raiseEvent"]))
def test_an_unknown_or_malformed_instance_id_is_a_4xx(host: Host, instance_id: str, operation: str) -> None:
    base = f"{WEBHOOK}/instances/{segment(instance_id)}"
    if operation == "status":
        reply = host.call("GET", base, params={"showHistory": "true"})
        # §C3: a status query for an unknown id is 404 with an EMPTY body (the Python client turns it into a falsy
        # status); it must not be a JSON error here.
        assert (reply.status, reply.text) == (404, ""), reply
    elif operation == "purge":
        reply = host.call("DELETE", base)
        assert (reply.status, reply.text) == (404, ""), reply
    elif operation == "raiseEvent":
        reply = host.call("POST", f"{base}/raiseEvent/Go", json_body={"x": 1})
        assert (reply.status, reply.text) == (404, ""), reply
    elif operation == "restart":
        # DurableClient.RestartAsync's ArgumentException, answered 400 by HandleRestartInstanceRequestAsync.
        reply = host.call("POST", f"{base}/{operation}", params={"reason": "fuzz"})
        assert_client_error(reply, 400)
        assert durable_error(reply)["ExceptionMessage"] == \
            f"An orchestrastion with the instanceId {instance_id} was not found.", reply
    else:
        reply = host.call("POST", f"{base}/{operation}", params={"reason": "fuzz"})
        assert (reply.status, reply.text) == (404, ""), reply
    host.still_serves()


@FUZZ
@given(instance_id=invalid_instance_ids, body=st.one_of(st.none(), json_values))
def test_starting_with_a_malformed_instance_id_is_a_400_naming_the_id(host: Host, instance_id: str,
                                                                       body: object) -> None:
    reply = host.call("POST", f"{WEBHOOK}/orchestrators/long_operation/{segment(instance_id)}",
                      body=None if body is None else json.dumps(body).encode(),
                      headers={"Content-Type": "application/json"})
    assert_client_error(reply, 400)
    assert durable_error(reply)["ExceptionMessage"].startswith("Instance ID"), reply
    host.still_serves()


@FUZZ
@given(body=not_json_bodies)
def test_starting_with_a_body_that_is_not_json_is_a_400(host: Host, body: bytes) -> None:
    reply = host.call("POST", f"{WEBHOOK}/orchestrators/long_operation", body=body,
                      headers={"Content-Type": "application/json"})
    assert_client_error(reply, 400)
    assert durable_error(reply)["Message"] == "Invalid JSON content"
    host.still_serves()


@FUZZ
@given(name=st.text(min_size=1, max_size=40).filter(lambda name: name != "long_operation"))
def test_starting_an_unknown_orchestrator_is_a_400_listing_the_known_one(host: Host, name: str) -> None:
    reply = host.call("POST", f"{WEBHOOK}/orchestrators/{segment(name)}")
    assert_client_error(reply, 400)
    assert "'long_operation'" in durable_error(reply)["ExceptionMessage"]
    host.still_serves()


@FUZZ
@given(name=st.sampled_from(["timeout", "pollingInterval"]), value=query_values)
def test_bad_wait_parameters_on_start_are_a_400_never_a_hang(host: Host, name: str, value: str) -> None:
    # An unknown orchestrator, so a valid value starts nothing: it reaches the name check (also a 400) instead.
    # timeout=nan|inf once made start-and-wait poll forever; the client's 20 s timeout turns a hang into a failure.
    reply = host.call("POST", f"{WEBHOOK}/orchestrators/fuzz_no_such_orchestrator",
                      params={"timeout": "1", name: value})
    assert_client_error(reply, 400)
    message = durable_error(reply)["ExceptionMessage"]
    assert name in message or "doesn't exist" in message, reply
    host.still_serves()


_LIST_PARAMETERS = ["top", "createdTimeFrom", "createdTimeTo", "runtimeStatus", "showInput"]


@FUZZ
@given(name=st.sampled_from(_LIST_PARAMETERS), value=query_values)
def test_a_bad_list_query_value_is_ignored(host: Host, name: str, value: str) -> None:
    # HandleGetStatusRequestAsync: a value that does not parse leaves the default; the listing answers 200.
    reply = host.call("GET", f"{WEBHOOK}/instances", params={name: value, "instanceIdPrefix": "fuzz-none-"})
    assert (reply.status, reply.json()) == (200, []), reply
    host.still_serves()


@FUZZ
@given(token=st.text(max_size=60).filter(lambda token: token.isprintable() and token.strip() != ""))
def test_a_foreign_continuation_token_is_a_400(host: Host, token: str) -> None:
    reply = host.call("GET", f"{WEBHOOK}/instances", params={"top": "1"},
                      headers={"x-ms-continuation-token": token.encode("utf-8").decode("latin-1")})
    assert_client_error(reply, 400)
    assert "x-ms-continuation-token" in durable_error(reply)["ExceptionMessage"]
    host.still_serves()


@FUZZ
@given(event=st.text(min_size=1, max_size=60), body=st.one_of(not_json_bodies.map(lambda b: ("json", b)),
                                                               st.binary(max_size=40).map(lambda b: ("text", b))))
def test_raising_an_event_with_a_bad_body_is_a_400(host: Host, event: str, body: tuple[str, bytes]) -> None:
    kind, data = body
    content_type = "application/json" if kind == "json" else "text/plain"
    reply = host.call("POST", f"{WEBHOOK}/instances/{host.live_id}/raiseEvent/{segment(event)}", body=data,
                      headers={"Content-Type": content_type})
    assert_client_error(reply, 400)
    message = durable_error(reply)["Message"]
    assert message == ("Invalid JSON content" if kind == "json" else
                       "Only application/json request content is supported")
    host.still_serves()


@FUZZ
@given(event=st.text(min_size=1, max_size=80), value=json_values)
def test_any_event_name_is_accepted_and_the_instance_keeps_running(host: Host, event: str, value: object) -> None:
    # Event names are free text in Durable Functions (matched by the orchestrator, case-insensitively); odd ones
    # must be stored and replayed without breaking the instance (still_serves reads its status afterwards).
    reply = host.call("POST", f"{WEBHOOK}/instances/{host.live_id}/raiseEvent/{segment(event)}", json_body=value)
    assert reply.status == 202, reply
    host.still_serves()


_SEGMENTS = st.text(min_size=1, max_size=20).map(segment)


@FUZZ
@given(method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
       tail=st.lists(_SEGMENTS, min_size=1, max_size=4).map("/".join))
def test_unknown_durable_routes_are_an_empty_404(host: Host, method: str, tail: str) -> None:
    # "zz-" keeps the first segment away from the real ones (orchestrators, instances).
    reply = host.call(method, f"{WEBHOOK}/zz-{tail}")
    assert (reply.status, reply.text) == (404, ""), reply
    host.still_serves()


@FUZZ
@given(method=st.sampled_from(["PUT", "PATCH"]), path=st.sampled_from(
    ["/instances", "/instances/{id}", "/instances/{id}/terminate", "/orchestrators/long_operation"]))
def test_a_wrong_method_on_a_durable_route_is_an_empty_404(host: Host, method: str, path: str) -> None:
    reply = host.call(method, WEBHOOK + path.replace("{id}", host.live_id))
    assert (reply.status, reply.text) == (404, ""), reply
    host.still_serves()


@FUZZ
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
       path=st.lists(_SEGMENTS, min_size=1, max_size=3).map("/".join))
def test_unknown_routes_on_the_host_are_a_404_json(host: Host, method: str, path: str) -> None:
    assume(not path.lower().startswith(("operations", "runtime")))
    for prefix in ("/api/", "/"):
        reply = host.call(method, prefix + path)
        assert_client_error(reply, 404)
        assert "nothing is served at" in (message := str(reply.json()["error"])) or "no HTTP function" in message
    host.still_serves()
