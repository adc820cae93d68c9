"""Conversation leases in the shared stores: SQLite's locking (a fake clock moves expiry) and Azure Blob leases on a
real Azurite (real time: Azure's shortest lease is 15 s). Two store objects over one file or container stand for two
bot instances."""

import asyncio
import logging
import time
import uuid
from pathlib import Path

import pytest
from azure.storage.blob.aio import BlobLeaseClient
from botbuilder.core import MemoryStorage

from bot.blob_coordination import BlobClaims, BlobLeases
from bot.blob_storage import BlobStorage, blob_name
from bot.conversation_leases import Acquired, ConversationLeases, LeaseHolder, LeaseStore
from bot.errors import ConversationBusy
from bot.outcome_claims import Claim
from bot.settings import BotSettings
from bot.sqlite_coordination import SqliteCoordination, SqliteLeases
from bot.state_expiry import SECONDS_PER_DAY, StateExpiry
from bot.storage import close_storage, create_coordination, create_storage
from tests.bot.azurite import Azurite
from tests.bot.storage_backends import TIME_TO_LIVE, FakeClock, new_container

KEY = "directline/conversation-1"
STALLED_KEY = "directline/conversation-2"
SECONDS = 15


def holder(instance: str) -> LeaseHolder:
    return LeaseHolder(str(uuid.uuid4()), instance)


def test_sqlite_lease_is_exclusive_until_released_or_lapsed_and_renewal_extends_it(tmp_path: Path) -> None:
    async def main() -> None:
        clock = FakeClock()
        first_db, second_db = (SqliteCoordination(tmp_path / "state.sqlite", clock) for _ in range(2))
        first, second = SqliteLeases(first_db), SqliteLeases(second_db)
        one, two = holder("bot-1"), holder("bot-2")
        try:
            assert await first.try_acquire(KEY, one, SECONDS) is not None
            assert await second.try_acquire(KEY, two, SECONDS) is None  # contention
            assert await second.try_acquire("directline/another", two, SECONDS) is not None  # others are free
            clock.advance(SECONDS - 1)
            assert await first.renew(KEY, one, SECONDS)
            clock.advance(SECONDS - 1)
            assert await second.try_acquire(KEY, two, SECONDS) is None  # renewed: still held
            clock.advance(2)
            taken = await second.try_acquire(KEY, two, SECONDS)  # lapsed: bot-1 stopped renewing
            assert taken is not None and taken.lapsed_holder == "bot-1"
            assert not await first.renew(KEY, one, SECONDS)  # bot-1 learns it lost the lease
            await first.release(KEY, one)  # releasing what is no longer yours leaves the new holder's lease
            assert await first.try_acquire(KEY, holder("bot-1"), SECONDS) is None
            await second.release(KEY, two)
            again = await first.try_acquire(KEY, holder("bot-1"), SECONDS)
            assert again is not None and again.lapsed_holder == ""  # released, not lapsed
        finally:
            first_db.close()
            second_db.close()

    asyncio.run(main())


def test_blob_lease_is_exclusive_until_released_or_lapsed_on_azurite(azurite: Azurite) -> None:
    async def main() -> None:
        container = new_container()
        stores = [BlobStorage(azurite.connection_string(), container, retry_total=0) for _ in range(2)]
        first, second = (BlobLeases(store.container) for store in stores)
        one, two = holder("bot-1"), holder("bot-2")
        try:
            assert await first.try_acquire(KEY, one, SECONDS) is not None  # makes the lease blob
            assert await second.try_acquire(KEY, two, SECONDS) is None
            assert await first.renew(KEY, one, SECONDS)
            assert not await second.renew(KEY, two, SECONDS)  # only the holder renews
            await second.release(KEY, two)  # nor can another release it
            assert await second.try_acquire(KEY, two, SECONDS) is None
            await first.release(KEY, one)
            stalled = holder("bot-2")
            assert await second.try_acquire(STALLED_KEY, stalled, SECONDS) is not None
            released = await second.try_acquire(KEY, two, SECONDS, refused_before=True)
            assert released == Acquired(lapsed_holder="")  # released, not lapsed
            # bot-2 stops renewing (as if killed): the lease lapses after 15 s and bot-1 gets it.
            deadline = time.monotonic() + SECONDS + 30
            taken, refused = None, False
            while time.monotonic() < deadline:
                taken = await first.try_acquire(KEY, one, SECONDS, refused_before=refused)
                if taken is not None:
                    break
                refused = True
                await asyncio.sleep(0.5)
            assert taken == Acquired(lapsed_holder="another instance"), "the lapsed blob lease was never taken over"
            assert not await second.renew(KEY, two, SECONDS)
            # Azure renews a lapsed lease for its holder while nobody has taken it: a turn that stalled past its lease
            # and was not replaced keeps its conversation (bot/conversation_leases.py's renewer relies on it).
            lease_blob = (await stores[1].container()).get_blob_client(f"leases/{blob_name(STALLED_KEY)}")
            assert (await lease_blob.get_blob_properties()).lease.state == "expired"
            assert await second.renew(STALLED_KEY, stalled, SECONDS)
            assert await first.try_acquire(STALLED_KEY, holder("bot-1"), SECONDS) is None
        finally:
            for store in stores:
                await store.close()

    asyncio.run(main())


