"""Turn slots: at most N turns compute at once; the others wait their turn in arrival order.

Why: the bot is one Python process, so its turns share one core. Unbounded, a burst of turns interleaves at every
``await`` (processor sharing): with 500 turns in flight each one advances a five-hundredth at a time, so every user
waits for nearly the whole burst, and a proactive outcome that arrives mid-burst is stretched the same way. Served
in arrival order, a few at a time, the early ones finish early and a newcomer waits only for the queue ahead of it.
Measured with ``python -m bench system --users 500`` (all at once): completion overhead p99 1.3-1.7 s -> 1.0 s
on their own (0.35-0.8 s with the carrier conversation of orchestrator/carrier.py).

A slot is held only while the turn computes. While it waits on the network (the function app, the channel's Bot
Connector, blob storage) it gives the slot back (``network_wait``), so a slow or unreachable peer cannot block
everyone else's turns; it then gets a slot again AHEAD of turns that have not started, so a turn that already began
(and may hold its conversation's lock) is finished before new work is taken on.

Deadlock-free by construction: a turn takes its conversation lock BEFORE its slot (see LongOperationBot.on_turn), and
a slot holder never waits for anything that needs a slot, only for CPU, the SQLite thread or, slot released, the
network. Only the task that took the slot may give it back: a child task (asyncio copies context variables into
tasks it creates) sees that it is not the owner and leaves the slot alone.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

DEFAULT_TURN_SLOTS = 8
MAX_TURN_SLOTS = 1024


@dataclass(frozen=True)
class _Held:
    slots: "TurnSlots"
    owner: asyncio.Task[object] | None


_HELD: ContextVar[_Held | None] = ContextVar("turn_slot_held", default=None)


class TurnSlots:
    def __init__(self, limit: int = DEFAULT_TURN_SLOTS) -> None:
        if not 1 <= limit <= MAX_TURN_SLOTS:
            raise ValueError(f"turn slots must be 1-{MAX_TURN_SLOTS}, got {limit}")
        self.limit = limit
        self._free = limit
        # Turns coming back from the network are served before turns that have not started.
        self._resuming: deque[asyncio.Future[None]] = deque()
        self._new: deque[asyncio.Future[None]] = deque()

    @property
    def busy(self) -> int:
        return self.limit - self._free

    @property
    def waiting(self) -> int:
        return sum(1 for queue in (self._resuming, self._new) for waiter in queue if not waiter.done())

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold a slot for the body; re-entrant (a turn inside a turn keeps the slot it has)."""
        held = _HELD.get()
        if held is not None and held.slots is self and held.owner is asyncio.current_task():
            yield
            return
        await self._acquire(self._new)
        token = _HELD.set(_Held(self, asyncio.current_task()))
        try:
            yield
        finally:
            _HELD.reset(token)
            self._release()

    async def _acquire(self, queue: deque[asyncio.Future[None]]) -> None:
        # A free slot means no live waiter: _release hands a slot straight to the first live waiter if there is one.
        if self._free > 0:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # The slot was handed over just as the wait was cancelled: pass it on, do not leak it.
                self._release()
            raise
        # _release handed its slot straight to this waiter: _free was not incremented, so nothing to take.

    def _release(self) -> None:
        for queue in (self._resuming, self._new):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._free += 1


@asynccontextmanager
async def network_wait() -> AsyncIterator[None]:
    """Around an await on the network inside a turn: give the slot back meanwhile, and take one again after."""
    held = _HELD.get()
    if held is None or held.owner is not asyncio.current_task():
        yield
        return
    held.slots._release()
    try:
        yield
    finally:
        # Not interruptible half-way: a cancelled wait for the slot must not leave this turn running without one.
        await _reacquire(held.slots)


async def _reacquire(slots: TurnSlots) -> None:
    acquiring = asyncio.ensure_future(slots._acquire(slots._resuming))
    try:
        await asyncio.shield(acquiring)
    except asyncio.CancelledError:
        # The turn is being cancelled: still own a slot again before unwinding, since turn()'s finally releases one.
        await acquiring
        raise
