"""SqliteStorage: the botbuilder Storage contract on a real SQLite file, with eTag optimistic concurrency."""

import asyncio
from pathlib import Path

import aiohttp
import pytest
from botbuilder.core import StoreItem

from bot.errors import ETagConflict
from bot.sqlite_storage import SqliteStorage
from tests.bot.fake_operations_service import FakeOperationsService
from tests.bot.harness import make_harness, texts


def test_write_then_read_returns_the_items_with_an_etag(tmp_path: Path) -> None:
    async def main() -> None:
        storage = SqliteStorage(tmp_path / "state.sqlite")
        await storage.write({"a": {"count": 1, "names": ["x"]}, "b": StoreItem(colour="red")})
        items = await storage.read(["a", "b", "missing"])
        assert set(items) == {"a", "b"}
        a = items["a"]
        assert isinstance(a, dict)
        assert (a["count"], a["names"]) == (1, ["x"])
        assert isinstance(a["e_tag"], str) and a["e_tag"]
        b = items["b"]
        assert isinstance(b, StoreItem)
        assert b.colour == "red"
        assert await storage.read([]) == {}
        storage.close()

    asyncio.run(main())


def test_delete_removes_only_the_named_items(tmp_path: Path) -> None:
    async def main() -> None:
        storage = SqliteStorage(tmp_path / "state.sqlite")
        await storage.write({"a": {"n": 1}, "b": {"n": 2}})
        await storage.delete(["a", "never-written"])
        assert list(await storage.read(["a", "b"])) == ["b"]
        storage.close()

    asyncio.run(main())


def test_a_write_with_a_stale_etag_raises_a_conflict_and_changes_nothing(tmp_path: Path) -> None:
    async def main() -> None:
        storage = SqliteStorage(tmp_path / "state.sqlite")
        await storage.write({"k": {"n": 1}})
        first = (await storage.read(["k"]))["k"]
        second = (await storage.read(["k"]))["k"]
        first["n"] = 2
        await storage.write({"k": first})
        second["n"] = 3
        with pytest.raises(ETagConflict, match="'k'"):
            await storage.write({"k": second, "other": {"n": 9}})
        after = await storage.read(["k", "other"])
        assert after["k"]["n"] == 2
        # One transaction: the conflict kept the other change out too.
        assert "other" not in after
        storage.close()

    asyncio.run(main())


def test_a_successful_write_refreshes_the_callers_etag(tmp_path: Path) -> None:
    async def main() -> None:
        storage = SqliteStorage(tmp_path / "state.sqlite")
        await storage.write({"k": {"n": 1}})
        item = (await storage.read(["k"]))["k"]
        item["n"] = 2
        await storage.write({"k": item})
        # A second save of the same object in one turn must not conflict with its own first save.
        item["n"] = 3
        await storage.write({"k": item})
        assert (await storage.read(["k"]))["k"]["n"] == 3
        storage.close()

    asyncio.run(main())


def test_a_star_etag_overwrites_unconditionally(tmp_path: Path) -> None:
    async def main() -> None:
        storage = SqliteStorage(tmp_path / "state.sqlite")
        await storage.write({"k": {"n": 1}})
        await storage.write({"k": {"n": 5, "e_tag": "*"}})
        assert (await storage.read(["k"]))["k"]["n"] == 5
        storage.close()

    asyncio.run(main())


def test_items_survive_a_new_storage_on_the_same_file(tmp_path: Path) -> None:
    async def main() -> None:
        path = tmp_path / "nested" / "state.sqlite"
        first = SqliteStorage(path)
        await first.write({"k": StoreItem(answer=42)})
        first.close()
        second = SqliteStorage(path)
        assert (await second.read(["k"]))["k"].answer == 42
        second.close()

    asyncio.run(main())


def test_a_waiting_prompt_survives_a_bot_restart_and_gets_its_outcome(tmp_path: Path) -> None:
    async def main() -> None:
        path = tmp_path / "bot-state.sqlite"
        async with FakeOperationsService() as service, aiohttp.ClientSession() as session:
            before = make_harness(service, session, SqliteStorage(path))
            await before.say("hi")
            assert texts(await before.say("option 2")) == ["...one moment please...."]
            event = before.outcome_event(result="(Result for long operation two!)")
            before.storage.close()

            after = make_harness(service, session, SqliteStorage(path))
            assert texts(await after.say("status")) == ["Long operation option 2: progress is not available right now."]
            assert texts(await after.post(event)) == [
                "Thanks for waiting. (Result for long operation two!)",
                "Please select a long operation test option.",
            ]
            # Delivered once, across restarts too.
            restarted = make_harness(service, session, SqliteStorage(path))
            assert await restarted.post(event) == []
            after.storage.close()
            restarted.storage.close()

    asyncio.run(main())