def test_a_broken_blob_lease_is_no_longer_its_holders_and_the_conversation_is_free_at_once(azurite: Azurite) -> None:
    # Breaking is how an operator frees a conversation stuck on a lease (az storage blob lease break): Azure answers the
    # old holder's renew with 409 LeaseIsBrokenAndCannotBeRenewed, its release still succeeds, and anyone may acquire.
    async def main() -> None:
        storage = BlobStorage(azurite.connection_string(), new_container(), retry_total=0)
        leases = BlobLeases(storage.container)
        one, two = holder("bot-1"), holder("bot-2")
        try:
            assert await leases.try_acquire(KEY, one, SECONDS) is not None
            container = await storage.container()
            lease_blob = container.get_blob_client(f"leases/{blob_name(KEY)}")
            await BlobLeaseClient(lease_blob).break_lease(lease_break_period=0)
            assert not await leases.renew(KEY, one, SECONDS)
            assert await leases.try_acquire(KEY, two, SECONDS) is not None
            await leases.release(KEY, one)  # leaves bot-2's lease alone
            assert await leases.renew(KEY, two, SECONDS)
            assert await leases.try_acquire(KEY, holder("bot-1"), SECONDS) is None
        finally:
            await storage.close()

    asyncio.run(main())


def test_blob_lease_survives_a_concurrent_first_acquire_by_two_instances(azurite: Azurite) -> None:
    async def main() -> None:
        container = new_container()
        stores = [BlobStorage(azurite.connection_string(), container, retry_total=0) for _ in range(2)]
        try:
            leases = [BlobLeases(store.container) for store in stores]
            results = await asyncio.gather(*(lease.try_acquire(KEY, holder(f"bot-{n}"), SECONDS)
                                             for n, lease in enumerate(leases)))
            assert sorted(result is None for result in results) == [False, True]
        finally:
            for store in stores:
                await store.close()

    asyncio.run(main())


async def _turns_in_order(first: LeaseStore, second: LeaseStore) -> list[str]:
    """A turn of bot-1 holds the conversation; bot-2's turn of the same conversation runs only after it."""
    one = ConversationLeases(first, SECONDS, "bot-1")
    two = ConversationLeases(second, SECONDS, "bot-2")
    order: list[str] = []
    inside = asyncio.Event()
    leave = asyncio.Event()

    async def turn_one() -> None:
        async with one.hold(KEY):
            order.append("bot-1 in")
            inside.set()
            await leave.wait()
            order.append("bot-1 out")

    async def turn_two() -> None:
        async with two.hold(KEY):
            order.append("bot-2 in")

    task = asyncio.create_task(turn_one())
    await inside.wait()
    waiting = asyncio.create_task(turn_two())
    async with two.hold("directline/another"):  # another conversation is not held up
        order.append("bot-2 other")
    leave.set()
    await asyncio.gather(task, waiting)
    return order


def test_turns_of_one_conversation_on_two_instances_run_one_after_the_other_on_sqlite(tmp_path: Path) -> None:
    async def main() -> None:
        dbs = [SqliteCoordination(tmp_path / "state.sqlite") for _ in range(2)]
        try:
            order = await _turns_in_order(SqliteLeases(dbs[0]), SqliteLeases(dbs[1]))
        finally:
            for db in dbs:
                db.close()
        assert order == ["bot-1 in", "bot-2 other", "bot-1 out", "bot-2 in"]

    asyncio.run(main())


def test_turns_of_one_conversation_on_two_instances_run_one_after_the_other_on_azurite(azurite: Azurite) -> None:
    async def main() -> None:
        container = new_container()
        stores = [BlobStorage(azurite.connection_string(), container, retry_total=0) for _ in range(2)]
        try:
            order = await _turns_in_order(BlobLeases(stores[0].container), BlobLeases(stores[1].container))
        finally:
            for store in stores:
                await store.close()
        assert order == ["bot-1 in", "bot-2 other", "bot-1 out", "bot-2 in"]

    asyncio.run(main())


def test_a_turn_renews_its_lease_so_a_long_turn_keeps_the_conversation(tmp_path: Path) -> None:
    async def main() -> None:
        dbs = [SqliteCoordination(tmp_path / "state.sqlite") for _ in range(2)]
        try:
            one = ConversationLeases(SqliteLeases(dbs[0]), 1, "bot-1")
            other = SqliteLeases(dbs[1])
            async with one.hold(KEY):
                # Three lease lengths: without renewal it would have lapsed twice over.
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline:
                    assert await other.try_acquire(KEY, holder("bot-2"), 1) is None
                    await asyncio.sleep(0.1)
            assert await other.try_acquire(KEY, holder("bot-2"), 1) is not None  # released at the end
        finally:
            for db in dbs:
                db.close()

    asyncio.run(main())


