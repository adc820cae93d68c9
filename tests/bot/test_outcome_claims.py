"""Outcome claims in every store: of two deliveries of one outcome exactly one may send; a settled claim drops every
later one; a released or lapsed claim may be claimed again. SQLite and Blob (on Azurite) with two store objects over
the same data, as two bot instances."""

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.blob_coordination import BlobClaims
from bot.blob_storage import BlobStorage
from bot.errors import DeliveryDeferred
from bot.outcome_claims import Claim, MemoryClaims, OutcomeClaims
from bot.outcome_delivery import claimed
from bot.settings import BotSettings
from bot.sqlite_coordination import SqliteClaims, SqliteCoordination
from bot.state_expiry import DEFAULT_CONVERSATION_STATE_DAYS, SECONDS_PER_DAY, StateExpiry
from tests.bot.azurite import Azurite
from tests.bot.fake_operations_service import FakeOperationsService
from tests.bot.harness import SIGNING_KEY
from tests.bot.storage_backends import FakeClock, new_container

INSTANCE = "op-0123456789abcdef-00000000000000000000000000000000"
SECONDS = 20


@asynccontextmanager
async def two_instances(name: str, tmp_path: Path, azurite: Azurite | None, clock: FakeClock
                        ) -> AsyncIterator[tuple[OutcomeClaims, OutcomeClaims]]:
    if name == "memory":
        memory = MemoryClaims()
        yield memory, memory
    elif name == "sqlite":
        dbs = [SqliteCoordination(tmp_path / "state.sqlite", clock) for _ in range(2)]
        try:
            yield SqliteClaims(dbs[0]), SqliteClaims(dbs[1])
        finally:
            for db in dbs:
                db.close()
    else:
        assert azurite is not None
        container = new_container()
        stores = [BlobStorage(azurite.connection_string(), container, retry_total=0) for _ in range(2)]
        try:
            yield BlobClaims(stores[0].container, clock), BlobClaims(stores[1].container, clock)
        finally:
            for store in stores:
                await store.close()


@pytest.fixture(params=["memory", "sqlite", "blob"])
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _azurite_if_blob(store: str, request: pytest.FixtureRequest) -> Azurite | None:
    return request.getfixturevalue("azurite") if store == "blob" else None


