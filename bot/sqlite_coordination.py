"""Conversation leases and outcome claims for bot instances sharing one SQLite state file.

SQLite's own locking is the primitive: every decision is one ``BEGIN IMMEDIATE`` transaction, which takes the file's
write lock, so two processes can never both see a conversation unleased and both take it. A lease is a row
``(key, lease_id, instance, expires)``; it is taken when there is no row or the row's ``expires`` has passed (its
holder died or stalled), renewed by moving ``expires`` while the lease id is still the row's, and released by
deleting the row. An outcome claim (bot/outcome_claims.py) is a row keyed by the instance id, inserted only if
absent or lapsed, in the same kind of transaction. Expiry is by wall clock, which every process on one machine
shares (SQLite files are not for several machines: its locking is unreliable over network file systems,
https://www.sqlite.org/faq.html#q5).

In the bot they run on SqliteStorage's own connection and thread: a second connection of the same process would
contend with the state's writes for the file's write lock, and SQLite's busy handler waits for it by sleeping
(1, 2, 5, 10... ms: sqliteDefaultBusyCallback, src/main.c). Other processes' writers still wait for the lock that
way (WAL mode and the busy timeout make them wait rather than fail).
"""

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from bot.conversation_leases import Acquired, LeaseHolder
from bot.errors import StorageError
from bot.outcome_claims import Claim
from bot.sqlite_storage import SqliteStorage
from bot.state_expiry import Clock, StateExpiry

_LEASES = ("CREATE TABLE IF NOT EXISTS bot_lease (key TEXT PRIMARY KEY, lease_id TEXT NOT NULL, "
           "instance TEXT NOT NULL, expires REAL NOT NULL)")
# A claim's ``expires`` is NULL once settled (bot/outcome_claims.py); ``claimed_at`` is what the sweep counts from.
_CLAIMS = ("CREATE TABLE IF NOT EXISTS bot_outcome_claim (instance_id TEXT PRIMARY KEY, claimant TEXT NOT NULL, "
           "expires REAL, claimed_at REAL NOT NULL)")
_CLAIMS_INDEX = "CREATE INDEX IF NOT EXISTS bot_outcome_claim_claimed_at ON bot_outcome_claim (claimed_at)"
# Seconds a writer waits for another process's write lock before SQLite reports "database is locked".
BUSY_TIMEOUT_SECONDS = 10.0
_Result = TypeVar("_Result")


class SqliteCoordination:
    """The coordination tables of one state file. With ``storage`` (the bot's own SqliteStorage on that file) the calls
    run on its connection and thread; without, on a connection of its own (a second instance in a test).
    ``close()`` it before the store."""

    def __init__(self, path: str | Path, clock: Clock = time.time, expiry: StateExpiry | None = None, *,
                 storage: SqliteStorage | None = None) -> None:
        self._clock = clock
        self._expiry = expiry or StateExpiry(clock=clock)
        self._storage = storage
        self._connection: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        try:
            connection = sqlite3.connect(Path(path), check_same_thread=False, isolation_level=None,
                                         timeout=BUSY_TIMEOUT_SECONDS)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_LEASES)
            connection.execute(_CLAIMS)
            connection.execute(_CLAIMS_INDEX)
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"cannot open the SQLite state file {str(path)!r} for leases: {error}") from error
        if storage is not None:
            connection.close()
            return
        self._connection = connection
        # One thread: the connection is used by one thread at a time, and the calls are short.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bot-sqlite-lease")

    def now(self) -> float:
        return self._clock()

    async def run(self, call: Callable[[sqlite3.Connection], _Result]) -> _Result:
        if self._storage is not None:
            return await self._storage.run_with_connection(call)
        assert self._executor is not None and self._connection is not None  # opened without a storage
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, call, self._connection)
        except sqlite3.Error as error:
            raise StorageError(f"the SQLite state store failed: {type(error).__name__}: {error}") from error

    async def sweep_expired(self) -> int:
        """Delete the outcome claims made ConversationStateDays ago or earlier (the state that needed them is gone)
        and leases that lapsed as long ago; the number of claims deleted."""
        cutoff = self._expiry.cutoff()

        def sweep(connection: sqlite3.Connection) -> int:
            connection.execute("DELETE FROM bot_lease WHERE expires <= ?", (cutoff,))
            return connection.execute("DELETE FROM bot_outcome_claim WHERE claimed_at <= ?", (cutoff,)).rowcount

        return await self.run(sweep)

    def close(self) -> None:
        if self._executor is not None and self._connection is not None:
            self._executor.shutdown(wait=True)
            self._connection.close()


