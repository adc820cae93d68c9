"""A minimal Durable host loop for tests: replays the real orchestrator and runs the real activities.

It covers what long_operation needs, one message per episode (§A7's recommended loop): each new leaf action
gets the next id in the order it appears (compound children left to right), the activity runs through its
registered trigger function with the wire encoding (input JSON text in, JSON text out), a failed attempt
is followed by a retry timer that fires at once and then the next attempt, and after the last failed
attempt the extra "dummy" timer (§A3). Race timers never fire here: tests that need the deadline use the
replay histories in test_workflow.py.
"""

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from orchestrator import blueprint
from tests.orchestrator.replay import CALL_ACTIVITY_WITH_RETRY, CREATE_TIMER, History, OrchestratorState, replay

ACTIVITIES: dict[str, Callable[..., Coroutine[Any, Any, Any]]] = {
    "run_operation_step": blueprint.run_operation_step._function.get_user_function(),
    "notify_bot": blueprint.notify_bot._function.get_user_function(),
}


def leaves(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for action in actions:
        if action["actionType"] in (CALL_ACTIVITY_WITH_RETRY, CREATE_TIMER):
            found.append(action)
        else:
            found.extend(leaves(action.get("compoundActions", [])))
    return found


class HostDriver:
    def __init__(self, runner: asyncio.Runner, history: History) -> None:
        self.runner = runner
        self.history = history
        self.next_id = 0
        self.known = 0
        self.attempts: dict[str, int] = {}

    def _tick(self) -> Any:
        return self.history.now + timedelta(milliseconds=100)

    def run(self, max_episodes: int = 100) -> OrchestratorState:
        for _ in range(max_episodes):
            state = replay(self.history)
            if state.is_done or state.error:
                return state
            new = leaves(state.actions)[self.known:]
            self.known += len(new)
            calls = []
            for leaf in new:
                if leaf["actionType"] == CREATE_TIMER:
                    self.history.timer_created(self.next_id, self.history.now)
                else:
                    self.history.scheduled(self.next_id, leaf["functionName"], leaf["input"])
                    calls.append((self.next_id, leaf))
                self.next_id += 1
            assert len(calls) == 1, f"long_operation waits on one activity at a time, got {calls}"
            self._run_with_retries(*calls[0])
        raise AssertionError("the orchestration did not finish")

    def _run_with_retries(self, task_id: int, call: dict[str, Any]) -> None:
        name = call["functionName"]
        attempts = call["retryOptions"]["maxNumberOfAttempts"]
        for attempt in range(1, attempts + 1):
            self.attempts[name] = self.attempts.get(name, 0) + 1
            try:
                result: Any = self.runner.run(ACTIVITIES[name](request=json.loads(call["input"])))
            except Exception as error:
                reason = f"Activity function '{name}' failed: {type(error).__name__}: {error}"
                self.history.failed(self._tick(), task_id, reason, json.dumps({"Message": str(error)}))
                timer_id = self.next_id
                self.next_id += 1
                self.history.timer_created(timer_id, self.history.now)
                self.history.timer_fired(self._tick(), timer_id, self.history.now)
                if attempt < attempts:
                    task_id = self.next_id
                    self.next_id += 1
                    self.history.scheduled(task_id, name, call["input"])
                continue
            self.history.completed(self._tick(), task_id, result)
            return
