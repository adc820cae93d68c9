"""An episode that leaves due messages in the inbox says so, and the engine runs the next episode without a poke.

A real Store in a temporary file and an honest fake of the engine's ``Worker`` boundary (it records the replays; the
orchestrator waits forever). The engine runs no empty episode after each one to look for leftovers, so what an
episode leaves (here a terminate queued behind the start: control messages are never batched) must be reported.
"""

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from devhost.durable import history as h
from devhost.durable import runtime_status as rs
from devhost.durable.db_thread import Lane
from devhost.durable.engine import Engine, EngineSettings
from devhost.durable.episode import run_episode
from devhost.durable.store import Changes, NewMessage, Store
from devhost.durable.timefmt import to_epoch, utc_now
from devhost.durable.trace_context import TraceContext
from tests.devhost.durable.test_engine_wakeups import WAIT_SECONDS, RecordingWorker, start_instance

T = TypeVar("T")


class WaitingApp(RecordingWorker):
    def activity_names(self) -> list[str]:
        return []


def queue_start_then_terminate(store: Store, instance_id: str) -> None:
    now = to_epoch(utc_now())
    start_instance(store, instance_id, now)
    inst = store.instance(instance_id)
    assert inst is not None
    store.commit(Changes(new_messages=[NewMessage(instance_id, inst.execution_id, now,
                                                  h.execution_terminated(utc_now(), "enough"))]))


def test_an_episode_reports_the_control_message_it_left_and_the_next_one_takes_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "hub.sqlite")
    try:
        queue_start_then_terminate(store, "two")
        worker = WaitingApp()

        first = run_episode(store, worker, "two", utc_now())
        assert first.committed is not None and first.more
        assert worker.replays == ["two"]
        second = run_episode(store, worker, "two", utc_now())
        assert second.committed is not None and not second.more
        inst = store.instance("two")
        assert inst is not None and inst.status == rs.TERMINATED
        assert run_episode(store, worker, "two", utc_now()).committed is None
    finally:
        store.close()


def test_the_engine_runs_the_episode_for_what_the_last_one_left(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite"
    store = Store(path)
    try:
        queue_start_then_terminate(store, "left")
    finally:
        store.close()

    async def go() -> None:
        worker = WaitingApp()
        engine = Engine(EngineSettings(path), worker)
        # Recovery wakes the instance once (both messages are due at the same moment); nothing pokes it again.
        await engine.start()
        try:
            deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
            while (await engine.run_db(lambda s: s.instance("left"))).status != rs.TERMINATED:
                assert asyncio.get_running_loop().time() < deadline, "the terminate was never handled"
                await asyncio.sleep(0.01)
            assert worker.replays == ["left"]
            history = await engine.run_db(lambda s: s.history("left"))
            assert [e["EventType"] for e in history][-2:] == [h.EventType.EXECUTION_TERMINATED,
                                                              h.EventType.EXECUTION_COMPLETED]
        finally:
            await engine.close()

    asyncio.run(go())


class OneActivityApp:
    """An orchestrator that calls one activity and returns its result (the state the SDK would send back)."""

    def __init__(self) -> None:
        self.replays = 0

    def orchestrator_names(self) -> list[str]:
        return ["waiter"]

    def activity_names(self) -> list[str]:
        return ["work"]

    def run_orchestrator(self, name: str, request_json: str) -> str:
        self.replays += 1
        results = [e["Result"] for e in json.loads(request_json)["history"]
                   if e["EventType"] == h.EventType.TASK_COMPLETED]
        output = json.loads(results[0]) if results else None
        return json.dumps({"isDone": bool(results), "schemaVersion": 2, "output": output,
                           "actions": [[{"actionType": 0, "functionName": "work", "input": "null"}]],
                           "error": None, "customStatus": None})

    async def run_activity(self, name: str, input_json: str | None, trace: TraceContext) -> str | None:
        return '"worked"'


class TripCountingEngine(Engine):
    """Records what the engine runs on the database thread, by function name."""

    def __init__(self, settings: EngineSettings, worker: OneActivityApp) -> None:
        super().__init__(settings, worker)
        self.trips: list[str] = []

    async def run_db(self, fn: Callable[..., T], *args: Any, lane: Lane = Lane.CLIENT) -> T:
        self.trips.append(getattr(fn, "__name__", "?"))
        return await super().run_db(fn, *args, lane=lane)


def test_an_activity_takes_two_trips_to_the_database_thread_one_to_schedule_one_to_complete(tmp_path: Path) -> None:
    async def go() -> None:
        worker = OneActivityApp()
        engine = TripCountingEngine(EngineSettings(tmp_path / "hub.sqlite"), worker)
        await engine.start()
        try:
            def start(store: Store) -> None:
                start_instance(store, "one", to_epoch(utc_now()))

            def status(store: Store) -> tuple[str, str | None]:
                inst = store.instance("one")
                assert inst is not None
                return inst.status, inst.output

            await engine.run_db(start)
            engine.trips = []
            engine.poke("one")
            deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
            while (await engine.run_db(status))[0] != rs.COMPLETED:
                assert asyncio.get_running_loop().time() < deadline, "the orchestration never completed"
                await asyncio.sleep(0.01)
            assert (await engine.run_db(status)) == (rs.COMPLETED, '"worked"')
            assert worker.replays == 2
            # No empty episode after each one, and the completion's commit rides with the episode it wakes.
            assert [trip for trip in engine.trips if trip != "status"] == ["run_episode", "_complete_then_episode"]
        finally:
            await engine.close()

    asyncio.run(go())
