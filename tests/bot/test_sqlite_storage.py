"""SqliteStorage specifics. The Storage contract it shares with the other stores (eTags, conflicts, a restart)
is tested for every store in test_storage_contract.py."""

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from botbuilder.core import StoreItem

from bot.errors import StorageError
from bot.sqlite_storage import SqliteStorage
from bot.state_expiry import SWEEP_BATCH, StateExpiry
from tests.bot.storage_backends import TIME_TO_LIVE, FakeClock


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


class ThreadRecordingStorage(SqliteStorage):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.threads: set[str] = set()

    def _read(self, keys: list[str]) -> dict[str, object]:
        self.threads.add(threading.current_thread().name)
        return super()._read(keys)

    def _write(self, changes: dict[str, object]) -> None:
        self.threads.add(threading.current_thread().name)
        super()._write(changes)


def test_a_burst_of_calls_runs_on_the_stores_one_thread_not_the_loops_pool(tmp_path: Path) -> None:
    storage = ThreadRecordingStorage(tmp_path / "state.sqlite")

    async def burst() -> None:
        await asyncio.gather(*(storage.write({f"key-{n}": {"n": n}}) for n in range(50)))
        found = await asyncio.gather(*(storage.read([f"key-{n}"]) for n in range(50)))
        assert [item[f"key-{n}"]["n"] for n, item in enumerate(found)] == list(range(50))

    try:
        asyncio.run(burst())
    finally:
        storage.close()
    assert len(storage.threads) == 1
    assert storage.threads.pop().startswith("bot-sqlite")


def test_a_failure_of_sqlite_is_a_storage_error_with_its_cause(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    storage = SqliteStorage(path)

    async def main() -> None:
        await storage.write({"k": {"n": 1}})
        with sqlite3.connect(path) as other:
            other.execute("DROP TABLE bot_state")
        with pytest.raises(StorageError, match="SQLite state store failed: OperationalError") as raised:
            await storage.read(["k"])
        assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
        with pytest.raises(StorageError, match="OperationalError"):
            await storage.write({"k": {"n": 2}})
        with pytest.raises(StorageError, match="OperationalError"):
            await storage.delete(["k"])

    try:
        asyncio.run(main())
    finally:
        storage.close()


def test_an_item_that_cannot_be_decoded_is_a_storage_error_naming_its_key(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    storage = SqliteStorage(path)
    with sqlite3.connect(path) as other:
        other.execute("INSERT INTO bot_state (key, etag, item) VALUES ('k', 'e1', '{not json')")

    async def main() -> None:
        with pytest.raises(StorageError, match="'k' cannot be decoded") as raised:
            await storage.read(["k"])
        assert raised.value.__cause__ is not None

    try:
        asyncio.run(main())
    finally:
        storage.close()


class Unpicklable:
    def __getstate__(self) -> dict[str, object]:
        raise RuntimeError("cannot be stored")


def test_an_item_that_cannot_be_encoded_is_a_storage_error_and_nothing_is_written(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "state.sqlite")

    async def main() -> None:
        with pytest.raises(StorageError, match="'bad' cannot be encoded: RuntimeError") as raised:
            await storage.write({"good": {"n": 1}, "bad": {"value": Unpicklable()}})
        assert isinstance(raised.value.__cause__, RuntimeError)
        assert await storage.read(["good", "bad"]) == {}

    try:
        asyncio.run(main())
    finally:
        storage.close()


def test_an_unusable_path_is_a_storage_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match=r"cannot open the SQLite state file .*a-file") as raised:
        SqliteStorage(blocker / "state.sqlite")
    assert isinstance(raised.value.__cause__, OSError)


def test_a_file_from_before_expiry_gets_the_column_and_its_rows_a_full_time_to_live_from_the_upgrade(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE bot_state (key TEXT PRIMARY KEY, etag TEXT NOT NULL, item TEXT NOT NULL)")
        old.execute("""INSERT INTO bot_state (key, etag, item) VALUES ('k', 'e1', '{"n": 1}')""")
    clock = FakeClock()
    upgraded_at = clock.now

    async def main() -> None:
        storage = SqliteStorage(path, StateExpiry(TIME_TO_LIVE, clock))
        try:
            clock.advance(TIME_TO_LIVE - 1)
            assert (await storage.read(["k"]))["k"]["n"] == 1
            clock.advance(1)
            assert await storage.read(["k"]) == {}
        finally:
            storage.close()

    asyncio.run(main())
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT last_activity FROM bot_state").fetchall() == [(upgraded_at,)]


def test_the_sweep_deletes_in_batches_through_the_index_on_last_activity(tmp_path: Path) -> None:
    clock = FakeClock()
    storage = SqliteStorage(tmp_path / "state.sqlite", StateExpiry(TIME_TO_LIVE, clock))
    expired = 2 * SWEEP_BATCH + 50

    async def main() -> None:
        await storage.write({f"old-{i}": {"n": i} for i in range(expired)})
        clock.advance(TIME_TO_LIVE)
        await storage.write({"recent": {"n": 0}})
        assert await storage.sweep_expired() == expired

    try:
        asyncio.run(main())
        connection = storage._connection
        assert connection.execute("SELECT key FROM bot_state").fetchall() == [("recent",)]
        plan = connection.execute(
            "EXPLAIN QUERY PLAN SELECT key FROM bot_state WHERE last_activity <= ? LIMIT ?", (0.0, SWEEP_BATCH)
        ).fetchall()
        assert "USING INDEX bot_state_last_activity" in " ".join(str(row[-1]) for row in plan)
    finally:
        storage.close()
