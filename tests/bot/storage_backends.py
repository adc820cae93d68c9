"""The state stores under one roof, so the same contract tests run against each (test_storage_contract.py)."""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from botbuilder.core import Storage

from bot.blob_storage import BlobStorage
from bot.sqlite_storage import SqliteStorage
from bot.storage import close_storage
from tests.bot.azurite import Azurite
from tests.bot.harness import CopyingMemoryStorage

ALL = ["memory", "sqlite", "blob"]
# Stores with eTag optimistic concurrency and data that outlives the storage object.
DURABLE = ["sqlite", "blob"]


@dataclass
class Backend:
    name: str
    open: Callable[[], Storage]
    """A new storage object over the same data (as after a restart); memory has no such thing."""

    @property
    def has_etags(self) -> bool:
        return self.name in DURABLE


def new_container() -> str:
    return f"state-{uuid.uuid4().hex[:20]}"


def make_backend(name: str, tmp_path: Path, azurite: Callable[[], Azurite]) -> Backend:
    """``azurite`` is called only for the blob backend, so the other backends never start it."""
    if name == "memory":
        memory = CopyingMemoryStorage()
        return Backend(name, lambda: memory)
    if name == "sqlite":
        path = tmp_path / "state.sqlite"
        return Backend(name, lambda: SqliteStorage(path))
    if name == "blob":
        connection = azurite().connection_string()
        container = new_container()
        return Backend(name, lambda: BlobStorage(connection, container))
    raise AssertionError(f"no such backend {name!r}")


@asynccontextmanager
async def opened(backend: Backend) -> AsyncIterator[Storage]:
    """A storage object over the backend's data, closed (as the app's cleanup does) when the block ends."""
    storage = backend.open()
    try:
        yield storage
    finally:
        await close_storage(storage)
