"""The state store named by the BotStateStore setting, and closing it when the app stops."""

import inspect

from botbuilder.core import MemoryStorage, Storage

from bot.errors import SettingsError, StorageError
from bot.settings import BotSettings, parse_state_store
from bot.sqlite_storage import SqliteStorage


def create_storage(settings: BotSettings) -> Storage:
    """``memory`` (lost on restart; tests, quick trials), ``sqlite:<path>`` (survives a restart, no Azure) or
    ``blob:<container>`` (Azure Blob Storage, with the BotStateConnection connection string)."""
    store = parse_state_store(settings.state_store)
    if store.kind == "sqlite":
        try:
            return SqliteStorage(store.location)
        except StorageError as error:
            raise SettingsError("BotStateStore", str(error)) from None
    if store.kind == "blob":
        # Imported here: the Azure SDK is loaded only by a bot that keeps its state in Azure.
        from bot.blob_storage import BlobStorage

        try:
            return BlobStorage(settings.state_connection, store.location)
        except StorageError:
            raise SettingsError("BotStateConnection", "is not a valid Azure Storage connection string") from None
    return MemoryStorage()


async def close_storage(storage: Storage) -> None:
    """Release what a store holds (a database connection, an HTTP connection pool); a no-op for MemoryStorage."""
    close = getattr(storage, "close", None)
    if close is None:
        return
    result = close()
    if inspect.isawaitable(result):
        await result
