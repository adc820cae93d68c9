"""What the page reads out of the Durable API's JSON (devhost/dashboard/static/model.js), run in node: the
conversation of an instance id, the progress shape, whether the outcome reached the conversation (every state named,
an unknown one plainly), and the history as a timeline."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from contract import Stage

MODEL = Path(__file__).resolve().parents[3] / "devhost" / "dashboard" / "static" / "model.js"
# Reads calls from stdin as [[function, argument], ...] and prints their results as one JSON array.
RUNNER = """
const model = require(process.argv[1]);
const calls = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(calls.map(([name, ...args]) => model[name](...args))));
"""


def call(*calls: tuple[Any, ...]) -> list[Any]:
    node = shutil.which("node")
    assert node, "node is required for the dashboard's model tests"
    done = subprocess.run([node, "-e", RUNNER, str(MODEL)], input=json.dumps(calls), capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    result: list[Any] = json.loads(done.stdout)
    return result


def progress(stage: str, step: int = 2, message: str = "Finished step 2 of 4.") -> dict[str, Any]:
    return {"option": "option 1", "stage": stage, "step": step, "steps": 4, "percent": step * 25, "message": message}


def test_the_conversation_is_the_op_prefix_of_the_instance_id() -> None:
    assert call(("conversationOf", "op-0123456789ab-k3j4h5"), ("conversationOf", "op-0123456789AB-k3j4h5"),
                ("conversationOf", "someone-elses-instance"), ("conversationOf", 42)) == [
        "op-0123456789ab-", None, None, None]


def test_progress_is_read_only_from_the_projects_shape() -> None:
    assert call(("progressOf", progress("running")), ("progressOf", {**progress("running"), "percent": 250}),
                ("progressOf", {**progress("running"), "stage": "dancing"}), ("progressOf", "50%"),
                ("progressOf", {**progress("running"), "step": "2"})) == [
        {"option": "option 1", "stage": "running", "step": 2, "steps": 4, "percent": 50,
         "message": "Finished step 2 of 4."},
        {"option": "option 1", "stage": "running", "step": 2, "steps": 4, "percent": 100,
         "message": "Finished step 2 of 4."},
        None, None, None]


# (instance, state, text): every state the page names, and what it says for shapes it does not know.
DELIVERIES: list[tuple[Any, str, str]] = [
    ({"runtimeStatus": "Running", "customStatus": progress("running")},
     "pending", "Not yet: the operation is running."),
    ({"runtimeStatus": "Pending"}, "pending", "Not yet: the operation is pending."),
    ({"runtimeStatus": "Running",
      "customStatus": progress("notifying", 4, "Could not reach the bot yet; trying again in 10 seconds.")},
     "delivering", "Not yet: delivering. Could not reach the bot yet; trying again in 10 seconds."),
    ({"runtimeStatus": "Completed", "customStatus": progress("completed", 4),
      "output": {"outcome": {"status": "completed"}, "directLineConversationId": "c1",
                 "directLineActivityId": "c1|0000005", "detail": None}},
     "delivered", "Yes: the completed outcome was posted as Direct Line activity c1|0000005."),
    ({"runtimeStatus": "Completed", "customStatus": progress("failed", 4),
      "output": {"outcome": {"status": "completed"}, "directLineConversationId": "c1", "directLineActivityId": "",
                 "refusal": {"verdict": "refused", "channelStatus": 404, "channelCode": "ConversationNotFound",
                             "detail": "conversation not found"}}},
     "refused", "No: the conversation's channel refused it (HTTP 404, code ConversationNotFound: conversation "
                "not found)."),
    ({"runtimeStatus": "Completed", "output": {"refusal": {"verdict": "refused", "channelStatus": None}}},
     "refused", "No: the conversation's channel refused it (no answer)."),
    ({"runtimeStatus": "Completed", "output": "done"},
     "unknown", "Unknown: the orchestration completed, but its output does not say where the outcome went."),
    ({"runtimeStatus": "Failed", "customStatus": progress("failed", 4),
      "output": "Could not deliver the completed outcome to the bot after 5 attempts: HTTP 502\n at stack"},
     "undelivered", "No: the orchestration failed: Could not deliver the completed outcome to the bot after 5 "
                    "attempts: HTTP 502"),
    ({"runtimeStatus": "Failed", "output": None}, "undelivered", "No: the orchestration failed."),
    ({"runtimeStatus": "Terminated", "output": "Terminated from the devhost dashboard."},
     "undelivered", "No: terminated (Terminated from the devhost dashboard.)."),
    ({"runtimeStatus": "Canceled"}, "unknown", "Unknown: runtime status Canceled."),
    ({}, "unknown", "Unknown: no runtime status."),
    ("not an instance", "unknown", "Unknown: no runtime status."),
]


def test_whether_the_outcome_reached_the_conversation_is_named_for_every_state() -> None:
    # One node process for all of them.
    assert call(*(("deliveryOf", instance) for instance, _, _ in DELIVERIES)) == [
        {"state": state, "text": text} for _, state, text in DELIVERIES]


def test_the_history_becomes_a_timeline_of_offsets_and_details() -> None:
    history = [
        {"EventType": "ExecutionStarted", "FunctionName": "long_operation", "Timestamp": "2026-12-01T10:00:00.000Z"},
        {"EventType": "TaskCompleted", "FunctionName": "run_operation_step", "Result": {"step": 1, "result": None},
         "Timestamp": "2026-12-01T10:00:01.500Z"},
        {"EventType": "TimerCreated", "FireAt": "2026-12-01T10:01:00Z", "Timestamp": "2026-12-01T10:00:01.600Z"},
        {"EventType": "ExecutionTerminated", "Reason": "by hand", "Timestamp": "2026-12-01T10:00:02Z"},
        "garbage",
    ]
    assert call(("timelineOf", history), ("timelineOf", None)) == [[
        {"type": "ExecutionStarted", "name": "long_operation", "detail": "", "offsetSeconds": 0,
         "timestamp": "2026-12-01T10:00:00.000Z"},
        {"type": "TaskCompleted", "name": "run_operation_step", "detail": '{"step":1,"result":null}',
         "offsetSeconds": 1.5, "timestamp": "2026-12-01T10:00:01.500Z"},
        {"type": "TimerCreated", "name": "", "detail": "fires at 2026-12-01T10:01:00Z", "offsetSeconds": 1.6,
         "timestamp": "2026-12-01T10:00:01.600Z"},
        {"type": "ExecutionTerminated", "name": "", "detail": "by hand", "offsetSeconds": 2,
         "timestamp": "2026-12-01T10:00:02Z"},
        {"type": "unknown event", "name": "", "detail": "", "offsetSeconds": None, "timestamp": ""},
    ], []]


def test_a_refused_terminate_or_purge_with_an_empty_body_is_named() -> None:
    assert call(("refusalOf", "terminate", 404, "op-1"), ("refusalOf", "terminate", 410, "op-1"),
                ("refusalOf", "purge", 404, "op-1"), ("refusalOf", "purge", 412, "op-1")) == [
        "Cannot terminate op-1: the functions host does not know it.",
        "Cannot terminate op-1: it has already finished.",
        "Cannot purge op-1: the functions host does not know it.",
        None]


def test_an_error_answer_becomes_its_own_sentence() -> None:
    running = ("Only orchestrations in a terminal state can be purged, but the orchestration with instance ID x has "
               "status Running")
    assert call(("problemOf", 400, '{"error": "The dashboard does not pass on that."}'),
                ("problemOf", 400, '{"Message": "One or more of the arguments submitted is incorrect", '
                                   '"ExceptionMessage": "top must be a positive integer."}'),
                ("problemOf", 404, '{"Message": "No Durable API route matches GET /x"}'),
                ("problemOf", 412, json.dumps(running)),
                ("problemOf", 500, "<html>oops</html>"),
                ("problemOf", 401, "")) == [
        "The dashboard does not pass on that.", "top must be a positive integer.",
        "No Durable API route matches GET /x", running, "HTTP 500: <html>oops</html>", "HTTP 401"]


def test_every_stage_of_the_contract_is_progress_a_waiting_one_included() -> None:
    stages = [stage.value for stage in Stage]
    assert "waiting" in stages
    assert [found["stage"] for found in call(*(("progressOf", progress(stage)) for stage in stages))] == stages
