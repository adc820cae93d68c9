"""One turn at a time per conversation across every bot instance on a shared state store: a lease in the store.

Several instances behind a load balancer share one store (App Service scale-out, ``devhost up --bots N``). The
in-process lock (bot/conversation_locks.py) orders the turns of one process; a lease in the store orders them
across processes: a user's "cancel" on one instance and the outcome's turn on another no longer run side by side.

A turn first takes its process's lock (so the turns of one process queue without polling the store), then the
store's lease: ``try_acquire`` until it succeeds, polling with a growing pause, for at most ``wait_limit`` seconds
(then ConversationBusy: the channel gets a 503, the function app's notify retries). The lease lapses
``seconds`` after it was taken or last renewed, so an instance killed mid-turn blocks its conversation for at most
that long; while the turn runs it is renewed every third of that. A renewal that finds the lease gone (the turn
stalled past its lapse and another instance took over) is logged: the state's eTag check at the save is then what
stops the stale turn, and the outcome claim (bot/outcome_claims.py) what stops a second send.

Stores: ``SqliteLeases`` (a row per leased conversation, bot/sqlite_coordination.py) and ``BlobLeases`` (an Azure
Blob lease, bot/blob_coordination.py). The memory store is one process's: its lock is all there is.
"""

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from bot.conversation_locks import ConversationLocks
from bot.errors import ConversationBusy, StorageError

logger = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 15
MIN_LEASE_SECONDS = 1
MAX_LEASE_SECONDS = 60
# Azure's Lease Blob accepts 15-60 seconds (or infinite, which a crash would never let go of).
MIN_BLOB_LEASE_SECONDS = 15
FIRST_POLL_SECONDS = 0.02
MAX_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class LeaseHolder:
    """One hold of one lease: ``lease_id`` is fresh per hold (a GUID, as Azure requires); ``instance`` names the
    process, for the logs and for whoever reads the store."""

    lease_id: str
    instance: str


@dataclass(frozen=True)
class Acquired:
    # Who held the lapsed lease this acquisition replaced, as the store can name them (SQLite: the instance; Blob:
    # "another instance"); "" when it replaced none, or the store cannot tell.
    lapsed_holder: str = ""


class LeaseStore(Protocol):
    async def try_acquire(self, key: str, holder: LeaseHolder, seconds: float, *,
                          refused_before: bool = False) -> Acquired | None:
        """Take the lease unless a live one is held; None when another holder has it. ``refused_before``: this hold
        was refused it already, so a lease there may lapse rather than be released (Blob checks which)."""

    async def renew(self, key: str, holder: LeaseHolder, seconds: float) -> bool:
        """Extend the lease by ``seconds`` from now; False when it is no longer this holder's."""

    async def release(self, key: str, holder: LeaseHolder) -> None:
        """Give the lease up, if still this holder's."""


def this_instance() -> str:
    """This process, as lease rows name it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class ConversationLeases:
    """The process's lock, then (with a ``store``) the store's lease. ``hold(key)`` for the length of a turn."""

    def __init__(self, store: LeaseStore | None = None, seconds: float = DEFAULT_LEASE_SECONDS,
                 instance: str | None = None) -> None:
        self._locks = ConversationLocks()
        self._store = store
        self.seconds = seconds
        self.instance = instance or this_instance()

    @property
    def wait_limit(self) -> float:
        # A holder that died lets go within one lease; a live one renews. Twice that is a stuck conversation.
        return 2 * self.seconds

    @property
    def shared(self) -> bool:
        return self._store is not None

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with self._locks.hold(key):
            if self._store is None:
                yield
                return
            holder = LeaseHolder(str(uuid.uuid4()), self.instance)
            await self._acquire(self._store, key, holder)
            renewer = asyncio.create_task(self._renew_periodically(self._store, key, holder),
                                          name=f"lease-renewal {key}")
            try:
                yield
            finally:
                renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewer
                try:
                    await self._store.release(key, holder)
                except StorageError as error:
                    # It lapses by itself; the next turn of this conversation waits until then at most.
                    logger.warning("could not release the conversation lease key=%s: %s", key, error)

    def __len__(self) -> int:
        return len(self._locks)

    async def _acquire(self, store: LeaseStore, key: str, holder: LeaseHolder) -> None:
        started = time.monotonic()
        pause = FIRST_POLL_SECONDS
        refused = False
        while True:
            acquired = await store.try_acquire(key, holder, self.seconds, refused_before=refused)
            if acquired is not None:
                if acquired.lapsed_holder:
                    logger.warning("conversation lease taken over from %s, whose lease lapsed key=%s",
                                   acquired.lapsed_holder, key)
                return
            refused = True
            waited = time.monotonic() - started
            if waited >= self.wait_limit:
                raise ConversationBusy(key, round(waited, 1))
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_POLL_SECONDS)

    async def _renew_periodically(self, store: LeaseStore, key: str, holder: LeaseHolder) -> None:
        while True:
            await asyncio.sleep(self.seconds / 3)
            try:
                still_held = await store.renew(key, holder, self.seconds)
            except StorageError as error:
                logger.warning("could not renew the conversation lease key=%s: %s", key, error)
                continue
            if not still_held:
                logger.warning("the conversation lease lapsed while its turn ran (another instance may have taken "
                               "it) key=%s", key)
                return