def test_of_two_deliveries_at_once_exactly_one_claims_and_a_settled_claim_drops_the_rest(
        store: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    async def main() -> None:
        async with two_instances(store, tmp_path, _azurite_if_blob(store, request), FakeClock()) as (one, two):
            results = await asyncio.gather(one.claim(INSTANCE, "a", SECONDS), two.claim(INSTANCE, "b", SECONDS))
            assert sorted(result.value for result in results) == ["claimed", "in flight"]
            winner, claimant = (one, "a") if results[0] is Claim.CLAIMED else (two, "b")
            await winner.settle(INSTANCE, claimant)
            assert await one.claim(INSTANCE, "c", SECONDS) is Claim.DELIVERED
            assert await two.claim(INSTANCE, "d", SECONDS) is Claim.DELIVERED
            assert await two.claim("op-another", "d", SECONDS) is Claim.CLAIMED  # other outcomes are free

    asyncio.run(main())


def test_a_released_claim_is_claimed_again_and_only_its_claimant_releases_it(
        store: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    async def main() -> None:
        async with two_instances(store, tmp_path, _azurite_if_blob(store, request), FakeClock()) as (one, two):
            assert await one.claim(INSTANCE, "a", SECONDS) is Claim.CLAIMED
            await two.release(INSTANCE, "b")  # not b's claim
            assert await two.claim(INSTANCE, "b", SECONDS) is Claim.IN_FLIGHT
            await one.release(INSTANCE, "a")  # a's send failed
            assert await two.claim(INSTANCE, "b", SECONDS) is Claim.CLAIMED  # the retry
            await two.settle(INSTANCE, "b")
            await two.release(INSTANCE, "b")  # a settled claim stays settled
            assert await one.claim(INSTANCE, "c", SECONDS) is Claim.DELIVERED

    asyncio.run(main())


@pytest.mark.parametrize("shared", ["sqlite", "blob"])
def test_a_claim_whose_delivery_died_lapses_and_is_claimed_again(
        shared: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    async def main() -> None:
        clock = FakeClock()
        async with two_instances(shared, tmp_path, _azurite_if_blob(shared, request), clock) as (one, two):
            assert await one.claim(INSTANCE, "a", SECONDS) is Claim.CLAIMED  # and then instance one dies
            clock.advance(SECONDS - 1)
            assert await two.claim(INSTANCE, "b", SECONDS) is Claim.IN_FLIGHT
            clock.advance(2)
            assert await two.claim(INSTANCE, "b", SECONDS) is Claim.CLAIMED
            await one.settle(INSTANCE, "a")  # too late: it is b's now
            await one.release(INSTANCE, "a")
            assert await one.claim(INSTANCE, "c", SECONDS) is Claim.IN_FLIGHT
            await two.settle(INSTANCE, "b")
            assert await one.claim(INSTANCE, "c", SECONDS) is Claim.DELIVERED

    asyncio.run(main())


def test_a_delivery_settles_its_claim_when_it_sent_and_releases_it_when_the_send_failed() -> None:
    async def main() -> None:
        claims = MemoryClaims()
        with pytest.raises(DeliveryDeferred):
            async with claimed(claims, INSTANCE, SECONDS) as claim:
                assert claim
                raise DeliveryDeferred(503, "", "the channel is down")
        async with claimed(claims, INSTANCE, SECONDS) as claim:
            assert claim  # the retry claims it again
        async with claimed(claims, INSTANCE, SECONDS) as claim:
            assert not claim  # delivered: dropped
        assert await claims.claim("op-other", "x", SECONDS) is Claim.CLAIMED
        with pytest.raises(DeliveryDeferred) as in_flight:
            async with claimed(claims, "op-other", SECONDS):
                raise AssertionError("must not send while another delivery holds the claim")
        assert str(in_flight.value) == ("the channel did not take the outcome (no answer): another delivery of this "
                                        "outcome is in flight (another bot instance)")

    asyncio.run(main())


def test_the_sqlite_sweep_deletes_claims_as_old_as_the_state(tmp_path: Path) -> None:
    async def main() -> None:
        clock = FakeClock()
        db = SqliteCoordination(tmp_path / "state.sqlite", clock, StateExpiry(100, clock))
        try:
            claims = SqliteClaims(db)
            assert await claims.claim(INSTANCE, "a", SECONDS) is Claim.CLAIMED
            await claims.settle(INSTANCE, "a")
            clock.advance(50)
            assert await claims.claim("op-newer", "a", SECONDS) is Claim.CLAIMED
            await claims.settle("op-newer", "a")
            clock.advance(51)
            assert await db.sweep_expired() == 1
            assert await claims.claim(INSTANCE, "b", SECONDS) is Claim.CLAIMED
            assert await claims.claim("op-newer", "b", SECONDS) is Claim.DELIVERED
        finally:
            db.close()

    asyncio.run(main())


def test_the_app_on_a_sqlite_file_sweeps_its_old_claims_at_start_up_and_stops_sweeping_when_it_stops(
        tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"

    async def settled_at(instance_id: str, moment: float) -> None:
        db = SqliteCoordination(path, lambda: moment)
        try:
            assert await SqliteClaims(db).claim(instance_id, "a", SECONDS) is Claim.CLAIMED
            await SqliteClaims(db).settle(instance_id, "a")
        finally:
            db.close()

    def claims_left() -> set[str]:
        with sqlite3.connect(path) as connection:
            return {row[0] for row in connection.execute("SELECT instance_id FROM bot_outcome_claim")}

    async def main() -> None:
        now = time.time()
        await settled_at("op-old", now - DEFAULT_CONVERSATION_STATE_DAYS * SECONDS_PER_DAY - 60)
        await settled_at("op-recent", now - 60)
        async with FakeOperationsService() as service:
            settings = BotSettings(signing_key=SIGNING_KEY, operations_url=service.url, state_store=f"sqlite:{path}")
            async with TestClient(TestServer(create_app(settings))):
                deadline = asyncio.get_running_loop().time() + 10
                while "op-old" in claims_left():
                    assert asyncio.get_running_loop().time() < deadline, "the app did not sweep the old claim"
                    await asyncio.sleep(0.01)
                assert claims_left() == {"op-recent"}
                sweepers = [task for task in asyncio.all_tasks() if task.get_name() == "claims-sweeper"]
                assert len(sweepers) == 1
            assert sweepers[0].cancelled()

    asyncio.run(main())


def test_memory_claims_sweep_settled_claims_as_old_as_the_state_and_never_one_in_flight() -> None:
    async def main() -> None:
        clock = FakeClock()
        claims = MemoryClaims(StateExpiry(100, clock))
        assert await claims.claim(INSTANCE, "a", SECONDS) is Claim.CLAIMED
        await claims.settle(INSTANCE, "a")
        assert await claims.claim("op-in-flight", "a", SECONDS) is Claim.CLAIMED  # its delivery still sending
        clock.advance(50)
        assert await claims.claim("op-newer", "a", SECONDS) is Claim.CLAIMED
        await claims.settle("op-newer", "a")
        clock.advance(51)
        assert await claims.claim(INSTANCE, "b", SECONDS) is Claim.CLAIMED  # swept: the state that needed it is gone
        assert await claims.claim("op-newer", "b", SECONDS) is Claim.DELIVERED
        assert await claims.claim("op-in-flight", "b", SECONDS) is Claim.IN_FLIGHT
        assert len(claims) == 3

    asyncio.run(main())


def test_memory_claims_keep_at_most_their_cap_of_settled_claims_dropping_the_oldest_settled_first() -> None:
    async def main() -> None:
        claims = MemoryClaims(max_settled=2)
        assert await claims.claim("op-in-flight", "x", SECONDS) is Claim.CLAIMED
        for instance_id in ("op-1", "op-2", "op-3"):
            assert await claims.claim(instance_id, "a", SECONDS) is Claim.CLAIMED
        for instance_id in ("op-2", "op-1", "op-3"):  # settled in this order: op-2 is the oldest settled
            await claims.settle(instance_id, "a")
        assert len(claims) == 3
        assert await claims.claim("op-in-flight", "b", SECONDS) is Claim.IN_FLIGHT
        assert await claims.claim("op-1", "b", SECONDS) is Claim.DELIVERED
        assert await claims.claim("op-3", "b", SECONDS) is Claim.DELIVERED
        assert await claims.claim("op-2", "b", SECONDS) is Claim.CLAIMED

    asyncio.run(main())