def test_a_lease_held_past_the_wait_fails_the_turn_as_busy_and_a_lapsed_one_is_taken_over_and_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        dbs = [SqliteCoordination(tmp_path / "state.sqlite") for _ in range(2)]
        try:
            stuck = SqliteLeases(dbs[0])
            two = ConversationLeases(SqliteLeases(dbs[1]), 1, "bot-2")
            # bot-1 holds and keeps renewing (a stuck turn): bot-2 gives up after twice the lease.
            dead = holder("bot-1")
            assert await stuck.try_acquire(KEY, dead, 1) is not None

            async def keep_renewing() -> None:
                while True:
                    await stuck.renew(KEY, dead, 1)
                    await asyncio.sleep(0.2)

            renewing = asyncio.create_task(keep_renewing())
            with pytest.raises(ConversationBusy) as busy:
                async with two.hold(KEY):
                    raise AssertionError("the turn must not run while another instance holds the conversation")
            assert str(busy.value).startswith(f"the conversation {KEY!r} stayed leased by another bot instance for ")
            renewing.cancel()
            # bot-1 now dies without releasing: bot-2 gets the conversation once the lease lapses, and says so.
            with caplog.at_level(logging.WARNING, logger="bot.conversation_leases"):
                async with two.hold(KEY):
                    pass
            assert f"conversation lease taken over from bot-1, whose lease lapsed key={KEY}" in caplog.messages
        finally:
            for db in dbs:
                db.close()

    asyncio.run(main())


def test_the_bot_takes_leases_in_a_shared_store_and_keeps_the_in_process_lock_for_memory(
        tmp_path: Path, azurite: Azurite) -> None:
    async def main() -> None:
        kinds = {}
        for store, extra in (("memory", {}), (f"sqlite:{tmp_path / 'state.sqlite'}", {}),
                             (f"blob:{new_container()}", {"BotStateConnection": azurite.connection_string()})):
            settings = BotSettings.from_env({"OperationSigningKey": "k", "BotStateStore": store,
                                             "ConversationLeaseSeconds": "20", **extra})
            storage = create_storage(settings)
            coordination = create_coordination(settings, storage)
            kinds[store.partition(":")[0]] = (coordination.leases.shared, coordination.leases.seconds)
            async with coordination.leases.hold(KEY):  # on the store's own connection
                assert await coordination.claims.claim(f"op-{store}", "a", SECONDS) is Claim.CLAIMED
            coordination.close()
            await close_storage(storage)
        assert kinds == {"memory": (False, 15), "sqlite": (True, 20), "blob": (True, 20)}

    asyncio.run(main())


def test_the_blob_sweep_leaves_a_leased_lease_blob_and_deletes_old_unleased_ones_and_claims(azurite: Azurite) -> None:
    async def main() -> None:
        clock = FakeClock()
        storage = BlobStorage(azurite.connection_string(), new_container(), retry_total=0,
                              expiry=StateExpiry(TIME_TO_LIVE, clock))
        leases, claims = BlobLeases(storage.container), BlobClaims(storage.container, clock)
        held, idle = holder("bot-1"), holder("bot-1")
        try:
            assert await leases.try_acquire(KEY, held, SECONDS) is not None
            assert await leases.try_acquire("directline/idle", idle, SECONDS) is not None
            await leases.release("directline/idle", idle)
            assert await claims.claim("op-old", "a", SECONDS) is Claim.CLAIMED
            await claims.settle("op-old", "a")
            clock.advance(TIME_TO_LIVE + 1)
            # The idle lease blob and the old claim go; the leased blob's delete is refused (412 LeaseIdMissing).
            assert await storage.sweep_expired() == 2
            container = await storage.container()
            assert [blob.name async for blob in container.list_blobs()] == [f"leases/{blob_name(KEY)}"]
            assert await leases.renew(KEY, held, SECONDS)
        finally:
            await storage.close()

    asyncio.run(main())


def test_the_memory_stores_claims_are_kept_as_long_as_its_conversation_state() -> None:
    async def main() -> None:
        clock = FakeClock()
        days = 3
        settings = BotSettings.from_env({"OperationSigningKey": "k", "ConversationStateDays": str(days)})
        claims = create_coordination(settings, MemoryStorage(), clock).claims
        assert await claims.claim("op-old", "a", SECONDS) is Claim.CLAIMED
        await claims.settle("op-old", "a")
        clock.advance(days * SECONDS_PER_DAY - 1)
        assert await claims.claim("op-old", "b", SECONDS) is Claim.DELIVERED
        clock.advance(1)
        assert await claims.claim("op-old", "b", SECONDS) is Claim.CLAIMED

    asyncio.run(main())
