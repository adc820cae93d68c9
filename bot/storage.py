"""The state store named by the BotStateStore setting, and closing it when the app stops."""

import inspect
import time

from botbuilder.core import Storage

from bot.errors import SettingsError, StorageError
from bot.memory_storage import ExpiringMemoryStorage
from bot.settings import BotSettings, parse_state_store
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
