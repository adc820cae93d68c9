"""The task hub in SQLite: instances, history, the orchestration inbox and the activity queue.

Outbox pattern: everything an episode decides (history, status, new messages, activity work items, child
instances) is written in ONE transaction, and work exists only as rows. After a crash, start-up re-dispatches
every row that is still there: activities run again (at least once), due timers fire late, nothing is lost.

Only the engine's one database thread touches the connection (see ``Engine``), so there is no locking here.
WAL with synchronous=NORMAL survives a killed process (not a power cut), which is what a dev host needs.
"""

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devhost.durable.history import Event

_SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT, execution_id TEXT NOT NULL,
    status TEXT NOT NULL, input TEXT, output TEXT, custom_status TEXT,
    created REAL NOT NULL, updated REAL NOT NULL,
    parent_instance_id TEXT, parent_execution_id TEXT, parent_task_id INTEGER, trace_context TEXT
);
CREATE INDEX IF NOT EXISTS instances_created ON instances (created);
CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, PRIMARY KEY (instance_id, seq)
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, execution_id TEXT,
    due REAL NOT NULL, event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_instance ON messages (instance_id, id);
CREATE TABLE IF NOT EXISTS activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL, name TEXT NOT NULL, input TEXT, trace_context TEXT
);
"""
# Columns added after the first release: a task hub created before them gets them on open.
_ADDED_COLUMNS = (("instances", "trace_context"), ("activities", "trace_context"))


@dataclass
class Instance:
    instance_id: str
    name: str
    version: str | None
    execution_id: str
    status: str
    input: str | None
    output: str | None
    custom_status: str | None
    created: float
    updated: float
    parent_instance_id: str | None = None
    parent_execution_id: str | None = None
    parent_task_id: int | None = None
    # DTFx's ParentTraceContext of the instance (JSON; devhost/durable/trace_context.py), kept across continue-as-new.
    trace_context: str | None = None


_INSTANCE_COLUMNS = ("instance_id, name, version, execution_id, status, input, output, custom_status, created, "
                     "updated, parent_instance_id, parent_execution_id, parent_task_id, trace_context")


@dataclass(frozen=True)
class Message:
    id: int
    instance_id: str
    execution_id: str | None
    due: float
    event: Event


@dataclass(frozen=True)
class NewMessage:
    instance_id: str
    execution_id: str | None
    due: float
    event: Event


@dataclass(frozen=True)
class ActivityItem:
    id: int
    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None
    # The instance's trace context when the activity was scheduled: its run is a span under the orchestration's.
    trace_context: str | None = None


@dataclass
class Changes:
    """One transaction's worth of writes."""

    upsert_instances: list[Instance] = field(default_factory=list)
    # instance id -> events to append (after ``reset_history`` when the id is in it).
    append_history: dict[str, list[Event]] = field(default_factory=dict)
    reset_history: set[str] = field(default_factory=set)
    consumed_messages: list[int] = field(default_factory=list)
    drop_messages_of: set[str] = field(default_factory=set)
    drop_activities_of: set[str] = field(default_factory=set)
    new_messages: list[NewMessage] = field(default_factory=list)
    new_activities: list[tuple[str, str, int, str, str | None, str | None]] = field(default_factory=list)
    done_activities: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Committed:
    """What a commit created, for the engine to dispatch."""

    messages: list[Message]
    activities: list[ActivityItem]


