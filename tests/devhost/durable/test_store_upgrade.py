"""A task hub written before the trace-context columns opens, gains them, and keeps its rows."""

import sqlite3
from pathlib import Path

from devhost.durable.store import Changes, Instance, Store

# The schema as it was before instances and activities carried their trace context.
OLD_SCHEMA = """
CREATE TABLE instances (
    instance_id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT, execution_id TEXT NOT NULL,
    status TEXT NOT NULL, input TEXT, output TEXT, custom_status TEXT,
    created REAL NOT NULL, updated REAL NOT NULL,
    parent_instance_id TEXT, parent_execution_id TEXT, parent_task_id INTEGER
);
CREATE TABLE activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL, name TEXT NOT NULL, input TEXT
);
INSERT INTO instances VALUES ('old', 'chain', NULL, 'e1', 'Running', NULL, NULL, NULL, 1.0, 1.0, NULL, NULL, NULL);
INSERT INTO activities (instance_id, execution_id, task_id, name, input) VALUES ('old', 'e1', 0, 'hello', '"x"');
"""


def test_an_old_task_hub_gains_the_trace_columns_and_keeps_its_instances_and_pending_activities(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hub.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    store = Store(path)
    try:
        old = store.instance("old")
        assert old is not None and (old.status, old.trace_context) == ("Running", None)
        (pending,) = store.all_activities()
        assert (pending.instance_id, pending.name, pending.trace_context) == ("old", "hello", None)
        traced = Instance("new", "chain", None, "e2", "Pending", None, None, None, 2.0, 2.0,
                          trace_context='{"TraceParent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}')
        committed = store.commit(Changes(upsert_instances=[traced],
                                         new_activities=[("new", "e2", 0, "hello", None, traced.trace_context)]))
        assert committed.activities[0].trace_context == traced.trace_context
        assert store.instance("new") == traced
    finally:
        store.close()
