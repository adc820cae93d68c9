"""The botbuilder Storage contract, the same tests for every state store: memory (where it applies), SQLite
and Azure Blob Storage (against a real Azurite). eTag optimistic concurrency: a stale write raises
ETagConflict and changes nothing; items without an eTag, or with "*", are last-writer-wins."""

import asyncio
from pathlib import Path

import aiohttp
import pytest
from botbuilder.core import StoreItem

from bot.errors import ETagConflict, StorageError
from tests.bot.fake_operations_service import FakeOperationsService
from tests.bot.harness import make_harness, texts
from tests.bot.storage_backends import ALL, DURABLE, Backend, make_backend, opened


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