@dataclass(frozen=True)
class InstanceQuery:
    created_from: float | None = None
    created_to: float | None = None
    statuses: frozenset[str] = frozenset()
    prefix: str | None = None


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            for table, column in _ADDED_COLUMNS:
                if column not in {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
        except sqlite3.Error:
            self._db.close()  # e.g. "file is not a database": the caller reports it, nothing stays open
            raise

    def close(self) -> None:
        self._db.close()

    # -- reads ----------------------------------------------------------------------------------------------

    def instance(self, instance_id: str) -> Instance | None:
        row = self._db.execute(f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE instance_id = ?",
                               (instance_id,)).fetchone()
        return None if row is None else Instance(*row)

    def history(self, instance_id: str) -> list[Event]:
        rows = self._db.execute("SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,))
        return [json.loads(text) for (text,) in rows]

    def messages(self, instance_id: str, due_by: float) -> list[Message]:
        rows = self._db.execute(
            "SELECT id, instance_id, execution_id, due, event FROM messages WHERE instance_id = ? AND due <= ? "
            "ORDER BY id", (instance_id, due_by))
        return [Message(i, inst, ex, due, json.loads(ev)) for i, inst, ex, due, ev in rows]

    def all_messages(self) -> list[tuple[str, float]]:
        """Every instance with messages and each distinct due time (so every pending timer gets a wake-up)."""
        return [(i, d) for i, d in self._db.execute("SELECT DISTINCT instance_id, due FROM messages")]

    def all_activities(self) -> list[ActivityItem]:
        rows = self._db.execute("SELECT id, instance_id, execution_id, task_id, name, input, trace_context "
                                "FROM activities")
        return [ActivityItem(*row) for row in rows]

    def query(self, query: InstanceQuery, limit: int | None = None, after: tuple[float, str] | None = None,
              ) -> list[Instance]:
        where, args = _where(query)
        if after is not None:
            where.append("(created > ? OR (created = ? AND instance_id > ?))")
            args += [after[0], after[0], after[1]]
        sql = f"SELECT {_INSTANCE_COLUMNS} FROM instances"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created, instance_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [Instance(*row) for row in self._db.execute(sql, args)]

    # -- writes ---------------------------------------------------------------------------------------------

    def commit(self, changes: Changes) -> Committed:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for inst in changes.upsert_instances:
                db.execute(f"INSERT OR REPLACE INTO instances ({_INSTANCE_COLUMNS}) VALUES "
                           "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _instance_row(inst))
            for instance_id in changes.reset_history:
                db.execute("DELETE FROM history WHERE instance_id = ?", (instance_id,))
            for instance_id, events in changes.append_history.items():
                self._append(instance_id, events)
            db.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in changes.consumed_messages])
            for instance_id in changes.drop_messages_of:
                db.execute("DELETE FROM messages WHERE instance_id = ?", (instance_id,))
            db.executemany("DELETE FROM activities WHERE id = ?", [(i,) for i in changes.done_activities])
            for instance_id in changes.drop_activities_of:
                db.execute("DELETE FROM activities WHERE instance_id = ?", (instance_id,))
            messages = []
            for msg in changes.new_messages:
                cursor = db.execute("INSERT INTO messages (instance_id, execution_id, due, event) VALUES (?, ?, ?, ?)",
                                    (msg.instance_id, msg.execution_id, msg.due, json.dumps(msg.event)))
                messages.append(Message(_rowid(cursor), msg.instance_id, msg.execution_id, msg.due, msg.event))
            activities = []
            for instance_id, execution_id, task_id, name, text, trace in changes.new_activities:
                cursor = db.execute("INSERT INTO activities (instance_id, execution_id, task_id, name, input, "
                                    "trace_context) VALUES (?, ?, ?, ?, ?, ?)",
                                    (instance_id, execution_id, task_id, name, text, trace))
                activities.append(ActivityItem(_rowid(cursor), instance_id, execution_id, task_id, name, text, trace))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return Committed(messages, activities)

    def _append(self, instance_id: str, events: Sequence[Event]) -> None:
        row = self._db.execute("SELECT COALESCE(MAX(seq), -1) FROM history WHERE instance_id = ?",
                               (instance_id,)).fetchone()
        start = int(row[0]) + 1
        self._db.executemany("INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)",
                             [(instance_id, start + i, json.dumps(ev)) for i, ev in enumerate(events)])

    def purge(self, instance_ids: Iterable[str]) -> int:
        ids = list(instance_ids)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for table in ("instances", "history", "messages", "activities"):
                self._db.executemany(f"DELETE FROM {table} WHERE instance_id = ?", [(i,) for i in ids])
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return len(ids)


def _rowid(cursor: sqlite3.Cursor) -> int:
    if cursor.lastrowid is None:
        raise RuntimeError("sqlite returned no row id")
    return cursor.lastrowid


def _instance_row(inst: Instance) -> tuple[Any, ...]:
    return (inst.instance_id, inst.name, inst.version, inst.execution_id, inst.status, inst.input, inst.output,
            inst.custom_status, inst.created, inst.updated, inst.parent_instance_id, inst.parent_execution_id,
            inst.parent_task_id, inst.trace_context)


def _where(query: InstanceQuery) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    if query.created_from is not None:
        where.append("created >= ?")
        args.append(query.created_from)
    if query.created_to is not None:
        where.append("created <= ?")
        args.append(query.created_to)
    if query.statuses:
        where.append(f"status IN ({', '.join('?' * len(query.statuses))})")
        args += sorted(query.statuses)
    if query.prefix:
        # substr is case-sensitive (instance ids are) and needs no escaping of % and _ like LIKE would.
        where.append("substr(instance_id, 1, ?) = ?")
        args += [len(query.prefix), query.prefix]
    return where, args
