"""The engine's one database thread, serving client requests before orchestration work.

One thread owns the SQLite connection and also runs orchestrator replays (devhost/durable/engine.py says why). A
plain one-worker ThreadPoolExecutor serves its queue in arrival order, so under a burst a client request (a start,
an event, a status query) waited behind every episode already queued: 1,000 users starting operations at once
saw their starts answered later and later while the first instances' episodes ran ahead of them.

The real extension has no such queue between the two. DurableTask.AzureStorage's client writes a start to the
Instances table and the control queue itself (AzureStorageOrchestrationService.CreateTaskOrchestrationAsync), and
a status query reads the table, while orchestration work waits in the control queues for the dispatcher
(maxConcurrentOrchestratorFunctions). So here client work goes first, orchestration work in arrival order after it;
within each lane the order is arrival order, and nothing starves for long: an episode takes milliseconds and
client requests come from people and bots, not in an endless stream.
"""

import asyncio
import collections
import contextlib
import enum
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Lane(enum.IntEnum):
    # Lower values are served first.
    CLIENT = 0
    ORCHESTRATION = 1


# Client jobs served in a row while orchestration work waits; then one orchestration job. Strict priority would
# starve the orchestrations behind a client that polls without pause (a status poller, a dashboard): the bench's
# settle loop did, leaving instances Running for a minute after their results arrived.
CLIENT_JOBS_PER_ORCHESTRATION_JOB = 4

_Job = tuple[Callable[[], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop]


class DatabaseThread:
    def __init__(self, name: str) -> None:
        self._lanes: dict[Lane, collections.deque[_Job]] = {lane: collections.deque() for lane in Lane}
        self._ready = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    async def run(self, lane: Lane, fn: Callable[[], T]) -> T:
        """``fn()`` on the thread, after the jobs queued earlier on its lane; client jobs go ahead of orchestration
        jobs, up to CLIENT_JOBS_PER_ORCHESTRATION_JOB in a row."""
        if self._stopped:
            raise RuntimeError("the database thread is stopped")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._ready:
            self._lanes[lane].append((fn, future, loop))
            self._ready.notify()
        return await future

    def stop(self) -> None:
        """Serve what is queued, then end the thread (waits for it)."""
        if self._stopped:
            return
        with self._ready:
            self._stopped = True
            self._ready.notify()
        self._thread.join()

    def _next(self, client_run: int) -> tuple[_Job | None, int]:
        clients, orchestration = self._lanes[Lane.CLIENT], self._lanes[Lane.ORCHESTRATION]
        with self._ready:
            while not clients and not orchestration:
                if self._stopped:
                    return None, 0
                self._ready.wait()
            if clients and (not orchestration or client_run < CLIENT_JOBS_PER_ORCHESTRATION_JOB):
                return clients.popleft(), client_run + 1
            return orchestration.popleft(), 0

    def _serve(self) -> None:
        client_run = 0
        while True:
            job, client_run = self._next(client_run)
            if job is None:
                return
            fn, future, loop = job
            try:
                result = fn()
            except BaseException as error:  # handed to the awaiting coroutine, as run_in_executor does
                _hand_back(loop, _settle_error, future, error)
            else:
                _hand_back(loop, _settle, future, result)


def _hand_back(loop: asyncio.AbstractEventLoop, settle: Callable[..., None], *args: Any) -> None:
    # RuntimeError: the loop closed while the job ran, and nobody is waiting any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle, *args)


def _settle(future: "asyncio.Future[Any]", result: Any) -> None:
    if not future.cancelled():
        future.set_result(result)


def _settle_error(future: "asyncio.Future[Any]", error: BaseException) -> None:
    if not future.cancelled():
        future.set_exception(error)
