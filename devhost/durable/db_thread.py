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
import contextlib
import enum
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Lane(enum.IntEnum):
    # Lower values are served first.
    CLIENT = 0
    ORCHESTRATION = 1


_Job = tuple[int, int, Callable[[], Any] | None, "asyncio.Future[Any] | None", "asyncio.AbstractEventLoop | None"]


class DatabaseThread:
    def __init__(self, name: str) -> None:
        self._jobs: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()
        self._stopped = False

    async def run(self, lane: Lane, fn: Callable[[], T]) -> T:
        """``fn()`` on the thread, after every job queued earlier on its lane or on a lane served before it."""
        if self._stopped:
            raise RuntimeError("the database thread is stopped")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((int(lane), next(self._order), fn, future, loop))
        return await future

    def stop(self) -> None:
        """Serve what is queued, then end the thread (waits for it)."""
        if self._stopped:
            return
        self._stopped = True
        # Behind everything queued on every lane.
        self._jobs.put((len(Lane), next(self._order), None, None, None))
        self._thread.join()

    def _serve(self) -> None:
        while True:
            _, _, fn, future, loop = self._jobs.get()
            if fn is None or future is None or loop is None:
                return
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
