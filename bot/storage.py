"""The state store named by the BotStateStore setting."""

from botbuilder.core import MemoryStorage, Storage

from bot.settings import parse_state_store
from bot.sqlite_storage import SqliteStorage


def create_storage(state_store: str) -> Storage:
    """``memory`` (lost on restart; tests, quick trials) or ``sqlite:<path>`` (survives a restart)."""
    path = parse_state_store(state_store)
    if path is None:
        return MemoryStorage()
    return SqliteStorage(path)
