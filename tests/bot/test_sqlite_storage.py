"""SqliteStorage specifics. The Storage contract it shares with the other stores (eTags, conflicts, a restart)
is tested for every store in test_storage_contract.py."""

import asyncio
from pathlib import Path

from botbuilder.core import StoreItem

from bot.sqlite_storage import SqliteStorage


def test_the_database_file_and_its_directories_are_created(tmp_path: Path) -> None:
    async def main() -> None:
        path = tmp_path / "nested" / "deeper" / "state.sqlite"
        storage = SqliteStorage(path)
        await storage.write({"k": StoreItem(answer=42)})
        storage.close()
        assert path.is_file()
        reopened = SqliteStorage(path)
        assert (await reopened.read(["k"]))["k"].answer == 42
        reopened.close()

    asyncio.run(main())


def test_commits_are_durable_against_a_killed_process_without_an_fsync_each(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "state.sqlite")
    try:
        journal = storage._connection.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = storage._connection.execute("PRAGMA synchronous").fetchone()[0]
    finally:
        storage.close()
    assert (journal, synchronous) == ("wal", 1)  # 1 = NORMAL
