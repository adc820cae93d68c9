"""A botbuilder ``Storage`` on SQLite: the bot's conversation state survives a restart without Azure.

Items are encoded with jsonpickle, as BlobStorage does, because dialog state holds SDK objects
(DialogState, PromptOptions, Activity); classes are recorded by import path, so they must stay importable. The text
is jsonpickle's, written and read by bot/storage_codec.py in one pass (jsonpickle itself for anything unusual).
The file is the bot's own: jsonpickle must never decode data from anyone else.

eTags give optimistic concurrency, as in BlobStorage: ``read`` puts the row's eTag into each item, and
``write`` of an item that carries an eTag other than "*" succeeds only if the row still has that eTag;
otherwise it raises ``ETagConflict``. Items without an eTag are last-writer-wins. Any other failure (SQLite's, or an
item jsonpickle cannot encode or decode) is raised as ``StorageError``, with the cause chained. sqlite3 is blocking, so
every call runs on the store's own single worker thread: the connection is used by one thread at a time anyway, and
with the loop's wide default executor a burst of turns woke dozens of threads only to queue them on the lock.

Expiry (bot/state_expiry.py): every write stamps the row's ``last_activity`` (the injected clock's seconds since the
epoch); ``read`` skips rows last written ConversationStateDays ago or earlier, and ``sweep_expired`` deletes them in
batches through the index on that column. A file from before expiry existed gets the column on opening, its rows
stamped with the opening time: they expire a full ConversationStateDays after the upgrade, never at once.
"""

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from botbuilder.core import Storage

from bot import storage_codec
from bot.errors import ETagConflict, StorageError
from bot.etags import ANY_ETAG, get_etag, set_etag, without_etag
from bot.state_expiry import SWEEP_BATCH, StateExpiry

_SCHEMA = ("CREATE TABLE IF NOT EXISTS bot_state (key TEXT PRIMARY KEY, etag TEXT NOT NULL, item TEXT NOT NULL, "
           "last_activity REAL)")
_INDEX = "CREATE INDEX IF NOT EXISTS bot_state_last_activity ON bot_state (last_activity)"
_Arg = TypeVar("_Arg")
_Result = TypeVar("_Result")


class SqliteStorage(Storage):  # type: ignore[misc]  # botbuilder ships no type hints
    def __init__(self, path: str | Path, expiry: StateExpiry | None = None) -> None:
        super().__init__()
        self._path = Path(path)
        self._expiry = expiry or StateExpiry()
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # One connection shared by the worker threads, serialized by a lock: simple and safe for one process.
            self._connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            # As the devhost's task hub: in WAL mode, NORMAL survives a killed process (only a power cut may lose
            # the last commits), and skips an fsync per commit that every concurrent turn waited for under the lock.
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.execute(_SCHEMA)
            self._add_last_activity()
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"cannot open the SQLite state file {str(self._path)!r}: {error}") from error
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bot-sqlite")

    @property
    def path(self) -> Path:
        return self._path

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {}
        return await self._run(self._read, list(keys))

    async def write(self, changes: dict[str, object]) -> None:
        if changes is None:
            raise StorageError("changes are required when writing")
        if changes:
            await self._run(self._write, changes)

    async def delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if keys:
            await self._run(self._delete, keys)

    async def sweep_expired(self) -> int:
        """Delete the expired rows, SWEEP_BATCH per statement so that turns reach the store in between."""
        deleted = 0
        while True:
            batch = await self._run(self._sweep_batch, self._expiry.cutoff())
            deleted += batch
            if batch < SWEEP_BATCH:
                return deleted

    async def run_with_connection(self, call: Callable[[sqlite3.Connection], _Result]) -> _Result:
        """``call(connection)`` on this store's thread and connection, as its own calls run: for the leases and claims
        kept in the same file (bot/sqlite_coordination.py)."""
        def locked(connection: sqlite3.Connection) -> _Result:
            with self._lock:
                return call(connection)

        return await self._run(locked, self._connection)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            self._connection.close()

    async def _run(self, call: Callable[[_Arg], _Result], argument: _Arg) -> _Result:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, call, argument)
        except sqlite3.Error as error:
            # The caller catches StorageError by layer (on_turn_error's reset, for one); "database is locked" and
            # friends must not escape as another package's exception.
            raise StorageError(f"the SQLite state store failed: {type(error).__name__}: {error}") from error

    def _add_last_activity(self) -> None:
        columns = {row[1] for row in self._connection.execute("PRAGMA table_info(bot_state)")}
        if "last_activity" not in columns:
            self._connection.execute("ALTER TABLE bot_state ADD COLUMN last_activity REAL")
        self._connection.execute("UPDATE bot_state SET last_activity = ? WHERE last_activity IS NULL",
                                 (self._expiry.now(),))
        self._connection.execute(_INDEX)

    def _read(self, keys: list[str]) -> dict[str, Any]:
        marks = ",".join("?" * len(keys))
        with self._lock:
            # An expired row reads as absent even before the sweep has deleted it. A row without a stamp (written by
            # a version from before expiry since this one opened the file) counts as live until the next opening
            # stamps it.
            rows = self._connection.execute(
                f"SELECT key, etag, item FROM bot_state WHERE key IN ({marks}) "
                "AND (last_activity IS NULL OR last_activity > ?)",
                [*keys, self._expiry.cutoff()],
            ).fetchall()
        items: dict[str, Any] = {}
        for key, etag, text in rows:
            try:
                item = storage_codec.decode(text)
            except Exception as error:  # jsonpickle raises whatever json or the decoded classes raise
                raise StorageError(f"the stored item for {key!r} cannot be decoded: {type(error).__name__}") from error
            set_etag(item, etag)
            items[key] = item
        return items

    def _write(self, changes: dict[str, object]) -> None:
        with self._lock:
            # One transaction: either every change is stored or (on a conflict) none is.
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                new_etags = [(item, self._write_one(key, item)) for key, item in changes.items()]
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
        # The caller's object now matches the row, so a second save in the same turn does not conflict
        # (BlobStorage does the same).
        for item, etag in new_etags:
            if get_etag(item) is not None:
                set_etag(item, etag)

    def _write_one(self, key: str, item: object) -> str:
        expected = get_etag(item)
        if expected == "":
            raise StorageError(f"the item for {key!r} has an empty eTag")
        if expected is not None and expected != ANY_ETAG:
            row = self._connection.execute("SELECT etag FROM bot_state WHERE key = ?", (key,)).fetchone()
            if row is None or row[0] != expected:
                raise ETagConflict(key)
        etag = uuid.uuid4().hex
        try:
            text = storage_codec.encode(without_etag(item))
        except Exception as error:  # whatever the item's own serialization hooks raise
            raise StorageError(f"the item for {key!r} cannot be encoded: {type(error).__name__}") from error
        self._connection.execute(
            "INSERT INTO bot_state (key, etag, item, last_activity) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET etag = excluded.etag, item = excluded.item, "
            "last_activity = excluded.last_activity",
            (key, etag, text, self._expiry.now()),
        )
        return etag

    def _delete(self, keys: list[str]) -> None:
        with self._lock:
            self._connection.executemany("DELETE FROM bot_state WHERE key = ?", [(key,) for key in keys])

    def _sweep_batch(self, cutoff: float) -> int:
        with self._lock:
            cursor = self._connection.execute(
                "DELETE FROM bot_state WHERE key IN "
                "(SELECT key FROM bot_state WHERE last_activity <= ? LIMIT ?)", (cutoff, SWEEP_BATCH)
            )
        return cursor.rowcount
