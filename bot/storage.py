"""The state store named by the BotStateStore setting, its leases for several bot instances, and closing both."""

import inspect
import sys
import time
from dataclasses import dataclass

from botbuilder.core import Storage

from bot.conversation_leases import ConversationLeases
from bot.errors import SettingsError, StorageError
from bot.memory_storage import ExpiringMemoryStorage
from bot.outcome_claims import MemoryClaims, OutcomeClaims
from bot.settings import BotSettings, parse_state_store
from bot.sqlite_coordination import SqliteClaims, SqliteCoordination, SqliteLeases
from bot.sqlite_storage import SqliteStorage
from bot.state_expiry import Clock, StateExpiry


def create_storage(settings: BotSettings, clock: Clock = time.time) -> Storage:
    """``memory`` (lost on restart; tests, quick trials), ``sqlite:<path>`` (survives a restart, no Azure) or
    ``blob:<container>`` (Azure Blob Storage, with the BotStateConnection connection string). Every store expires
    an item ConversationStateDays after its last write by ``clock`` and has ``sweep_expired`` (bot/state_expiry.py).
    """
    store = parse_state_store(settings.state_store)
    expiry = StateExpiry.of_days(settings.conversation_state_days, clock)
    if store.kind == "sqlite":
        try:
            return SqliteStorage(store.location, expiry)
        except StorageError as error:
            raise SettingsError("BotStateStore", str(error)) from None
    if store.kind == "blob":
        # Imported here: the Azure SDK is loaded only by a bot that keeps its state in Azure.
        from bot.blob_storage import BlobStorage

        try:
            return BlobStorage(settings.state_connection, store.location, expiry=expiry)
        except StorageError:
            raise SettingsError("BotStateConnection", "is not a valid Azure Storage connection string") from None
    return ExpiringMemoryStorage(expiry)


async def close_storage(storage: Storage) -> None:
    """Release what a store holds (a database connection, an HTTP connection pool); a no-op for MemoryStorage."""
    close = getattr(storage, "close", None)
    if close is None:
        return
    result = close()
    if inspect.isawaitable(result):
        await result


@dataclass
class Coordination:
    """What keeps the bot instances on one store from acting on a conversation at once."""

    leases: ConversationLeases
    claims: OutcomeClaims
    # The SQLite file's coordination tables: closed with the app, and swept (their claims) as the state is.
    sqlite: SqliteCoordination | None = None

    def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()


def create_coordination(settings: BotSettings, storage: Storage, clock: Clock = time.time) -> Coordination:
    """Leases and outcome claims in the store the state is in: rows in the SQLite file, blob leases and blobs in the
    container. A memory store (or a store a test passed in) is one process's: its lock and claims are in memory."""
    seconds = settings.lease_seconds
    if isinstance(storage, SqliteStorage):
        expiry = StateExpiry.of_days(settings.conversation_state_days, clock)
        sqlite = SqliteCoordination(storage.path, clock, expiry, storage=storage)
        return Coordination(ConversationLeases(SqliteLeases(sqlite), seconds), SqliteClaims(sqlite), sqlite)
    # bot.blob_storage is imported only by a bot that keeps its state in Azure: without it, no store is a BlobStorage.
    blob_storage = sys.modules.get("bot.blob_storage")
    if blob_storage is not None and isinstance(storage, blob_storage.BlobStorage):
        from bot.blob_coordination import BlobClaims, BlobLeases

        return Coordination(ConversationLeases(BlobLeases(storage.container), seconds),
                            BlobClaims(storage.container, clock))
    return Coordination(ConversationLeases(),
                        MemoryClaims(StateExpiry.of_days(settings.conversation_state_days, clock)))
