"""The botbuilder Storage contract, the same tests for every state store: memory (where it applies), SQLite
and Azure Blob Storage (against a real Azurite). eTag optimistic concurrency: a stale write raises
ETagConflict and changes nothing; items without an eTag, or with "*", are last-writer-wins."""

import asyncio
from pathlib import Path

import aiohttp
import pytest
from botbuilder.core import StoreItem

from bot.errors import ETagConflict, StorageError
from bot.state_expiry import SECONDS_PER_DAY
from tests.bot.fake_operations_service import FakeOperationsService
from tests.bot.harness import make_harness, texts
from tests.bot.storage_backends import ALL, DURABLE, TIME_TO_LIVE, Backend, make_backend, opened


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return make_backend(request.param, tmp_path, lambda: request.getfixturevalue("azurite"))


every_store = pytest.mark.parametrize("backend", ALL, indirect=True)
durable_stores = pytest.mark.parametrize("backend", DURABLE, indirect=True)


@every_store
def test_write_then_read_returns_the_items(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as storage:
            await storage.write({"a": {"count": 1, "names": ["x"]}, "b": StoreItem(colour="red")})
            items = await storage.read(["a", "b"])
            assert set(items) == {"a", "b"}
            a = items["a"]
            assert isinstance(a, dict)
            assert (a["count"], a["names"]) == (1, ["x"])
            if backend.has_etags:
                assert isinstance(a["e_tag"], str) and a["e_tag"]
            b = items["b"]
            assert isinstance(b, StoreItem)
            assert b.colour == "red"

    asyncio.run(main())


@every_store
def test_missing_keys_are_absent_not_empty(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as storage:
            assert await storage.read(["never-written"]) == {}
            assert await storage.read([]) == {}
            await storage.write({"there": {"n": 1}})
            assert list(await storage.read(["there", "never-written"])) == ["there"]

    asyncio.run(main())


@every_store
def test_delete_removes_only_the_named_items(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as storage:
            await storage.write({"a": {"n": 1}, "b": {"n": 2}})
            await storage.delete(["a", "never-written"])
            assert list(await storage.read(["a", "b"])) == ["b"]

    asyncio.run(main())


@every_store
def test_keys_with_slashes_dots_and_other_characters_are_kept_apart(backend: Backend) -> None:
    # Bot state keys look like "directline/conversations/<id>/"; ids may hold anything.
    keys = ["directline/conversations/a.b/", "directline/conversations/a%2Eb/", "x y/ü?#&=", "..", "a/b", "a%2Fb"]

    async def main() -> None:
        async with opened(backend) as storage:
            await storage.write({key: {"key": key} for key in keys})
            items = await storage.read(keys)
            assert {key: item["key"] for key, item in items.items()} == {key: key for key in keys}

    asyncio.run(main())


@durable_stores
def test_a_write_with_a_stale_etag_raises_a_conflict_and_changes_nothing(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as storage:
            await storage.write({"k": {"n": 1}})
            first = (await storage.read(["k"]))["k"]
            second = (await storage.read(["k"]))["k"]
            first["n"] = 2
            await storage.write({"k": first})
            second["n"] = 3
            with pytest.raises(ETagConflict, match="'k'"):
                await storage.write({"k": second})
            with pytest.raises(ETagConflict, match="'k'"):
                await storage.write({"k": second, "other": {"n": 9}})
            after = await storage.read(["k", "other"])
            assert after["k"]["n"] == 2
            # A batch with a stale item stores none of its changes.
            assert "other" not in after

    asyncio.run(main())


@durable_stores
def test_a_write_with_the_etag_of_a_deleted_item_conflicts(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as storage:
            await storage.write({"k": {"n": 1}})
            item = (await storage.read(["k"]))["k"]
            await storage.delete(["k"])
            item["n"] = 2
            with pytest.raises(ETagConflict):
                await storage.write({"k": item})
            assert await storage.read(["k"]) == {}

    asyncio.run(main())


@durable_stores
def test_of_two_writers_with_the_same_etag_exactly_one_wins(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as one, opened(backend) as two:
            await one.write({"k": {"n": 0}})
            mine = (await one.read(["k"]))["k"]
            theirs = (await two.read(["k"]))["k"]
            mine["n"], theirs["n"] = 1, 2
            results = await asyncio.gather(one.write({"k": mine}), two.write({"k": theirs}), return_exceptions=True)
            conflicts = [result for result in results if isinstance(result, ETagConflict)]
            assert len(conflicts) == 1 and results.count(None) == 1
            winner = 1 if results[0] is None else 2
            assert (await one.read(["k"]))["k"]["n"] == winner

    asyncio.run(main())


@durable_stores
def test_a_successful_write_refreshes_the_callers_etag(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as storage:
            await storage.write({"k": {"n": 1}})
            item = (await storage.read(["k"]))["k"]
            item["n"] = 2
            await storage.write({"k": item})
            # A second save of the same object in one turn must not conflict with its own first save.
            item["n"] = 3
            await storage.write({"k": item})
            assert (await storage.read(["k"]))["k"]["n"] == 3

    asyncio.run(main())


@durable_stores
def test_a_star_etag_overwrites_unconditionally(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as storage:
            await storage.write({"k": {"n": 1}})
            await storage.write({"k": {"n": 5, "e_tag": "*"}})
            assert (await storage.read(["k"]))["k"]["n"] == 5

    asyncio.run(main())


@durable_stores
def test_an_empty_etag_is_refused(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as storage:
            with pytest.raises(StorageError, match="empty eTag"):
                await storage.write({"k": {"n": 1, "e_tag": ""}})
            assert await storage.read(["k"]) == {}

    asyncio.run(main())


@durable_stores
def test_items_survive_a_new_storage_over_the_same_data(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as first:
            await first.write({"k": StoreItem(answer=42)})
        async with opened(backend) as second:
            assert (await second.read(["k"]))["k"].answer == 42

    asyncio.run(main())


@durable_stores
def test_a_waiting_prompt_survives_a_bot_restart_and_gets_its_outcome(backend: Backend) -> None:
    async def main() -> None:
        async with FakeOperationsService() as service, aiohttp.ClientSession() as session:
            async with opened(backend) as storage:
                before = make_harness(service, session, storage)
                await before.say("hi")
                assert texts(await before.say("option 2")) == ["...one moment please...."]
                event = before.outcome_event(result="(Result for long operation two!)")

            async with opened(backend) as storage:
                after = make_harness(service, session, storage)
                assert texts(await after.say("status")) == [
                    "Long operation option 2: progress is not available right now."
                ]
                assert texts(await after.post(event)) == [
                    "Thanks for waiting. (Result for long operation two!)",
                    "Please select a long operation test option.",
                ]
            # Delivered once, across restarts too.
            async with opened(backend) as storage:
                restarted = make_harness(service, session, storage)
                assert await restarted.post(event) == []

    asyncio.run(main())


# Expiry: an item ConversationStateDays (TIME_TO_LIVE here) after its last write reads as absent, and the sweep
# deletes it. The backend's clock is moved instead of waiting.


@every_store
def test_an_item_reads_as_absent_once_its_time_to_live_has_passed_since_its_last_write(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as storage:
            await storage.write({"k": {"n": 1}, "other": {"n": 2}})
            backend.clock.advance(TIME_TO_LIVE - 1)
            assert set(await storage.read(["k", "other"])) == {"k", "other"}
            await storage.write({"other": {"n": 3}})
            backend.clock.advance(1)
            # "k" was last written exactly TIME_TO_LIVE ago; "other" was written again, one second ago.
            assert list(await storage.read(["k", "other"])) == ["other"]

    asyncio.run(main())


@every_store
def test_an_expired_item_is_replaced_by_a_fresh_write_as_a_new_conversation_would(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as storage:
            await storage.write({"k": {"n": 1}})
            backend.clock.advance(TIME_TO_LIVE)
            assert await storage.read(["k"]) == {}
            # ConversationState writes what it read as absent without an eTag: last writer wins.
            await storage.write({"k": {"n": 2}})
            assert (await storage.read(["k"]))["k"]["n"] == 2
            backend.clock.advance(TIME_TO_LIVE - 1)
            assert (await storage.read(["k"]))["k"]["n"] == 2

    asyncio.run(main())


@every_store
def test_the_sweep_deletes_the_expired_items_and_only_those(backend: Backend) -> None:
    # More expired items than one round of deletes takes (16 blobs, bot/blob_storage.py).
    old = [f"directline/conversations/old-{i}/" for i in range(20)]

    async def main() -> None:
        async with opened(backend) as storage:
            start = backend.clock.now
            await storage.write({key: {"key": key} for key in old})
            backend.clock.advance(10 * SECONDS_PER_DAY)
            await storage.write({"recent": {"n": 1}})
            backend.clock.advance(TIME_TO_LIVE - 10 * SECONDS_PER_DAY)
            assert await storage.sweep_expired() == len(old)
            assert await storage.sweep_expired() == 0
            # Deleted, not just hidden: with the clock back at the start they would read again.
            backend.clock.now = start
            assert list(await storage.read([*old, "recent"])) == ["recent"]

    asyncio.run(main())


@durable_stores
def test_expiry_survives_a_new_storage_over_the_same_data(backend: Backend) -> None:
    async def main() -> None:
        async with opened(backend) as first:
            await first.write({"k": {"n": 1}})
        backend.clock.advance(TIME_TO_LIVE)
        async with opened(backend) as second:
            assert await second.read(["k"]) == {}

    asyncio.run(main())
