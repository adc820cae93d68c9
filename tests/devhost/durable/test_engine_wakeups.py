"""The engine wakes an instance again when a wake-up found nothing due or an episode raised.

A real Store in a temporary file and an honest fake of the engine's ``Worker`` boundary (it records the replays it is
asked for). No clock is patched: the first test runs the engine on an event loop whose monotonic clock jumps ahead,
which is what a wall clock set back looks like to the engine.
"""

import asyncio
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from devhost.durable import history as h
from devhost.durable import runtime_status as rs
from devhost.durable.engine import Engine, EngineSettings
from devhost.durable.store import Changes, Committed, Instance, NewMessage, Store
from devhost.durable.timefmt import to_epoch, utc_now
from devhost.durable.trace_context import TraceContext

WAIT_SECONDS = 10.0


class RecordingWorker:
    """Every orchestrator replay is recorded; the orchestrator itself waits forever (no actions, not done)."""

    def __init__(self) -> None:
        self.replays: list[str] = []

    def orchestrator_names(self) -> list[str]:
        return ["waiter"]

    def activity_names(self) -> list[str]:
        return []

    def run_orchestrator(self, name: str, request_json: str) -> str:
        self.replays.append(json.loads(request_json)["instanceId"])
        return json.dumps({"isDone": False, "actions": [], "output": None, "error": None, "customStatus": None})

    async def run_activity(self, name: str, input_json: str | None, trace: TraceContext) -> str | None:
        raise AssertionError("no activities in these tests")


class SkewedLoop(asyncio.SelectorEventLoop):
    """An event loop whose monotonic clock can be moved ahead of the wall clock."""

    skew = 0.0

    def time(self) -> float:
        return super().time() + self.skew


def start_instance(store: Store, instance_id: str, due: float) -> Committed:
    now = utc_now()
    execution_id = uuid.uuid4().hex
    inst = Instance(instance_id, "waiter", None, execution_id, rs.PENDING, None, None, None, to_epoch(now),
                    to_epoch(now))
    started = h.execution_started(now, "waiter", None, None, instance_id=instance_id, execution_id=execution_id,
                                  parent=None)
    return store.commit(Changes(upsert_instances=[inst], new_messages=[NewMessage(instance_id, execution_id, due,
                                                                                   started)]))


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_SECONDS}s: {what}")
        await asyncio.sleep(0.01)


def run_engine(tmp_path: Path, body: Callable[[Engine, RecordingWorker], Awaitable[None]],
               loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None) -> None:
    async def go() -> None:
        worker = RecordingWorker()
        engine = Engine(EngineSettings(tmp_path / "hub.sqlite"), worker)
        await engine.start()
        try:
            await body(engine, worker)
        finally:
            await engine.close()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(go())


def test_a_timer_that_fires_before_the_message_is_due_waits_again(tmp_path: Path) -> None:
    async def body(engine: Engine, worker: RecordingWorker) -> None:
        due = time.time() + 0.5
        engine.dispatch(await engine.run_db(start_instance, "early", due))
        loop = asyncio.get_running_loop()
        assert isinstance(loop, SkewedLoop)
        loop.skew = 3600.0  # the wake-up timer fires now, half a second before the message is due
        await until(lambda: worker.replays == ["early"], "the instance ran once its message was due")
        assert time.time() >= due

    run_engine(tmp_path, body, SkewedLoop)


def test_an_episode_that_raised_is_retried(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="devhost.durable.engine")

    async def body(engine: Engine, worker: RecordingWorker) -> None:
        await engine.run_db(start_instance, "broken", to_epoch(utc_now()))
        # A storage fault the episode cannot read past: the message's event is not JSON.
        with sqlite3.connect(tmp_path / "hub.sqlite") as db:
            good = db.execute("SELECT event FROM messages WHERE instance_id = 'broken'").fetchone()[0]
            db.execute("UPDATE messages SET event = '{not json' WHERE instance_id = 'broken'")
        engine.poke("broken")
        await until(lambda: any(r.getMessage().startswith("episode failed") for r in caplog.records),
                    "the episode failed")
        with sqlite3.connect(tmp_path / "hub.sqlite") as db:
            db.execute("UPDATE messages SET event = ? WHERE instance_id = 'broken'", (good,))
        await until(lambda: worker.replays == ["broken"], "the instance ran once the fault was repaired")

    run_engine(tmp_path, body)
