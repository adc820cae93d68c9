"""The engine's database thread serves a client's request before the orchestration work queued ahead of it."""

import asyncio
import threading
from pathlib import Path

from devhost.durable.db_thread import CLIENT_JOBS_PER_ORCHESTRATION_JOB, DatabaseThread, Lane
from devhost.durable.engine import Engine, EngineSettings
from devhost.durable.store import Store
from devhost.durable.timefmt import to_epoch, utc_now
from tests.devhost.durable.test_engine_wakeups import WAIT_SECONDS, RecordingWorker, start_instance


def test_a_client_job_runs_before_orchestration_jobs_queued_earlier_and_each_lane_keeps_arrival_order() -> None:
    async def go() -> list[str]:
        thread = DatabaseThread("test-db")
        ran: list[str] = []
        gate = threading.Event()
        try:
            # The thread is busy with the first job while the others queue up behind it.
            busy = asyncio.ensure_future(thread.run(Lane.ORCHESTRATION, lambda: gate.wait(WAIT_SECONDS)))
            await asyncio.sleep(0)  # nothing to poll for: put() happens inside run(), before its first await
            jobs = [asyncio.ensure_future(thread.run(Lane.ORCHESTRATION, lambda n=n: ran.append(f"episode {n}")))
                    for n in range(3)]
            await asyncio.sleep(0)
            jobs += [asyncio.ensure_future(thread.run(Lane.CLIENT, lambda n=n: ran.append(f"start {n}")))
                     for n in range(2)]
            await asyncio.sleep(0)
            gate.set()
            assert await busy is True
            await asyncio.wait_for(asyncio.gather(*jobs), WAIT_SECONDS)
            return ran
        finally:
            thread.stop()

    assert asyncio.run(go()) == ["start 0", "start 1", "episode 0", "episode 1", "episode 2"]


def test_a_job_that_raises_hands_its_error_to_the_caller_and_the_thread_goes_on() -> None:
    async def go() -> str:
        thread = DatabaseThread("test-db")
        try:
            try:
                await thread.run(Lane.CLIENT, lambda: 1 / 0)
            except ZeroDivisionError:
                pass
            else:
                raise AssertionError("the error was not handed back")
            return await thread.run(Lane.ORCHESTRATION, lambda: "still serving")
        finally:
            thread.stop()

    assert asyncio.run(go()) == "still serving"


def test_the_engine_answers_a_status_query_while_a_burst_of_episodes_is_queued(tmp_path: Path) -> None:
    """A query made after 50 instances were woken is served before their episodes run."""
    async def go() -> tuple[int, int]:
        worker = RecordingWorker()
        engine = Engine(EngineSettings(tmp_path / "hub.sqlite"), worker)
        await engine.start()
        try:
            ids = [f"burst-{n}" for n in range(50)]

            def start_all(store: Store) -> None:
                for instance_id in ids:
                    start_instance(store, instance_id, to_epoch(utc_now()))

            await engine.run_db(start_all)
            gate = threading.Event()
            # Hold the thread so that every episode is queued before the query.
            held = asyncio.ensure_future(engine.run_db(lambda store: gate.wait(WAIT_SECONDS),
                                                       lane=Lane.ORCHESTRATION))
            await asyncio.sleep(0)
            for instance_id in ids:
                engine.poke(instance_id)
            for _ in range(3):  # let each drive task reach its run_db call
                await asyncio.sleep(0)
            query = asyncio.ensure_future(engine.run_db(lambda store: len(worker.replays)))
            await asyncio.sleep(0)
            gate.set()
            replays_when_queried = await asyncio.wait_for(query, WAIT_SECONDS)
            await held
            deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
            while len(worker.replays) < len(ids):
                assert asyncio.get_running_loop().time() < deadline, "the episodes never ran"
                await asyncio.sleep(0.01)
            return replays_when_queried, len(worker.replays)
        finally:
            await engine.close()

    assert asyncio.run(go()) == (0, 50)


def test_a_client_that_never_pauses_does_not_starve_the_orchestrations() -> None:
    """One orchestration job after every CLIENT_JOBS_PER_ORCHESTRATION_JOB client jobs while both lanes wait."""
    async def go() -> list[str]:
        thread = DatabaseThread("test-db")
        ran: list[str] = []
        gate, taken = threading.Event(), threading.Event()

        def hold() -> bool:
            taken.set()
            return gate.wait(WAIT_SECONDS)

        try:
            busy = asyncio.ensure_future(thread.run(Lane.ORCHESTRATION, hold))
            # The thread has taken the first job, so what follows is all queued behind it.
            assert await asyncio.to_thread(taken.wait, WAIT_SECONDS)
            jobs = [asyncio.ensure_future(thread.run(Lane.ORCHESTRATION, lambda n=n: ran.append(f"episode {n}")))
                    for n in range(3)]
            jobs += [asyncio.ensure_future(thread.run(Lane.CLIENT, lambda n=n: ran.append(f"query {n}")))
                     for n in range(10)]
            await asyncio.sleep(0)
            gate.set()
            await busy
            await asyncio.wait_for(asyncio.gather(*jobs), WAIT_SECONDS)
            return ran
        finally:
            thread.stop()

    assert CLIENT_JOBS_PER_ORCHESTRATION_JOB == 4
    assert asyncio.run(go()) == ["query 0", "query 1", "query 2", "query 3", "episode 0",
                                 "query 4", "query 5", "query 6", "query 7", "episode 1",
                                 "query 8", "query 9", "episode 2"]
