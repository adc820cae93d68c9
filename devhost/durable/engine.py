"""The engine: dispatches inbox messages, activities and timers on one event loop, state in SQLite.

Threads: ONE database thread owns the SQLite connection and also runs orchestrator replays (an episode is read
history -> replay -> commit, so one thread hop per episode). SQLite has a single writer anyway and replay is
CPU-only Python (the GIL would serialise it), so more threads would only add contention; the event loop stays
free for HTTP and async activities. Sync activities run in the worker's own thread pool. Measured with
``python -m bench durable`` on 2 cores: ~1 ms median from an activity's completion to the next one's start at
100 orchestrations/s, ~200 orchestrations/s in a burst.

New work is dispatched the moment its commit returns (in-process notification, no polling); timers are loop
``call_later`` handles. Per-instance serialisation: at most one episode per instance runs at a time. A trip to the
database thread costs about 0.2 ms of CPU (a thread hop and a loop wake-up), so an activity's completion is
committed in the trip of the episode it wakes, and no empty episode follows each one to look for leftovers.
"""

import asyncio
import json
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from devhost.durable import history as h
from devhost.durable.db_thread import DatabaseThread, Lane
from devhost.durable.episode import Episode, run_episode
from devhost.durable.store import ActivityItem, Changes, Committed, NewMessage, Store
from devhost.durable.timefmt import to_epoch, to_timespan, utc_now
from devhost.durable.trace_context import activity_context
from devhost.durable.worker import ActivityFailure, Worker

log = logging.getLogger(__name__)
T = TypeVar("T")
# An episode that raised is retried with backoff: a transient fault (a locked or full disk) heals by itself, and a
# host bug neither spins the loop nor floods the log.
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 60.0


@dataclass(frozen=True)
class EngineSettings:
    db_path: Path
    # host.json functionTimeout: activities running longer fail with a clear reason (None = no limit).
    function_timeout: timedelta | None = None
    # host.json's Durable distributed tracing V2: instances keep their starter's trace (devhost/functions/config.py).
    distributed_tracing: bool = False


