"""Emulation of the Durable extension's OutOfProcOrchestrationShim over DurableTask.Core's replay (reference §A7).

The extension does not apply "new" actions: on every episode DurableTask.Core replays the whole history, the shim
re-runs ``foreach action: await Invoke(action)`` (schema V2/V3) or ``await Task.WhenAny(one yield's actions)``
(schema V1, no ``schemaVersion``) against that replay, and what it schedules and history has not recorded yet are
the episode's new decisions (Azure/azure-functions-durable-extension, Listener/OutOfProcOrchestrationShim.cs,
``ProcessAsyncActionsV2`` and ``ProcessAsyncActionsV1``). Ids are handed out in the order the shim reaches each leaf,
interleaved with the completions that wake it up. We replay the same way: a small callback-driven model of the shim,
fed with the history events in order, checked against each recorded decision as DurableTask.Core does
(Azure/durabletask, src/DurableTask.Core/TaskOrchestrationExecutor.cs ``ExecuteCore``/``ProcessEvent``).

Exceptions from awaited tasks are swallowed by the shim, so a task here is only "done", never "raises". What the
shim itself throws (an unknown function name, ``Task.WhenAny`` of nothing, a bad retry option, the custom-status
limit) faults the orchestration; the fault takes effect only once no task is open (``HasOpenTasks``).
"""

import functools
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from devhost.durable import extension_rules as rules
from devhost.durable.extension_rules import ShimFault
from devhost.durable.history import DECISION_TYPES, Event, EventType, kind_of
from devhost.durable.retry_options import parse_retry_options
from devhost.durable.shim_tasks import FIRE_AND_FORGET, ShimTask, done_task, when_all, when_any
from devhost.durable.timefmt import parse

# SetCustomStatus limit (DurableOrchestrationContext.cs ``SetCustomStatus``, MessagePayloadDataConverter.Serialize).
CUSTOM_STATUS_LIMIT_KB: Final = 16
_SCHEMAS: Final = {"Original": 0, "V2": 1, "V3": 2}
_SCHEMA_NAMES: Final = {0: "Original", 1: "V2", 2: "V3"}


class _NonDeterminism(Exception):
    pass


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
    # A timer yielded already cancelled: scheduled, but no longer an open task.
    canceled: bool = False


@dataclass(frozen=True)
class ShimContext:
    name: str  # the instance's orchestrator name, as it was started
    instance_id: str
    execution_id: str
    parent_instance_id: str | None
    functions: rules.KnownFunctions


@dataclass
class ShimResult:
    decisions: dict[int, Decision]
    new_decisions: list[Decision]
    # Activities, sub-orchestrations and uncancelled timers without a completion: DTFx's open tasks (§A7.5).
    open_tasks: int
    # True when the orchestrator said isDone and the shim awaited every action: its result may take effect.
    finished: bool
    continue_as_new_input: str | None = None
    continued_as_new: bool = False
    # Recorded decisions the replay no longer reaches (only tolerated during a rewind).
    orphans: set[int] = field(default_factory=set)
    pending_ids: set[int] = field(default_factory=set)
    # The compact JSON the shim set as custom status; None when there is none or SetCustomStatus threw.
    custom_status: str | None = None
    # The orchestration function faulted: the instance fails with this output once no task is open.
    fault: str | None = None
    # DurableTask.Core's non-determinism: the instance fails with this output now.
    non_deterministic: str | None = None
    suspended: bool = False
    warnings: list[str] = field(default_factory=list)


