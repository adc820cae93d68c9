"""The shim's awaitables: a task that is only ever "done" (the shim swallows failures), WhenAll and WhenAny."""

from collections.abc import Callable
from typing import Final


class ShimTask:
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


def done_task() -> ShimTask:
    task = ShimTask()
    task.finish()
    return task


FIRE_AND_FORGET: Final = done_task()


def when_all(children: list[ShimTask]) -> ShimTask:
    result = ShimTask()
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


def when_any(children: list[ShimTask]) -> ShimTask:
    result = ShimTask()
    if any(c.done for c in children):
        result.finish()
        return result
    for child in children:
        child.then(result.finish)
    return result