class Engine:
    def __init__(self, settings: EngineSettings, worker: Worker) -> None:
        self.settings = settings
        self.worker = worker
        self._db = DatabaseThread("devhost-durable-db")
        self._store: Store | None = None
        self._driving: set[str] = set()
        self._dirty: set[str] = set()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._failures: dict[str, int] = {}  # instance id -> episodes that raised in a row
        self._closed = False

    async def start(self) -> None:
        """Open the task hub and re-dispatch everything that was pending when the last process stopped."""
        self._store = await self._db.run(Lane.CLIENT, lambda: Store(self.settings.db_path))
        activities = await self.run_db(lambda store: store.all_activities())
        due = await self.run_db(lambda store: store.all_messages())
        if activities or due:
            log.info("recovering %d activities and %d pending message times", len(activities), len(due))
        for item in activities:
            self._start_activity(item)
        for instance_id, at in due:
            self._wake(instance_id, at)

    async def close(self) -> None:
        self._closed = True
        for handle in self._timers:
            handle.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._store is not None:
            await self.run_db(lambda store: store.close())
        self._db.stop()

    # -- database thread ------------------------------------------------------------------------------------

    async def run_db(self, fn: Callable[..., T], *args: Any, lane: Lane = Lane.CLIENT) -> T:
        """Run ``fn(store, *args)`` on the database thread. A client's request (a start, an event, a query) goes
        ahead of the orchestration work queued there: episodes and completions (devhost/durable/db_thread.py)."""
        store = self._require_store()
        return await self._db.run(lane, lambda: fn(store, *args))

    def _require_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the engine is not started")
        return self._store

    # -- dispatch -------------------------------------------------------------------------------------------

    def dispatch(self, committed: Committed) -> None:
        """Act on what a commit created: start activities, wake instances (now or at their timer)."""
        for item in committed.activities:
            self._start_activity(item)
        for message in committed.messages:
            self._wake(message.instance_id, message.due)

    def _wake(self, instance_id: str, due: float) -> None:
        delay = due - time.time()
        if delay <= 0:
            self.poke(instance_id)
            return
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            if handle is not None:
                self._timers.discard(handle)
            # ``due`` is wall-clock time but call_later counts on the loop's monotonic clock: if the wall clock
            # was set back meanwhile, this fires before the message is due and the episode would find nothing
            # to do, with nothing left to wake the instance. Wait out the rest instead.
            self._wake(instance_id, due)

        # Timers fire late rather than early: a hair of slack covers clock rounding.
        handle = loop.call_later(delay + 0.002, fire)
        self._timers.add(handle)

    def poke(self, instance_id: str) -> None:
        if self._closed:
            return
        if instance_id in self._driving:
            self._dirty.add(instance_id)
            return
        self._driving.add(instance_id)
        self._spawn(self._drive(instance_id))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drive(self, instance_id: str, completion: Changes | None = None) -> None:
        try:
            while not self._closed:
                self._dirty.discard(instance_id)
                if completion is None:
                    episode = await self.run_db(run_episode, self.worker, instance_id, utc_now(),
                                                lane=Lane.ORCHESTRATION)
                else:
                    committed, episode = await self.run_db(_complete_then_episode, self.worker, instance_id,
                                                           completion, lane=Lane.ORCHESTRATION)
                    completion = None
                    if episode.committed is None:
                        # The completion was not due yet (the wall clock went back): wake the instance when it is.
                        self.dispatch(committed)
                if episode.committed is not None:
                    self.dispatch(episode.committed)
                # Another episode only when this one left due messages or new ones came meanwhile (dispatch above
                # included): an empty one after each would cost a thread hop and a query per episode.
                if not episode.more and instance_id not in self._dirty:
                    break
            self._failures.pop(instance_id, None)
        except Exception:
            # A bug must not take the host down; the messages stay (the episode's transaction never committed),
            # so wake the instance again later or nothing would until the next restart.
            failures = self._failures.get(instance_id, 0) + 1
            self._failures[instance_id] = failures
            retry_in = min(RETRY_FIRST_SECONDS * 2 ** min(failures - 1, 10), RETRY_MAX_SECONDS)
            log.exception("episode failed; retrying in %.1f s", retry_in, extra={"instance_id": instance_id})
            self._wake(instance_id, time.time() + retry_in)
        finally:
            self._driving.discard(instance_id)

    # -- activities -----------------------------------------------------------------------------------------

    def _start_activity(self, item: ActivityItem) -> None:
        self._spawn(self._run_activity(item))

    async def _run_activity(self, item: ActivityItem) -> None:
        timeout = self.settings.function_timeout
        try:
            trace = activity_context(None if item.trace_context is None else json.loads(item.trace_context))
            run = self.worker.run_activity(item.name, item.input, trace)
            result = await (asyncio.wait_for(run, timeout.total_seconds()) if timeout else run)
            event = h.task_completed(utc_now(), item.task_id, result)
        except ActivityFailure as failure:
            event = h.task_failed(utc_now(), item.task_id, failure.reason, failure.details)
        except TimeoutError:
            # FunctionTimeoutException's message, with the TimeSpan in .NET's "c" format (00:05:00).
            reason = (f"Activity function '{item.name}' failed: Timeout value of {to_timespan(timeout)} was exceeded "
                      f"by function: Functions.{item.name}")
            event = h.task_failed(utc_now(), item.task_id, reason, "")
        except Exception as exc:  # the worker wraps user errors; this is a host bug, still report it
            event = h.task_failed(utc_now(), item.task_id, f"Activity function '{item.name}' failed: {exc!r}",
                                  traceback.format_exc())
        changes = Changes(done_activities=[item.id],
                          new_messages=[NewMessage(item.instance_id, item.execution_id, to_epoch(utc_now()), event)])
        if self._closed or item.instance_id in self._driving:
            # The running drive picks the completion up (dispatch marks the instance dirty).
            self.dispatch(await self.run_db(lambda store: store.commit(changes), lane=Lane.ORCHESTRATION))
            return
        # Nothing drives the instance: commit the completion and run the episode it is due for in one trip to the
        # database thread (a trip costs about as much CPU as a small episode's own devhost work).
        self._driving.add(item.instance_id)
        await self._drive(item.instance_id, changes)


def _complete_then_episode(store: Store, worker: Worker, instance_id: str, completion: Changes,
                           ) -> tuple[Committed, Episode]:
    """Commit an activity's completion, then run the instance's episode (which reads it from the inbox)."""
    committed = store.commit(completion)
    return committed, run_episode(store, worker, instance_id, utc_now())