class ShimReplay:
    def __init__(self, state: dict[str, Any], context: ShimContext, raised: bool = False) -> None:
        self._state = state
        self._context = context
        # The SDK raised (the state came in the exception): TaskOrchestrationShim then lets the shim's own
        # exceptions through unwrapped (InvokeUserCodeAndHandleResults' catch block).
        self._raised = raised
        self._next_id = 0
        self._now: datetime | None = None
        self._allocated: dict[int, Decision] = {}
        self._unmatched: dict[int, Decision] = {}  # DTFx's orchestratorActionsMap
        self._stashed: dict[int, Decision] = {}  # suspendedActionsMap
        self._pending: dict[int, ShimTask] = {}
        self._waiters: dict[str, list[tuple[str, ShimTask]]] = {}
        self._buffered: dict[str, deque[None]] = {}
        self._deferred: list[Event] = []
        self._suspended = False
        self._done = False
        self._fault: str | None = None
        self._warnings: list[str] = []
        self._custom_status: str | None = None
        self._continue_as_new: str | None = None
        self._continued = False
        self._orphans: set[int] = set()
        self._lenient = False

    def run(self, history: list[Event], lenient: bool = False) -> ShimResult:
        self._lenient = lenient
        non_deterministic = None
        try:
            for event in history:
                self._process(event)
        except _NonDeterminism as exc:
            non_deterministic = str(exc)
        new = [] if self._suspended else [d for _, d in sorted(self._unmatched.items())]
        return ShimResult(self._allocated, new, len(self._pending), self._done and self._fault is None,
                          self._continue_as_new, self._continued, self._orphans, set(self._pending),
                          self._custom_status, self._fault, non_deterministic, self._suspended, self._warnings)

    # -- history, as TaskOrchestrationExecutor.ProcessEvent sees it ---------------------------------------------

    def _process(self, event: Event) -> None:
        kind = kind_of(event)
        if kind == EventType.ORCHESTRATOR_STARTED:
            self._now = parse(event["Timestamp"])
            return
        if self._suspended and kind not in (EventType.EXECUTION_RESUMED, EventType.EXECUTION_TERMINATED):
            # HandleEventWhileSuspended: deferred until the resume, in order.
            if kind != EventType.EXECUTION_SUSPENDED:
                self._deferred.append(event)
            return
        if kind == EventType.EXECUTION_STARTED:
            self._start()
        elif kind in (EventType.TASK_COMPLETED, EventType.SUB_ORCHESTRATION_COMPLETED):
            self._complete(int(event["TaskScheduledId"]), failed=False)
        elif kind in (EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_FAILED):
            self._complete(int(event["TaskScheduledId"]), failed=True)
        elif kind == EventType.TIMER_FIRED:
            self._complete(int(event["TimerId"]), failed=False)
        elif kind == EventType.EVENT_RAISED:
            self._raise(str(event.get("Name")), fresh=not event.get("IsPlayed"))
        elif kind in DECISION_TYPES:
            self._match(event)
        elif kind == EventType.EXECUTION_SUSPENDED:
            # HandleExecutionSuspendedEvent: actions not yet recorded wait for the resume.
            self._suspended = True
            self._stashed.update(self._unmatched)
            self._unmatched.clear()
        elif kind == EventType.EXECUTION_RESUMED:
            self._suspended = False
            self._unmatched.update(self._stashed)
            self._stashed.clear()
            deferred, self._deferred = self._deferred, []
            for held in deferred:
                self._process(held)

    def _match(self, event: Event) -> None:
        kind, task_id = kind_of(event), int(event["EventId"])
        if kind == EventType.TIMER_CREATED and task_id == rules.FAKE_TIMER_ID:
            return
        name, version = str(event.get("Name") or ""), str(event.get("Version") or "")
        instance_id = str(event.get("InstanceId") or "")
        made = self._unmatched.get(task_id)
        if made is None:
            if self._lenient:
                self._orphans.add(task_id)
                return
            raise _NonDeterminism(rules.not_yet_scheduled(kind, task_id, name, version, instance_id))
        if made.kind != kind:
            raise _NonDeterminism(rules.other_kind(kind, task_id, name, version, instance_id, made=made.kind))
        if kind in (EventType.TASK_SCHEDULED, EventType.SUB_ORCHESTRATION_CREATED) and \
                not rules.same_name(name, made.name):
            raise _NonDeterminism(rules.other_name(kind, task_id, name, version, instance_id, made=made.name))
        del self._unmatched[task_id]

    def _complete(self, task_id: int, failed: bool) -> None:
        # A completion for a task that is not open (a cancelled timer firing, a duplicate) is ignored.
        task = self._pending.pop(task_id, None)
        if task is not None:
            task.finish(failed)

    def _raise(self, name: str, fresh: bool = False) -> None:
        # DurableOrchestrationContext.RaiseEvent: names are case-insensitive; the NEWEST waiter gets the event
        # (pendingExternalEvents is a stack), or it is buffered FIFO until a wait for that name.
        key = name.casefold()
        waiters = self._waiters.get(key)
        if waiters:
            waited, waiter = waiters.pop()
            if not waiters:
                del self._waiters[key]
            if fresh and waited != name:
                self._warnings.append(
                    f"event '{name}' was raised to orchestration '{self._context.name}', which waits for "
                    f"'{waited}': the Durable extension matches event names ignoring case but the Python SDK does "
                    "not, so the extension counts the wait as done while the orchestrator never sees the event")
            waiter.finish()
        else:
            self._buffered.setdefault(key, deque()).append(None)

    # -- ScheduleDurableTaskEvents ----------------------------------------------------------------------------

    def _start(self) -> None:
        try:
            # result.Json.ToObject<OutOfProcOrchestratorState>(): the retry options convert here, before anything.
            _walk_retry_options(self._state.get("actions"))
            self._set_custom_status(self._state.get("customStatus"))
            schema = _schema(self._state.get("schemaVersion", 0))
            actions = self._state.get("actions")
            if schema in (1, 2):
                if not isinstance(actions, list) or len(actions) != 1:
                    size = len(actions) if isinstance(actions, list) else 0
                    raise ShimFault(f"With OOProc schema {_SCHEMA_NAMES[schema]}, expected actions array to be of "
                                    f"length 1 in outer layer but got size: {size}")
                self._run_v2(list(actions[0] or []), 0)
            elif schema == 0:
                if actions is None:
                    raise ShimFault("Value cannot be null. (Parameter 'Out-of-proc orchestrator schema must have a "
                                    "non-null actions property.')")
                self._run_v1([list(group or []) for group in actions], 0)
            else:
                raise ShimFault(f'The OOProc schema of of version "{schema}" is unsupported by this '
                                "durable-extension version.")
        except ShimFault as fault:
            self._faulted(fault)

    def _set_custom_status(self, status: Any) -> None:
        if status is None:
            return
        # JToken.ToString(Formatting.None): compact JSON, non-ASCII kept; the size is its UTF-16 byte count.
        text = json.dumps(status, ensure_ascii=False, separators=(",", ":"))
        size_kb = int(len(text.encode("utf-16-le")) / 1024.0)
        if size_kb > CUSTOM_STATUS_LIMIT_KB:
            raise ShimFault(f"The UTF-16 size of the JSON-serialized payload must not exceed "
                            f"{CUSTOM_STATUS_LIMIT_KB:,} KB. The current payload size is {size_kb:,} KB.")
        self._custom_status = text

    def _faulted(self, fault: ShimFault) -> None:
        if self._fault is not None:
            return
        # TaskOrchestrationShim wraps what the shim throws as "Orchestrator function '<name>' failed: ...", except
        # on the path where the SDK raised: there only the orchestrator's own error carries that prefix.
        prefix = f"Orchestrator function '{self._context.name}' failed: "
        self._fault = fault.message if fault.prefixed or self._raised else prefix + fault.message
        if fault.warning:
            self._warnings.append(fault.warning)

    def _finish_actions(self) -> None:
        error = self._state.get("error")
        if error:
            raise ShimFault(f"Orchestrator function '{self._context.name}' failed: {error}", prefixed=True)
        if self._state.get("isDone"):
            self._done = True

    def _run_v2(self, actions: list[Any], index: int) -> None:
        if self._fault is not None:
            return
        try:
            while index < len(actions):
                task = self._invoke(actions[index])
                if not task.done:
                    task.then(functools.partial(self._run_v2, actions, index + 1))
                    return
                index += 1
            self._finish_actions()
        except ShimFault as fault:
            self._faulted(fault)

    def _run_v1(self, groups: list[list[Any]], index: int) -> None:
        if self._fault is not None:
            return
        try:
            while index < len(groups):
                # Fire-and-forget actions (continue-as-new) are not awaited; the rest race in a Task.WhenAny.
                tasks = [t for t in (self._invoke(action) for action in groups[index]) if t is not FIRE_AND_FORGET]
                if tasks:
                    first = when_any(tasks)
                    if not first.done:
                        first.then(functools.partial(self._run_v1, groups, index + 1))
                        return
                index += 1
            self._finish_actions()
        except ShimFault as fault:
            self._faulted(fault)

    # -- InvokeAPIFromAction ----------------------------------------------------------------------------------

    def _invoke(self, action: Any) -> ShimTask:
        if not isinstance(action, dict):
            raise ShimFault("Received an unexpected action type from the out-of-proc function: '$'.")
        action_type = action.get("actionType")
        if action_type == 0:
            return self._leaf(self._activity(action))
        if action_type == 1:
            return self._with_retry(action, self._activity)
        if action_type == 2:
            return self._leaf(self._sub_orchestration(action))
        if action_type == 3:
            return self._with_retry(action, self._sub_orchestration)
        if action_type == 4:
            self._continue_as_new = _text(action.get("input"))
            self._continued = True
            return FIRE_AND_FORGET
        if action_type == 5:
            return self._timer(parse(str(action["fireAt"])), bool(action.get("isCanceled")))
        if action_type == 6:
            return self._wait_for_event(str(action.get("externalEventName")))
        if action_type in (11, 12):
            compound = action.get("compoundActions")
            if compound is None:
                raise ShimFault("Value cannot be null. (Parameter 'source')")
            children = [self._invoke(child) for child in compound]
            if action_type == 12:
                return when_all(children)
            if not children:
                # Task.WhenAny of an empty list throws; task_any([]) therefore fails the instance.
                raise ShimFault("The tasks argument contains no tasks. (Parameter 'tasks')",
                                f"orchestration '{self._context.name}' yielded task_any([]): the Durable extension's "
                                "Task.WhenAny throws on an empty list, so the instance fails")
            return when_any(children)
        if action_type in (7, 9, 10):
            raise ShimFault("durable entities are not supported by the devhost functions host")
        if action_type == 8:
            raise ShimFault("call_http (BuiltIn::HttpActivity) is not supported by the devhost functions host")
        raise ShimFault(f"Received an unexpected action type from the out-of-proc function: '${action_type}'.")

    def _take_id(self) -> int:
        task_id = self._next_id
        self._next_id += 1
        return task_id

    def _record(self, decision: Decision) -> None:
        self._allocated[decision.task_id] = decision
        self._unmatched[decision.task_id] = decision

    def _leaf(self, decision: Decision) -> ShimTask:
        task = ShimTask()
        self._record(decision)
        self._pending[decision.task_id] = task
        return task

    def _activity(self, action: dict[str, Any]) -> Decision:
        name = str(action.get("functionName"))
        if self._context.functions.activity(name) is None:
            raise ShimFault(self._context.functions.missing_activity(name),
                            f"orchestration '{self._context.name}' called activity '{name}', which does not exist: "
                            "the Durable extension fails the whole instance (a try/except around the call cannot "
                            "catch it); check the name given to call_activity")
        return Decision(self._take_id(), EventType.TASK_SCHEDULED, name, _text(action.get("input")))

    def _sub_orchestration(self, action: dict[str, Any]) -> Decision:
        name = str(action.get("functionName"))
        if self._context.functions.orchestrator(name) is None:
            raise ShimFault(self._context.functions.missing_orchestrator(name),
                            f"orchestration '{self._context.name}' called sub-orchestrator '{name}', which does not "
                            "exist: the Durable extension fails the whole instance (a try/except around the call "
                            "cannot catch it); check the name given to call_sub_orchestrator")
        instance_id = action.get("instanceId")
        parents = [self._context.instance_id, self._context.parent_instance_id]
        if isinstance(instance_id, str) and any(p is not None and rules.same_name(instance_id, p) for p in parents):
            raise ShimFault("The instance ID of a sub-orchestration must be different than the instance ID of a "
                            "parent orchestration.")
        if isinstance(instance_id, str) and instance_id.startswith("@"):
            # new ArgumentException(nameof(instanceId), "...") swaps message and parameter name.
            raise ShimFault("instanceId (Parameter 'Orchestration instance ids must not start with @')")
        task_id = self._take_id()
        if not instance_id or not str(instance_id).strip():
            # TaskOrchestrationContext.CreateSubOrchestrationInstanceCore: "<executionId>:<taskId>".
            instance_id = f"{self._context.execution_id}:{task_id}"
        return Decision(task_id, EventType.SUB_ORCHESTRATION_CREATED, name, _text(action.get("input")),
                        instance_id=str(instance_id), version=action.get("version"))

    def _timer(self, fire_at: datetime, canceled: bool) -> ShimTask:
        task_id = self._take_id()
        decision = Decision(task_id, EventType.TIMER_CREATED, fire_at=fire_at, canceled=canceled)
        if canceled:
            # The action is recorded, then the token cancels the timer task at once: done, not an open task.
            self._record(decision)
            return done_task()
        return self._leaf(decision)

    def _wait_for_event(self, name: str) -> ShimTask:
        task = ShimTask()
        key = name.casefold()
        self._waiters.setdefault(key, []).append((name, task))
        buffered = self._buffered.get(key)
        if buffered:
            buffered.popleft()
            if not buffered:
                del self._buffered[key]
            self._raise(name)
        return task

    def _with_retry(self, action: dict[str, Any], make: Callable[[dict[str, Any]], Decision]) -> ShimTask:
        """DTFx RetryInterceptor.Invoke: attempt, timer, attempt, ... and a dummy timer after the last failure."""
        options = parse_retry_options(action.get("retryOptions"))
        if options is None:  # no retryOptions at all: the call goes through without retries
            return self._leaf(make(action))
        options.validate_delays()
        first = make(action)  # the name checks run once, before the first attempt
        outcome = ShimTask()
        if options.max_attempts <= 0:  # the retry loop never runs and returns default(T)
            self._next_id = first.task_id
            outcome.finish()
            return outcome
        first_attempt = self._clock()
        count = 0

        def attempt(decision: Decision) -> None:
            child = self._leaf(decision)
            child.then(lambda: attempt_done(child))

        def attempt_done(child: ShimTask) -> None:
            nonlocal count
            if not child.failed:
                outcome.finish()
                return
            now = self._clock()
            if count + 1 == options.max_attempts:
                self._timer(now, canceled=False).then(lambda: outcome.finish(failed=True))
                return
            delay = options.next_delay(count, first_attempt, now)
            if delay <= timedelta(0):
                outcome.finish(failed=True)
                return
            count += 1
            self._timer(now + delay, canceled=False).then(lambda: attempt(make(action)))

        attempt(first)
        return outcome

    def _clock(self) -> datetime:
        if self._now is None:
            raise ShimFault("history has no OrchestratorStarted event")
        return self._now


def _walk_retry_options(actions: Any) -> None:
    stack = [actions]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if item.get("actionType") in (1, 3):
                parse_retry_options(item.get("retryOptions"))
            stack.extend(item.get("compoundActions") or [])


def _schema(value: Any) -> int:
    if isinstance(value, str):
        if value in _SCHEMAS:
            return _SCHEMAS[value]
        if value.strip().lstrip("-").isdigit():
            return int(value)
        raise ShimFault(f"Requested value '{value}' was not found.")
    return int(value or 0)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


__all__ = ["CUSTOM_STATUS_LIMIT_KB", "Decision", "ShimContext", "ShimFault", "ShimReplay", "ShimResult"]
