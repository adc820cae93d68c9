"""Emulation of the Durable extension's OutOfProcOrchestrationShim over DTFx replay (reference §A7).

The extension does not apply "new" actions: on every episode it re-runs ``foreach action: await Invoke(action)``
against a DTFx context that replays the whole history. Ids are handed out in the order the shim reaches each leaf,
interleaved with the completions that wake it up (so retry timers and re-attempts take the next id when their
TaskFailed/TimerFired is processed). We replay the same way: a tiny callback-driven model of the shim, fed with
the history events in order. What it allocates and history has not recorded yet are the episode's new decisions.

Exceptions from awaited tasks are swallowed by the shim, so a task here is only "done", never "raises".
"""

import functools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from devhost.durable.history import DECISION_TYPES, Event, EventType, kind_of
from devhost.durable.timefmt import parse


class ShimError(Exception):
    """The orchestration cannot go on: non-determinism or an action the devhost does not support."""


@dataclass
class Decision:
    """A scheduling decision the shim made: an activity, a timer or a sub-orchestration, keyed by id."""

    task_id: int
    kind: EventType
    name: str = ""
    input: str | None = None
    fire_at: datetime | None = None
    instance_id: str | None = None
    version: str | None = None
    # A timer yielded already cancelled: recorded, but it never needs to fire.
    canceled: bool = False


class _Task:
    def __init__(self) -> None:
        self.done = False
        self.failed = False
        self._waiters: list[Callable[[], None]] = []

    def then(self, callback: Callable[[], None]) -> None:
        if self.done:
            callback()
        else:
            self._waiters.append(callback)

    def finish(self, failed: bool = False) -> None:
        if self.done:
            return
        self.done, self.failed = True, failed
        waiters, self._waiters = self._waiters, []
        for callback in waiters:
            callback()


@dataclass
class ShimResult:
    decisions: dict[int, Decision]
    new_decisions: list[Decision]
    # Activities, sub-orchestrations and uncancelled timers without a completion: DTFx's open tasks (§A7.5).
    open_tasks: int
    # True when the shim awaited every action: only then can the orchestrator's result take effect.
    finished: bool
    continue_as_new_input: str | None = None
    continued_as_new: bool = False
    # Recorded decisions the replay no longer reaches (only tolerated during a rewind).
    orphans: set[int] = field(default_factory=set)
    pending_ids: set[int] = field(default_factory=set)


ChildIdFactory = Callable[[int], str]


