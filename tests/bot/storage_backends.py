"""The state stores under one roof, so the same contract tests run against each (test_storage_contract.py)."""

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from botbuilder.core import Storage

from bot.blob_storage import BlobStorage
from bot.sqlite_storage import SqliteStorage
from bot.state_expiry import SECONDS_PER_DAY, StateExpiry
from bot.storage import close_storage
from tests.bot.azurite import Azurite
from tests.bot.harness import CopyingMemoryStorage

ALL = ["memory", "sqlite", "blob"]
# Stores with eTag optimistic concurrency and data that outlives the storage object.
DURABLE = ["sqlite", "blob"]


# The stores' expiry in these tests: ConversationStateDays' default.
TIME_TO_LIVE = 30 * SECONDS_PER_DAY


@dataclass
class FakeClock:
    """The stores' clock, moved by the test: expiry without waiting. Starts at the real time, so that a blob's
    Last-Modified (Azurite's clock) and this clock agree; on a whole second, as a blob's stamp keeps microseconds."""

    now: float = field(default_factory=lambda: float(int(time.time())))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Backend:
    name: str
    open: Callable[[], Storage]
    """A new storage object over the same data (as after a restart); memory has no such thing."""
    clock: FakeClock

    @property
    def has_etags(self) -> bool:
        return self.name in DURABLE


def new_container() -> str:
    return f"state-{uuid.uuid4().hex[:20]}"


def make_backend(
    name: str, tmp_path: Path, azurite: Callable[[], Azurite], time_to_live: float = TIME_TO_LIVE
) -> Backend:
    """``azurite`` is called only for the blob backend, so the other backends never start it. Every store expires
    items ``time_to_live`` seconds after their last write by the backend's clock."""
    clock = FakeClock()
    expiry = StateExpiry(time_to_live, clock)
    if name == "memory":
        memory = CopyingMemoryStorage(expiry)
        return Backend(name, lambda: memory, clock)
    if name == "sqlite":
        path = tmp_path / "state.sqlite"
        return Backend(name, lambda: SqliteStorage(path, expiry), clock)
    if name == "blob":
        connection = azurite().connection_string()
        container = new_container()
        return Backend(name, lambda: BlobStorage(connection, container, expiry=expiry), clock)
    raise AssertionError(f"no such backend {name!r}")


@asynccontextmanager
async def opened(backend: Backend) -> AsyncIterator[Storage]:
    """A storage object over the backend's data, closed (as the app's cleanup does) when the block ends."""
    storage = backend.open()
    try:
        yield storage
    finally:
        await close_storage(storage)
