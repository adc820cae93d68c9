"""An episode that leaves due messages in the inbox says so, and the engine runs the next episode without a poke.

A real Store in a temporary file and an honest fake of the engine's ``Worker`` boundary (it records the replays; the
orchestrator waits forever). The engine runs no empty episode after each one to look for leftovers, so what an
episode leaves (here a terminate queued behind the start: control messages are never batched) must be reported.
"""

import asyncio
from pathlib import Path

from devhost.durable import history as h
from devhost.durable import runtime_status as rs
from devhost.durable.engine import Engine, EngineSettings
from devhost.durable.episode import run_episode
from devhost.durable.store import Changes, NewMessage, Store
from devhost.durable.timefmt import to_epoch, utc_now
from tests.devhost.durable.test_engine_wakeups import WAIT_SECONDS, RecordingWorker, start_instance


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
