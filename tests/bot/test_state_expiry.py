"""Conversation state expiry as a user meets it, in every store: a conversation quiet for ConversationStateDays
starts afresh; one waiting for an operation still gets its outcome at the end of the outcome window, even with the
shortest ConversationStateDays allowed; an outcome arriving after its conversation expired is dropped, not shown. And
the sweep the app runs in its lifecycle. The stores' clock is moved instead of waiting (tests/bot/storage_backends.py).
"""

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.settings import MIN_CONVERSATION_STATE_DAYS, BotSettings
from bot.state_expiry import SECONDS_PER_DAY, StateExpiry, sweep_periodically
from bot.storage import close_storage, create_storage
from contract import OUTCOME_WINDOW_SECONDS, Progress, Stage
from tests.bot.fake_operations_service import FakeOperationsService
from tests.bot.harness import SIGNING_KEY, BotHarness, CopyingMemoryStorage, make_harness, texts
from tests.bot.storage_backends import ALL, TIME_TO_LIVE, Backend, FakeClock, make_backend, opened

CHOOSE = "Please select a long operation test option."
THANKS = "Thanks for waiting. (Result for long operation one!)"
SHORTEST = MIN_CONVERSATION_STATE_DAYS * SECONDS_PER_DAY


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return make_backend(request.param, tmp_path, lambda: request.getfixturevalue("azurite"))


@pytest.fixture
def shortest(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A store with the shortest expiry ConversationStateDays allows."""
    return make_backend(request.param, tmp_path, lambda: request.getfixturevalue("azurite"), SHORTEST)


every_store = pytest.mark.parametrize("backend", ALL, indirect=True)


async def start_option_1(harness: BotHarness) -> None:
    assert texts(await harness.say("hi")) == [CHOOSE]
    assert texts(await harness.say("option 1")) == ["...one moment please...."]


@every_store
def test_a_conversation_quiet_for_conversation_state_days_starts_afresh(backend: Backend) -> None:
    async def main() -> None:
        async with FakeOperationsService() as service, aiohttp.ClientSession() as session, opened(backend) as storage:
            harness = make_harness(service, session, storage)
            await start_option_1(harness)
            backend.clock.advance(TIME_TO_LIVE)
            # Without expiry the prompt would still wait: "Long operation option 1: ...".
            assert texts(await harness.say("status")) == [CHOOSE]

    asyncio.run(main())


@every_store
def test_every_turn_renews_the_conversation_so_a_user_who_keeps_talking_is_never_expired(backend: Backend) -> None:
    async def main() -> None:
        async with FakeOperationsService() as service, aiohttp.ClientSession() as session, opened(backend) as storage:
            harness = make_harness(service, session, storage)
            await start_option_1(harness)
            service.only_instance()[1].progress = Progress.of("option 1", Stage.RUNNING, 2, 5, "working")
            for _ in range(3):  # 3 x 29 days: three times the expiry in all, never as long without a turn
                backend.clock.advance(TIME_TO_LIVE - SECONDS_PER_DAY)
                assert texts(await harness.say("status")) == ["Long operation option 1: 40% done (step 2 of 5)."]

    asyncio.run(main())


@pytest.mark.parametrize("shortest", ALL, indirect=True)
def test_a_waiting_conversation_gets_its_outcome_at_the_end_of_the_outcome_window_with_the_shortest_expiry(
    shortest: Backend,
) -> None:
    async def main() -> None:
        async with FakeOperationsService() as service, aiohttp.ClientSession() as session, opened(shortest) as storage:
            harness = make_harness(service, session, storage)
            await start_option_1(harness)
            # The latest an outcome may arrive after the start (the function app refuses settings that allow later).
            shortest.clock.advance(OUTCOME_WINDOW_SECONDS)
            assert texts(await harness.post(harness.outcome_event())) == [THANKS, CHOOSE]

    asyncio.run(main())


@every_store
def test_an_outcome_arriving_after_its_conversation_expired_is_dropped_not_shown(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with FakeOperationsService() as service, aiohttp.ClientSession() as session, opened(backend) as storage:
            harness = make_harness(service, session, storage)
            await start_option_1(harness)
            event = harness.outcome_event()
            backend.clock.advance(TIME_TO_LIVE)
            with caplog.at_level(logging.WARNING, logger="bot.long_operation_bot"):
                assert await harness.post(event) == []
            # The delivered-outcomes record expired too, but nothing waits for the outcome, so it is not shown.
            assert any(record.getMessage().startswith("stale outcome dropped") for record in caplog.records)
            assert texts(await harness.say("hi")) == [CHOOSE]

    asyncio.run(main())


def test_the_app_sweeps_expired_state_at_start_up_and_stops_sweeping_when_it_stops() -> None:
    clock = FakeClock()
    storage = CopyingMemoryStorage(StateExpiry(TIME_TO_LIVE, clock))

    async def main() -> None:
        await storage.write({"old": {"n": 1}})
        clock.advance(TIME_TO_LIVE)
        await storage.write({"recent": {"n": 2}})
        async with FakeOperationsService() as service:
            settings = BotSettings(signing_key=SIGNING_KEY, operations_url=service.url)
            app = create_app(settings, storage)
            async with TestClient(TestServer(app)):
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 10
                while "old" in storage.memory:
                    assert loop.time() < deadline, "the app did not sweep the expired state"
                    await asyncio.sleep(0.01)
                assert set(storage.memory) == {"recent"}
                sweepers = [task for task in asyncio.all_tasks() if task.get_name() == "state-sweeper"]
                assert len(sweepers) == 1
            assert sweepers[0].cancelled()

    asyncio.run(main())


class FailingOnceStore:
    """A store whose first sweep fails: the sweeper logs it and sweeps again at the next interval."""

    def __init__(self) -> None:
        self.sweeps = 0

    async def sweep_expired(self) -> int:
        self.sweeps += 1
        if self.sweeps == 1:
            raise OSError("store unreachable")
        return 3


def test_the_sweeper_sweeps_once_per_interval_and_survives_a_failed_sweep(caplog: pytest.LogCaptureFixture) -> None:
    store = FailingOnceStore()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise asyncio.CancelledError

    async def main() -> None:
        with caplog.at_level(logging.INFO, logger="bot.state_expiry"), pytest.raises(asyncio.CancelledError):
            await sweep_periodically(store, 3600.0, sleep)

    asyncio.run(main())
    assert (store.sweeps, waits) == (3, [3600.0, 3600.0, 3600.0])
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "sweeping expired conversation state failed; trying again in 3600 s",
        "swept 3 expired conversation states",
        "swept 3 expired conversation states",
    ]


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_the_store_the_settings_name_expires_after_conversation_state_days(store: str, tmp_path: Path) -> None:
    clock = FakeClock()
    location = "memory" if store == "memory" else f"sqlite:{tmp_path / 'state.sqlite'}"
    settings = BotSettings(signing_key=SIGNING_KEY, state_store=location, conversation_state_days=3)

    async def main() -> None:
        storage = create_storage(settings, clock)
        try:
            await storage.write({"k": {"n": 1}})
            clock.advance(3 * SECONDS_PER_DAY - 1)
            assert list(await storage.read(["k"])) == ["k"]
            clock.advance(1)
            assert await storage.read(["k"]) == {}
        finally:
            await close_storage(storage)

    asyncio.run(main())
