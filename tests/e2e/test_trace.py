"""One operation's trace, end to end in one process with an in-memory exporter (tests/e2e/trace_chain.py): the
user's turn holds the start call, the function app's starter, steps and notify_bot continue the start call's trace
through the devhost's trace context, and the proactive delivery, in a trace of its own after the Direct Line hop,
carries the same instance id."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contract.tracing import INSTANCE_ID

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spans() -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "tests.e2e.trace_chain"], cwd=ROOT, capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [json.loads(line[len("SPAN "):]) for line in done.stdout.splitlines() if line.startswith("SPAN ")]


def _one(spans: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [span for span in spans if span["name"] == name]
    assert len(found) == 1, [span["name"] for span in spans]
    return found[0]


def test_the_users_turn_is_the_parent_of_the_start_call(spans: list[dict[str, Any]]) -> None:
    start_call = _one(spans, "start operation")
    turn = next(span for span in spans if span["span_id"] == start_call["parent_id"])
    assert (turn["name"], turn["trace_id"], turn["parent_id"]) == ("bot turn", start_call["trace_id"], None)
    assert turn["attributes"]["botframework.activity_type"] == "message"
    assert turn["attributes"]["botframework.conversation_id"] == start_call["attributes"][
        "botframework.conversation_id"]
    assert start_call["attributes"][INSTANCE_ID].startswith("op-")
    # The turn learns the instance id from the start call's answer.
    assert turn["attributes"][INSTANCE_ID] == start_call["attributes"][INSTANCE_ID]


def test_the_starter_the_steps_and_notify_bot_continue_the_start_calls_trace(spans: list[dict[str, Any]]) -> None:
    start_call = _one(spans, "start operation")
    function_app = [span for span in spans if span["name"] in ("start_operation", "run_operation_step", "notify_bot")]
    assert sorted(span["name"] for span in function_app) == [
        "notify_bot", "run_operation_step", "run_operation_step", "start_operation"]
    assert {span["trace_id"] for span in function_app} == {start_call["trace_id"]}
    assert {span["attributes"][INSTANCE_ID] for span in function_app} == {start_call["attributes"][INSTANCE_ID]}
    # Each under a host span of its own (the invocation's, which the devhost does not export), none a root.
    ids = {span["span_id"] for span in spans}
    assert all(span["parent_id"] is not None and span["parent_id"] not in ids for span in function_app)
    assert sorted(span["attributes"]["long_operation.step"] for span in function_app
                   if span["name"] == "run_operation_step") == [1, 2]
    assert _one(spans, "notify_bot")["attributes"]["long_operation.status"] == "completed"


def test_the_proactive_delivery_carries_the_instance_id_in_the_outcome_events_turn(
    spans: list[dict[str, Any]],
) -> None:
    start_call = _one(spans, "start operation")
    delivery = _one(spans, "deliver outcome")
    event_turn = next(span for span in spans if span["span_id"] == delivery["parent_id"])
    instance_id = start_call["attributes"][INSTANCE_ID]
    assert (event_turn["name"], event_turn["attributes"]["botframework.activity_type"]) == ("bot turn", "event")
    assert event_turn["attributes"][INSTANCE_ID] == delivery["attributes"][INSTANCE_ID] == instance_id
    # Delivered into the user's conversation, the one the operation was started from.
    assert delivery["attributes"]["botframework.conversation_id"] == start_call["attributes"][
        "botframework.conversation_id"]
    # Direct Line carries no trace context: the instance id, not the trace id, joins the two halves.
    assert delivery["trace_id"] != start_call["trace_id"]
