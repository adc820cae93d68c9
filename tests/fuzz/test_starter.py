"""Bad input at the HTTP starter (POST /api/operations) on the real functions host running the project's app.

Every refusal is a 4xx with ``{"error": "<message naming the problem>"}``, and after each one a good start still
answers 202 (the started instance is terminated at once so instances do not pile up).
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from contract import MAX_START_BODY_BYTES
from tests.fuzz.hosts import CONTINUATION, GOOD_START, ProjectHost, project_host
from tests.fuzz.strategies import json_values, not_json_bodies
from tests.fuzz.support import FUZZ, Http, LoopThread, Reply, assert_client_error, starter_error

OPERATIONS = "/api/operations"
KNOWN_OPTIONS = ("option 1", "option 2", "option 3")


class Starter:
    def __init__(self, project: ProjectHost, http: Http) -> None:
        self.base_url = project.base_url
        self.starter_headers = project.starter_headers
        self.http = http

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> Reply:
        return self.http.request("POST", self.base_url + OPERATIONS, body=body,
                                 headers={"Content-Type": "application/json", **self.starter_headers,
                                          **(headers or {})})

    def post_json(self, value: Any) -> Reply:
        return self.post(json.dumps(value).encode())

    def still_serves(self) -> None:
        """A good start answers 202 with the check-status payload; the instance is then terminated."""
        reply = self.post_json(GOOD_START)
        assert reply.status == 202, f"a good start after bad input failed: {reply}"
        terminate = reply.json()["terminatePostUri"].replace("{text}", "fuzz")
        assert self.http.request("POST", terminate).status == 202


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Starter]:
    loop = LoopThread()
    http = Http(loop)
    try:
        with project_host(Path(tmp_path_factory.mktemp("fuzz-starter"))) as project:
            yield Starter(project, http)
    finally:
        http.close()
        loop.close()


@FUZZ
@given(body=not_json_bodies)
def test_a_body_that_is_not_json_is_a_400_naming_the_body(starter: Starter, body: bytes) -> None:
    reply = starter.post(body)
    assert_client_error(reply, 400)
    assert starter_error(reply).startswith("body: expected a JSON object")
    starter.still_serves()


@FUZZ
@given(value=json_values.filter(lambda value: not isinstance(value, dict)))
def test_json_that_is_not_an_object_is_a_400_naming_the_body(starter: Starter, value: Any) -> None:
    reply = starter.post_json(value)
    assert_client_error(reply, 400)
    assert starter_error(reply).startswith("body:")
    starter.still_serves()


# A field of the request replaced by any JSON value or removed: "option", "continuation" or one the continuation needs.
_FIELDS = ["option", "continuation", "continuation.channelId", "continuation.serviceUrl",
           "continuation.conversation", "continuation.conversation.id"]
_MISSING = object()


def _with(path: str, value: object) -> dict[str, Any]:
    request: dict[str, Any] = json.loads(json.dumps(GOOD_START))
    *parents, last = path.split(".")
    target = request
    for name in parents:
        target = target[name]
    if value is _MISSING:
        del target[last]
    else:
        target[last] = value
    return request


@FUZZ
@given(path=st.sampled_from(_FIELDS), value=st.one_of(st.just(_MISSING), json_values))
def test_a_missing_or_wrongly_typed_field_is_a_400_naming_the_field(starter: Starter, path: str,
                                                                     value: object) -> None:
    # Values that happen to be valid are not bad input: a known option, or any non-empty string where one is wanted.
    assume(not (path == "option" and value in KNOWN_OPTIONS))
    assume(not (path not in {"option", "continuation", "continuation.conversation"}
                and isinstance(value, str) and value))
    assume(not (path in ("continuation", "continuation.conversation") and isinstance(value, dict)
                and _valid_object(path, value)))
    reply = starter.post_json(_with(path, value))
    assert_client_error(reply, 400)
    # The message names the field, or the first thing missing below it (continuation -> continuation.channelId).
    assert starter_error(reply).startswith(path), reply
    starter.still_serves()


def _valid_object(path: str, value: dict[str, Any]) -> bool:
    needs = ("channelId", "serviceUrl") if path == "continuation" else ("id",)
    if not all(isinstance(value.get(name), str) and value[name] for name in needs):
        return False
    if path == "continuation":
        conversation = value.get("conversation")
        return isinstance(conversation, dict) and isinstance(conversation.get("id"), str) and bool(conversation["id"])
    return True


@FUZZ
@given(option=st.text(max_size=40).filter(lambda text: text not in KNOWN_OPTIONS))
def test_an_unknown_option_is_a_400_listing_the_known_ones(starter: Starter, option: str) -> None:
    reply = starter.post_json({"option": option, "continuation": CONTINUATION})
    assert_client_error(reply, 400)
    message = starter_error(reply)
    assert message.startswith("option:")
    if option:
        assert "known options: 'option 1', 'option 2', 'option 3'" in message
    starter.still_serves()


@FUZZ
@given(extra=st.integers(min_value=1, max_value=200_000))
def test_a_body_over_the_limit_is_a_413_naming_the_limit(starter: Starter, extra: int) -> None:
    # Valid JSON, only too big: the size is refused before anything is parsed.
    padding = "x" * (MAX_START_BODY_BYTES + extra)
    reply = starter.post_json({**GOOD_START, "padding": padding})
    assert_client_error(reply, 413)
    assert f"the limit is {MAX_START_BODY_BYTES} bytes" in starter_error(reply)
    starter.still_serves()


@FUZZ
@given(options=st.dictionaries(st.text(min_size=1, max_size=15).filter(lambda k: k not in GOOD_START), json_values,
                               min_size=1, max_size=4))
def test_unknown_request_fields_are_ignored_not_an_error(starter: Starter, options: dict[str, Any]) -> None:
    # Decision: like every Bot Framework and Durable payload, the start request tolerates fields it does not know
    # (a newer bot may send more); the known ones are still checked. So unknown fields alone start an operation.
    reply = starter.post_json({**options, **GOOD_START})
    assert reply.status == 202, reply
    assert starter.http.request("POST", reply.json()["terminatePostUri"].replace("{text}", "fuzz")).status == 202


@FUZZ
@given(method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE"]), query=st.dictionaries(
    st.text(min_size=1, max_size=10), st.text(max_size=10), max_size=3))
def test_a_wrong_method_is_a_405_naming_the_allowed_one(starter: Starter, method: str, query: dict[str, str]) -> None:
    reply = starter.http.request(method, starter.base_url + OPERATIONS, params=query)
    assert_client_error(reply, 405)
    assert starter_error(reply).endswith("allowed: POST")
    starter.still_serves()