def transaction(connection: sqlite3.Connection, body: Callable[[], _Result]) -> _Result:
    """``body`` in one BEGIN IMMEDIATE transaction: it holds the file's write lock from its first read."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = body()
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return result


class SqliteLeases:
    """The LeaseStore of bot/conversation_leases.py on the state file."""

    def __init__(self, coordination: SqliteCoordination) -> None:
        self._db = coordination

    async def try_acquire(self, key: str, holder: LeaseHolder, seconds: float, *,
                          refused_before: bool = False) -> Acquired | None:
        # ``refused_before`` is not needed: a row left behind is a lease that lapsed, and it names its holder.
        now = self._db.now()

        def take(connection: sqlite3.Connection) -> Acquired | None:
            def body() -> Acquired | None:
                row = connection.execute("SELECT instance, expires FROM bot_lease WHERE key = ?", (key,)).fetchone()
                if row is not None and row[1] > now:
                    return None
                connection.execute(
                    "INSERT INTO bot_lease (key, lease_id, instance, expires) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET lease_id = excluded.lease_id, instance = excluded.instance, "
                    "expires = excluded.expires", (key, holder.lease_id, holder.instance, now + seconds))
                # A row still there was never released: its holder died or stalled past its lease.
                return Acquired(lapsed_holder="" if row is None else str(row[0]))

            return transaction(connection, body)

        return await self._db.run(take)

    async def renew(self, key: str, holder: LeaseHolder, seconds: float) -> bool:
        now = self._db.now()

        def extend(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute("UPDATE bot_lease SET expires = ? WHERE key = ? AND lease_id = ?",
                                        (now + seconds, key, holder.lease_id))
            return cursor.rowcount == 1

        return await self._db.run(extend)

    async def release(self, key: str, holder: LeaseHolder) -> None:
        def delete(connection: sqlite3.Connection) -> None:
            connection.execute("DELETE FROM bot_lease WHERE key = ? AND lease_id = ?", (key, holder.lease_id))

        await self._db.run(delete)


class SqliteClaims:
    """The OutcomeClaims of bot/outcome_claims.py on the state file."""

    def __init__(self, coordination: SqliteCoordination) -> None:
        self._db = coordination

    async def claim(self, instance_id: str, claimant: str, seconds: float) -> Claim:
        now = self._db.now()

        def take(connection: sqlite3.Connection) -> Claim:
            def body() -> Claim:
                row = connection.execute("SELECT expires FROM bot_outcome_claim WHERE instance_id = ?",
                                         (instance_id,)).fetchone()
                if row is not None:
                    if row[0] is None:
                        return Claim.DELIVERED
                    if row[0] > now:
                        return Claim.IN_FLIGHT
                connection.execute(
                    "INSERT INTO bot_outcome_claim (instance_id, claimant, expires, claimed_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(instance_id) DO UPDATE SET claimant = excluded.claimant, expires = excluded.expires, "
                    "claimed_at = excluded.claimed_at", (instance_id, claimant, now + seconds, now))
                return Claim.CLAIMED

            return transaction(connection, body)

        return await self._db.run(take)

    async def settle(self, instance_id: str, claimant: str) -> None:
        def settle(connection: sqlite3.Connection) -> None:
            connection.execute("UPDATE bot_outcome_claim SET expires = NULL WHERE instance_id = ? AND claimant = ?",
                               (instance_id, claimant))

        await self._db.run(settle)

    async def release(self, instance_id: str, claimant: str) -> None:
        def release(connection: sqlite3.Connection) -> None:
            connection.execute("DELETE FROM bot_outcome_claim WHERE instance_id = ? AND claimant = ? "
                               "AND expires IS NOT NULL", (instance_id, claimant))

        await self._db.run(release)
