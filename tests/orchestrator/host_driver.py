"""A minimal Durable host loop for tests: replays the real orchestrator and runs the real activities.

It covers what long_operation needs, one message per episode (§A7's recommended loop): each new leaf action
gets the next id in the order it appears (compound children left to right). A plain activity runs once
through its registered trigger function with the wire encoding (input JSON text in, JSON text out) and its
TaskCompleted or TaskFailed is the next message. A timer awaited alone (a back-off between two attempts, of a
step or of notify_bot) fires at its fireAt, and the driver records how long after the orchestrator's clock it
was set. long_operation makes no call with retry options (the host would make those retries' ids), and the
driver refuses one. Timers raced in a task_any never fire here: tests that need the deadline use the replay
histories in test_workflow.py and the devhost in test_on_devhost.py.
"""

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from devhost.functions.invoker import InvocationContext
from orchestrator import blueprint
from tests.orchestrator.replay import (
    CALL_ACTIVITY,
    CALL_ACTIVITY_WITH_RETRY,
    CREATE_TIMER,
    History,
    OrchestratorState,
    replay,
)

ACTIVITIES: dict[str, Callable[..., Coroutine[Any, Any, Any]]] = {
    "run_operation_step": blueprint.run_operation_step._function.get_user_function(),
    "notify_bot": blueprint.notify_bot._function.get_user_function(),
}


def leaves(actions: list[dict[str, Any]], top_level: bool = True) -> list[tuple[dict[str, Any], bool]]:
    """Every leaf action in id order, each with whether it was yielded on its own (not inside a compound)."""
    found: list[tuple[dict[str, Any], bool]] = []
    for action in actions:
        if action["actionType"] in (CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY, CREATE_TIMER):
            found.append((action, top_level))
        else:
            found.extend(leaves(action.get("compoundActions", []), top_level=False))
    return found


class HostDriver:
    def __init__(self, runner: asyncio.Runner, history: History) -> None:
        self.runner = runner
        self.history = history
        self.next_id = 0
        self.known = 0
        # Activity name -> how many times it ran.
        self.attempts: dict[str, int] = {}
        # Every back-off timer awaited alone, in order: (activity it followed, seconds from the clock to its fireAt).
        self.back_offs: list[tuple[str, float]] = []
        self.last_activity = ""

    def _tick(self) -> datetime:
        return self.history.now + timedelta(milliseconds=100)

    def run(self, max_episodes: int = 100) -> OrchestratorState:
        for _ in range(max_episodes):
            state = replay(self.history)
            if state.is_done or state.error:
                return state
            new = leaves(state.actions)[self.known:]
            self.known += len(new)
            awaited: list[tuple[int, dict[str, Any]]] = []
            for leaf, alone in new:
                if leaf["actionType"] == CREATE_TIMER:
                    self.history.timer_created(self.next_id, datetime.fromisoformat(leaf["fireAt"]))
                    if alone:
                        awaited.append((self.next_id, leaf))
                else:
                    self.history.scheduled(self.next_id, leaf["functionName"], leaf["input"])
                    awaited.append((self.next_id, leaf))
                self.next_id += 1
            assert len(awaited) == 1, f"long_operation waits on one activity or back-off at a time, got {awaited}"
            task_id, action = awaited[0]
            if action["actionType"] == CREATE_TIMER:
                fire = datetime.fromisoformat(action["fireAt"])
                self.back_offs.append((self.last_activity, (fire - self.history.now).total_seconds()))
                self.history.timer_fired(max(self._tick(), fire), task_id, fire)
            elif action["actionType"] == CALL_ACTIVITY:
                self._attempt(task_id, action)
            else:
                raise AssertionError(f"long_operation retries by hand; the host would number this call's retries: "
                                     f"{action}")
        raise AssertionError("the orchestration did not finish")

    def _attempt(self, task_id: int, call: dict[str, Any]) -> bool:
        """Run the activity once and record its TaskCompleted or TaskFailed; whether it succeeded."""
        name = call["functionName"]
        self.last_activity = name
        self.attempts[name] = self.attempts.get(name, 0) + 1
        try:
            result: Any = self.runner.run(ACTIVITIES[name](request=json.loads(call["input"]),
                                                              context=InvocationContext(name, ".")))
        except Exception as error:
            reason = f"Activity function '{name}' failed: {type(error).__name__}: {error}"
            self.history.failed(self._tick(), task_id, reason, json.dumps({"Message": str(error)}))
            return False
        self.history.completed(self._tick(), task_id, result)
        return True
