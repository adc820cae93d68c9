"""A botbuilder ``Storage`` on SQLite: the bot's conversation state survives a restart without Azure.

Items are encoded with jsonpickle, as BlobStorage does, because dialog state holds SDK objects
(DialogState, PromptOptions, Activity); classes are recorded by import path, so they must stay importable.
The file is the bot's own: jsonpickle must never decode data from anyone else.

eTags give optimistic concurrency, as in BlobStorage: ``read`` puts the row's eTag into each item, and
``write`` of an item that carries an eTag other than "*" succeeds only if the row still has that eTag;
otherwise it raises ``ETagConflict``. Items without an eTag are last-writer-wins. sqlite3 is blocking, so
every call runs on the store's own single worker thread: the connection is used by one thread at a time anyway, and
with the loop's wide default executor a burst of turns woke dozens of threads only to queue them on the lock.
"""

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import jsonpickle
from botbuilder.core import Storage

from bot.errors import ETagConflict, StorageError

_SCHEMA = "CREATE TABLE IF NOT EXISTS bot_state (key TEXT PRIMARY KEY, etag TEXT NOT NULL, item TEXT NOT NULL)"
_ANY = "*"
_Arg = TypeVar("_Arg")
_Result = TypeVar("_Result")


class SqliteStorage(Storage):  # type: ignore[misc]  # botbuilder ships no type hints
    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self._path = Path(path)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the worker threads, serialized by a lock: simple and safe for one process.
        self._connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bot-sqlite")
        with self._lock:
            self._connection.execute("PRAGMA journal_mode=WAL")
            # As the devhost's task hub: in WAL mode, NORMAL survives a killed process (only a power cut may lose
            # the last commits), and skips an fsync per commit that every concurrent turn waited for under the lock.
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.execute(_SCHEMA)

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

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            self._connection.close()

    async def _run(self, call: Callable[[_Arg], _Result], argument: _Arg) -> _Result:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call, argument)

    def _read(self, keys: list[str]) -> dict[str, Any]:
        marks = ",".join("?" * len(keys))
        with self._lock:
            rows = self._connection.execute(
                f"SELECT key, etag, item FROM bot_state WHERE key IN ({marks})", keys
            ).fetchall()
        items: dict[str, Any] = {}
        for key, etag, text in rows:
            item = jsonpickle.decode(text)
            _set_etag(item, etag)
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
        # (BlobStorage leaves it stale).
        for item, etag in new_etags:
            if _get_etag(item) is not None:
                _set_etag(item, etag)

    def _write_one(self, key: str, item: object) -> str:
        expected = _get_etag(item)
        if expected == "":
            raise StorageError(f"the item for {key!r} has an empty eTag")
        if expected is not None and expected != _ANY:
            row = self._connection.execute("SELECT etag FROM bot_state WHERE key = ?", (key,)).fetchone()
            if row is None or row[0] != expected:
                raise ETagConflict(key)
        etag = uuid.uuid4().hex
        text = jsonpickle.encode(_without_etag(item))
        self._connection.execute(
            "INSERT INTO bot_state (key, etag, item) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET etag = excluded.etag, item = excluded.item",
            (key, etag, text),
        )
        return etag

    def _delete(self, keys: list[str]) -> None:
        with self._lock:
            self._connection.executemany("DELETE FROM bot_state WHERE key = ?", [(key,) for key in keys])


def _get_etag(item: object) -> str | None:
    value = item.get("e_tag") if isinstance(item, dict) else getattr(item, "e_tag", None)
    return value if isinstance(value, str) else None


def _set_etag(item: Any, etag: str) -> None:
    if isinstance(item, dict):
        item["e_tag"] = etag
    elif hasattr(item, "__dict__"):
        item.e_tag = etag


def _without_etag(item: object) -> object:
    # The eTag lives in its own column; storing it inside the item too would only let the two disagree.
    if isinstance(item, dict) and "e_tag" in item:
        return {key: value for key, value in item.items() if key != "e_tag"}
    return item
