"""A question's trace (tests/e2e/trace_chain.py with "tidy files"): ask_bot continues the operation's trace like
notify_bot, and the question's proactive delivery carries the instance id as the outcome's does."""

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
    done = subprocess.run([sys.executable, "-m", "tests.e2e.trace_chain", "tidy files"], cwd=ROOT,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [json.loads(line[len("SPAN "):]) for line in done.stdout.splitlines() if line.startswith("SPAN ")]


def _one(spans: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [span for span in spans if span["name"] == name]
    assert len(found) == 1, [span["name"] for span in spans]
    return found[0]


def test_ask_bot_continues_the_start_calls_trace_and_names_the_asking_step(spans: list[dict[str, Any]]) -> None:
    start_call = _one(spans, "start operation")
    ask = _one(spans, "ask_bot")
    assert ask["trace_id"] == start_call["trace_id"]
    assert (ask["attributes"][INSTANCE_ID], ask["attributes"]["long_operation.step"]) == (
        start_call["attributes"][INSTANCE_ID], 1)


def test_the_questions_delivery_carries_the_instance_id_in_the_events_turn(spans: list[dict[str, Any]]) -> None:
    start_call = _one(spans, "start operation")
    delivery = _one(spans, "deliver question")
    event_turn = next(span for span in spans if span["span_id"] == delivery["parent_id"])
    assert (event_turn["name"], event_turn["attributes"]["botframework.activity_type"]) == ("bot turn", "event")
    assert event_turn["attributes"][INSTANCE_ID] == delivery["attributes"][INSTANCE_ID] == start_call[
        "attributes"][INSTANCE_ID]
    assert delivery["attributes"]["long_operation.step"] == 1
    assert _one(spans, "deliver outcome")["attributes"]["long_operation.status"] == "completed"