class ShimReplay:
    def __init__(self, actions: list[Any], child_id: ChildIdFactory) -> None:
        # V2/V3 send [[a1, a2, ...]]; V1 sends one inner list per yield. Both are awaited in order.
        self._actions: list[dict[str, Any]] = [a for group in actions for a in (group or [])]
        self._child_id = child_id
        self._next_id = 0
        self._now: datetime | None = None
        self._allocated: dict[int, Decision] = {}
        self._pending: dict[int, _Task] = {}
        self._waiters: dict[str, deque[_Task]] = {}
        self._buffered: dict[str, deque[None]] = {}
        self._finished = False
        self._continue_as_new: str | None = None
        self._continued = False

    def run(self, history: list[Event], lenient: bool = False) -> ShimResult:
        recorded: dict[int, Event] = {}
        for ev in history:
            kind = kind_of(ev)
            if kind == EventType.ORCHESTRATOR_STARTED:
                self._now = parse(ev["Timestamp"])
            elif kind == EventType.EXECUTION_STARTED:
                self._run_from(0)
            elif kind in (EventType.TASK_COMPLETED, EventType.SUB_ORCHESTRATION_COMPLETED):
                self._complete(int(ev["TaskScheduledId"]), failed=False)
            elif kind in (EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_FAILED):
                self._complete(int(ev["TaskScheduledId"]), failed=True)
            elif kind == EventType.TIMER_FIRED:
                self._complete(int(ev["TimerId"]), failed=False)
            elif kind == EventType.EVENT_RAISED:
                self._raise(str(ev.get("Name")))
            elif kind in DECISION_TYPES:
                recorded[int(ev["EventId"])] = ev
        orphans = self._check_determinism(recorded, lenient)
        new = [d for task_id, d in sorted(self._allocated.items()) if task_id not in recorded]
        return ShimResult(self._allocated, new, len(self._pending), self._finished, self._continue_as_new,
                          self._continued, orphans, set(self._pending))

    # -- the sequential await over the action list -------------------------------------------------------------

    def _run_from(self, index: int) -> None:
        while index < len(self._actions):
            task = self._invoke(self._actions[index])
            if not task.done:
                task.then(functools.partial(self._run_from, index + 1))
                return
            index += 1
        self._finished = True

    def _invoke(self, action: dict[str, Any]) -> _Task:
        action_type = int(action.get("actionType", -1))
        if action_type == 0:
            return self._leaf(Decision(self._take_id(), EventType.TASK_SCHEDULED, str(action["functionName"]),
                                       _text(action.get("input"))))
        if action_type == 2:
            return self._leaf(self._sub_orchestration(action))
        if action_type in (1, 3):
            return self._with_retry(action)
        if action_type == 4:
            self._continue_as_new = _text(action.get("input"))
            self._continued = True
            return _done()
        if action_type == 5:
            return self._timer(parse(str(action["fireAt"])), bool(action.get("isCanceled")))
        if action_type == 6:
            return self._wait_for_event(str(action["externalEventName"]))
        if action_type in (11, 12):
            children = [self._invoke(child) for child in action.get("compoundActions") or []]
            return _when_any(children) if action_type == 11 else _when_all(children)
        if action_type in (7, 9, 10):
            raise ShimError("durable entities are not supported by the devhost functions host")
        if action_type == 8:
            raise ShimError("call_http (BuiltIn::HttpActivity) is not supported by the devhost functions host")
        raise ShimError(f"unknown orchestrator action type {action_type}")

    def _take_id(self) -> int:
        task_id = self._next_id
        self._next_id += 1
        return task_id

    def _leaf(self, decision: Decision) -> _Task:
        task = _Task()
        self._allocated[decision.task_id] = decision
        self._pending[decision.task_id] = task
        return task

    def _sub_orchestration(self, action: dict[str, Any]) -> Decision:
        task_id = self._take_id()
        instance_id = action.get("instanceId") or self._child_id(task_id)
        return Decision(task_id, EventType.SUB_ORCHESTRATION_CREATED, str(action["functionName"]),
                        _text(action.get("input")), instance_id=str(instance_id), version=action.get("version"))

    def _timer(self, fire_at: datetime, canceled: bool) -> _Task:
        task_id = self._take_id()
        decision = Decision(task_id, EventType.TIMER_CREATED, fire_at=fire_at, canceled=canceled)
        if canceled:
            # The .NET timer task is cancelled at once: done, and no longer an open task (§A7.1, §A7.5).
            self._allocated[task_id] = decision
            return _done()
        return self._leaf(decision)

    def _wait_for_event(self, name: str) -> _Task:
        task = _Task()
        buffered = self._buffered.get(name)
        if buffered:
            buffered.popleft()
            task.finish()
        else:
            self._waiters.setdefault(name, deque()).append(task)
        return task

    def _with_retry(self, action: dict[str, Any]) -> _Task:
        """DTFx RetryInterceptor: attempt, timer, attempt, ... and one extra timer after the last failure (§A3)."""
        options = action.get("retryOptions") or {}
        max_attempts = max(1, int(options.get("maxNumberOfAttempts", 1)))
        delay = timedelta(milliseconds=int(options.get("firstRetryIntervalInMilliseconds", 0)))
        outcome = _Task()
        attempts = 0

        def attempt() -> None:
            nonlocal attempts
            attempts += 1
            if int(action["actionType"]) == 1:
                child = self._leaf(Decision(self._take_id(), EventType.TASK_SCHEDULED, str(action["functionName"]),
                                            _text(action.get("input"))))
            else:
                child = self._leaf(self._sub_orchestration(action))
            child.then(lambda: attempt_done(child))

        def attempt_done(child: _Task) -> None:
            if not child.failed:
                outcome.finish()
                return
            now = self._clock()
            # After the last attempt the dummy timer fires at the current time (DTFx back-compat).
            timer = self._timer(now + delay if attempts < max_attempts else now, canceled=False)
            timer.then(timer_fired)

        def timer_fired() -> None:
            if attempts >= max_attempts:
                outcome.finish(failed=True)
            else:
                attempt()

        attempt()
        return outcome

    # -- history events -------------------------------------------------------------------------------------

    def _complete(self, task_id: int, failed: bool) -> None:
        # A completion for a task that is not open (a cancelled timer firing late, a duplicate) is ignored.
        task = self._pending.pop(task_id, None)
        if task is not None:
            task.finish(failed)

    def _raise(self, name: str) -> None:
        # .NET hands each EventRaised to the oldest waiter, or buffers it FIFO per name (§A7.2).
        waiters = self._waiters.get(name)
        if waiters:
            waiters.popleft().finish()
        else:
            self._buffered.setdefault(name, deque()).append(None)

    def _clock(self) -> datetime:
        if self._now is None:
            raise ShimError("history has no OrchestratorStarted event")
        return self._now

    def _check_determinism(self, recorded: dict[int, Event], lenient: bool) -> set[int]:
        for task_id, decision in self._allocated.items():
            past = recorded.get(task_id)
            if past is None:
                continue
            past_kind = kind_of(past)
            past_name = str(past.get("Name") or "")
            if past_kind != decision.kind or (decision.name and past_name != decision.name):
                raise ShimError(
                    "Non-Deterministic workflow detected: a previous execution of this orchestration scheduled "
                    f"{_describe(past_kind, past_name)} with sequence number {task_id}, but the replay now "
                    f"schedules {_describe(decision.kind, decision.name)}. Orchestrator code must be deterministic.")
        orphans = {task_id for task_id in recorded if task_id not in self._allocated}
        if orphans and not lenient:
            task_id = min(orphans)
            past = recorded[task_id]
            raise ShimError(
                "Non-Deterministic workflow detected: a previous execution of this orchestration scheduled "
                f"{_describe(kind_of(past), str(past.get('Name') or ''))} with sequence number {task_id}, "
                "but the replay no longer schedules it. Orchestrator code must be deterministic.")
        return orphans


def _describe(kind: EventType, name: str) -> str:
    label = {EventType.TASK_SCHEDULED: "activity", EventType.TIMER_CREATED: "a timer",
             EventType.SUB_ORCHESTRATION_CREATED: "sub-orchestration", EventType.EVENT_SENT: "an entity message"}
    text = label.get(kind, kind.name)
    return f"{text} '{name}'" if name else text


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _done() -> _Task:
    task = _Task()
    task.finish()
    return task


def _when_all(children: list[_Task]) -> _Task:
    result = _Task()
    remaining = [c for c in children if not c.done]
    if not remaining:
        result.finish()
        return result
    count = len(remaining)

    def one_done() -> None:
        nonlocal count
        count -= 1
        if count == 0:
            result.finish()

    for child in remaining:
        child.then(one_done)
    return result


def _when_any(children: list[_Task]) -> _Task:
    result = _Task()
    if not children or any(c.done for c in children):
        result.finish()
        return result
    for child in children:
        child.then(result.finish)
    return result
